"""The association engine and ``igkg associate``: numbers equal scipy.stats on real data.

Real inputs: the NSCLC Radiogenomics feature table (117 subjects, 107 pyradiomics
features, EGFR status 0/1), TCIA's NSCLC clinical table, and the TCGA-GBM VASARI traits
and expression matrix. The reference is scipy run on the columns pandas reads from the
raw files; nothing is compared against numbers our own code produced.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kg import KnowledgeGraph
from kg.analysis.associations import (
    METHODS,
    AssociationError,
    associate,
    benjamini_hochberg,
    gene_set_scores,
    rank_columns,
    read_gmt,
    run_analysis,
    write_run,
)
from kg.analysis.conflicts import marker_conflicts

FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
CLINICAL = "radiogenomics/nsclc_clinical_tcia.csv"
EGFR = "EGFR mutation status"


@pytest.fixture(scope="module")
def nsclc(shared_data: Path) -> pd.DataFrame:
    """The raw NSCLC feature table as pandas reads it."""
    return pd.read_csv(shared_data / FEATURES).set_index("Case ID")


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("original_")]


def scipy_egfr(frame: pd.DataFrame) -> pd.DataFrame:
    """scipy's Mann-Whitney U (mutant vs wildtype), p and BH q for every feature."""
    mutant = frame[EGFR] == 1
    rows = []
    for column in feature_columns(frame):
        res = stats.mannwhitneyu(frame.loc[mutant, column], frame.loc[~mutant, column], alternative="two-sided")
        rows.append((column, res.statistic, res.pvalue))
    ref = pd.DataFrame(rows, columns=["feature", "U", "p"]).set_index("feature")
    ref["q"] = stats.false_discovery_control(ref["p"])
    return ref


def igkg(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IGKG_STORE": str(store)}
    result = subprocess.run([sys.executable, "-m", "kg.cli", *args], check=False, capture_output=True, text=True, env=env, timeout=300)
    if result.returncode != 0:
        raise AssertionError(f"igkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


# ---------------------------------------------------------------------- the CLI on real data
@pytest.mark.slow
def test_cli_egfr_mann_whitney_equals_scipy_and_graph_answers(tmp_path: Path, shared_data: Path, nsclc: pd.DataFrame) -> None:
    store = tmp_path / "store"
    igkg("load", str(shared_data / FEATURES), "--kind", "radiomics-csv", store=store)
    out = tmp_path / "egfr.csv"
    igkg("associate", "--marker", EGFR, "--q-max", "0.5", "--output", str(out), store=store)
    text = out.read_text().splitlines()
    assert text[0] == "feature,target,method,statistic,effect_size,p,q,n"
    ours = pd.read_csv(out).set_index("feature")
    ref = scipy_egfr(nsclc)
    assert sorted(ours.index) == sorted(ref.index) and len(ours) == 107
    joined = ours.join(ref.rename(columns={"p": "p_scipy", "q": "q_scipy"}))
    np.testing.assert_allclose(joined["statistic"], joined["U"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(joined["p"], joined["p_scipy"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(joined["q"], joined["q_scipy"], rtol=1e-9, atol=0)
    mutant, wild = (nsclc[EGFR] == 1).sum(), (nsclc[EGFR] == 0).sum()
    np.testing.assert_allclose(joined["effect_size"], joined["U"] / (mutant * wild), rtol=1e-12)
    assert set(ours["n"]) == {117} and set(ours["method"]) == {"mannwhitney"} and set(ours["target"]) == {EGFR}

    with KnowledgeGraph(store) as kg:
        for q_max in (0.05, 0.5):
            answer = kg.query(
                f"""SELECT ?name ?q WHERE {{
                     ?a a igkg:RadiogenomicAssociation ; igkg:feature ?f ; igkg:target ?m ; igkg:qValue ?q ;
                        igkg:method <http://purl.obolibrary.org/obo/STATO_0000076> .
                     ?f igkg:pyradiomicsName ?name . ?m rdfs:label "EGFR mutation status" .
                     FILTER(?q < {q_max:f}) }}"""
            )
            assert set(answer["name"]) == set(ref.index[ref["q"] < q_max])
        assert set(ref.index[ref["q"] < 0.5])  # the 0.5 query is not vacuous
        run = kg.query(
            """SELECT ?run ?used ?params WHERE { ?a a igkg:RadiogenomicAssociation ; prov:wasGeneratedBy ?run .
               ?run a igkg:AnalysisRun, prov:Activity ; prov:used ?used ; igkg:parameters ?params }"""
        )
        assert run["used"].str.contains("radiomics-csv").all()
        assert '"method": "mannwhitney"' in run["params"].iloc[0]


def loaded(kg: KnowledgeGraph, shared_data: Path, *, clinical: bool = False) -> KnowledgeGraph:
    kg.load(shared_data / FEATURES, kind="radiomics-csv")
    if clinical:
        kg.load(shared_data / CLINICAL, kind="clinical")
    return kg


def test_rerun_is_a_no_op_and_other_parameters_add_a_run(kg: KnowledgeGraph, shared_data: Path) -> None:
    loaded(kg, shared_data)
    first = run_analysis(kg, markers=["EGFR"], q_max=0.5)
    assert not write_run(kg, first).skipped
    again = run_analysis(kg, markers=["EGFR"], q_max=0.5)
    assert again.run_id == first.run_id and write_run(kg, again).skipped
    other = run_analysis(kg, markers=["EGFR"], q_max=0.5, method="pointbiserial")
    assert other.run_id != first.run_id
    write_run(kg, other)
    runs = kg.query("SELECT ?run ?m WHERE { ?run a igkg:AnalysisRun ; igkg:methodName ?m }")
    assert sorted(runs["m"]) == ["mannwhitney", "pointbiserial"]
    sources = kg.graphs()["source"].tolist()
    assert f"associations/{first.run_id}" in sources and f"associations/{other.run_id}" in sources


def test_marker_named_by_gene_or_column(kg: KnowledgeGraph, shared_data: Path) -> None:
    loaded(kg, shared_data)
    by_gene = run_analysis(kg, markers=["EGFR"], q_max=0.5).results
    by_column = run_analysis(kg, markers=[EGFR], q_max=0.5).results
    pd.testing.assert_frame_equal(by_gene, by_column)
    with pytest.raises(AssociationError, match="no marker 'KRAS'"):
        run_analysis(kg, markers=["KRAS"])


def test_conflicting_egfr_status_is_kept_and_reported(kg: KnowledgeGraph, shared_data: Path, nsclc: pd.DataFrame) -> None:
    loaded(kg, shared_data, clinical=True)
    clinical = pd.read_csv(shared_data / CLINICAL).set_index("Patient ID")
    both = nsclc[[EGFR]].join(clinical[[EGFR]].rename(columns={EGFR: EGFR + "_tcia"}), how="inner")
    disagree = both[((both[EGFR] == 1) & (both[EGFR + "_tcia"] == "Wildtype")) | ((both[EGFR] == 0) & (both[EGFR + "_tcia"] == "Mutant"))]
    assert len(disagree) >= 1
    conflicts = marker_conflicts(kg)
    assert set(conflicts["subject_id"]) == set(disagree.index)
    assert conflicts.groupby("subject_id")["graph"].nunique().eq(2).all()
    statements = kg.query(
        "SELECT ?status WHERE { ?ms a igkg:MarkerStatus ; igkg:subject ?s ; igkg:status ?status . ?s igkg:identifier ?id }",
        {"id": disagree.index[0]},
    )
    assert len(statements) >= 3  # EGFR from both sources, KRAS and ALK from the clinical table
    run = run_analysis(kg, markers=["EGFR"], q_max=0.5)
    assert set(run.conflicts["subject_id"]) == set(disagree.index)
    assert any("disagree" in note for note in run.notes)
    assert set(run.results["n"]) == {117 - len(disagree)}
    # Choosing one source uses its statuses only (no subject left out for a conflict).
    from_features = run_analysis(kg, markers=["EGFR"], q_max=0.5, marker_source=Path(FEATURES).name)
    assert set(from_features.results["n"]) == {117}


@pytest.mark.slow
def test_cli_reports_the_conflict(tmp_path: Path, shared_data: Path) -> None:
    store = tmp_path / "store"
    igkg("load", str(shared_data / FEATURES), "--kind", "radiomics-csv", store=store)
    loaded = igkg("load", str(shared_data / CLINICAL), "--kind", "clinical", store=store)
    assert "conflict: EGFR mutation status of R01-012" in loaded.stdout and "(both kept)" in loaded.stdout
    result = igkg("associate", "--marker", "EGFR", "--no-graph", store=store)
    assert "conflicts: 1 subject" in result.stderr and "R01-012" in result.stderr


def test_marker_with_a_third_value_is_refused(kg: KnowledgeGraph, shared_data: Path) -> None:
    from loaders import _shapes as model
    from loaders._contract import LoadContext

    loaded(kg, shared_data)
    context, triples = LoadContext(), []
    subject = model.subject(context, "R01-003", triples)
    node = model.marker(context, EGFR, triples)
    model.marker_status(context, triples, source_key="odd.csv", subject_node=subject, subject_id="R01-003", marker_node=node, status="2")
    kg.ingest("test/odd", triples, kind="test")
    with pytest.raises(AssociationError, match="statuses 2, Mutant, Wildtype"):
        run_analysis(kg, markers=["EGFR"])


# ---------------------------------------------------------------------- engine vs scipy
def test_mann_whitney_and_point_biserial_frames(nsclc: pd.DataFrame) -> None:
    features = nsclc[feature_columns(nsclc)]
    result = associate(features, nsclc[[EGFR]], method="mannwhitney").set_index("feature")
    ref = scipy_egfr(nsclc)
    np.testing.assert_allclose(result.loc[ref.index, "p"], ref["p"], rtol=1e-9)
    np.testing.assert_allclose(result.loc[ref.index, "q"], ref["q"], rtol=1e-9)
    assert result.attrs["tests"] == 107
    pb = associate(features, nsclc[[EGFR]], method="pointbiserial").set_index("feature")
    for column in feature_columns(nsclc)[::7]:
        r, p = stats.pointbiserialr(nsclc[EGFR], nsclc[column])
        assert pb.loc[column, "statistic"] == pytest.approx(r, abs=1e-12)
        assert pb.loc[column, "p"] == pytest.approx(p, rel=1e-9)
    np.testing.assert_allclose(pb["bonferroni"], np.minimum(pb["p"] * 107, 1), rtol=1e-12)


def test_mann_whitney_exact_branch_for_small_groups(nsclc: pd.DataFrame) -> None:
    # Seven mutant vs fifteen wildtype subjects: scipy's "auto" picks the exact distribution
    # for tie-free features; the engine must pick it too.
    small = pd.concat([nsclc[nsclc[EGFR] == 1].head(7), nsclc[nsclc[EGFR] == 0].head(15)])
    columns = feature_columns(small)
    result = associate(small[columns], small[[EGFR]], method="mannwhitney", min_n=5).set_index("feature")
    mutant = small[EGFR] == 1
    for column in columns:
        res = stats.mannwhitneyu(small.loc[mutant, column], small.loc[~mutant, column], alternative="two-sided")
        assert result.loc[column, "statistic"] == res.statistic
        assert result.loc[column, "p"] == pytest.approx(res.pvalue, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_correlations_equal_scipy_on_real_features(nsclc: pd.DataFrame, method: str) -> None:
    columns = feature_columns(nsclc)
    features, targets = nsclc[columns[:30]], nsclc[columns[30:]]
    result = associate(features, targets, method=method)
    assert len(result) == 30 * 77 == result.attrs["tests"]
    function = stats.spearmanr if method == "spearman" else stats.pearsonr
    ref_p = []
    for row in result.itertuples():
        res = function(nsclc[row.feature], nsclc[row.target])
        assert row.statistic == pytest.approx(res.statistic, abs=1e-12)
        assert row.p == pytest.approx(res.pvalue, rel=1e-9, abs=1e-300)
        ref_p.append(res.pvalue)
    np.testing.assert_allclose(result["q"], stats.false_discovery_control(ref_p), rtol=1e-9)


def test_significant_only_equals_the_full_analysis(nsclc: pd.DataFrame) -> None:
    columns = feature_columns(nsclc)
    features, targets = nsclc[columns[:40]], nsclc[columns[40:]]
    for method in ("spearman", "pearson"):
        full = associate(features, targets, method=method, q_max=0.01)
        fast = associate(features, targets, method=method, q_max=0.01, only_significant=True)
        expected = full[full["q"] <= 0.01].sort_values(["feature", "target"]).reset_index(drop=True)
        got = fast.sort_values(["feature", "target"]).reset_index(drop=True)
        assert len(got) > 0 and fast.attrs["tests"] == full.attrs["tests"]
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)


def test_pairwise_missing_values_match_scipy_on_complete_pairs(nsclc: pd.DataFrame) -> None:
    columns = feature_columns(nsclc)
    features = nsclc[columns[:12]].copy()
    targets = nsclc[columns[50:62]].copy()
    rng = np.random.default_rng(7)
    for frame in (features, targets):
        for column in frame.columns[::2]:
            frame.loc[frame.sample(n=int(rng.integers(1, 20)), random_state=int(rng.integers(1e6))).index, column] = np.nan
    result = associate(features, targets, method="spearman", min_n=10)
    assert len(result) == 144
    for row in result.itertuples():
        both = pd.concat([features[row.feature], targets[row.target]], axis=1).dropna()
        res = stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1])
        assert row.n == len(both)
        assert row.statistic == pytest.approx(res.statistic, abs=1e-12)
        assert row.p == pytest.approx(res.pvalue, rel=1e-9)
    fewer = associate(features, targets, method="spearman", min_n=110)
    assert (fewer["n"] >= 110).all() and fewer.attrs["tests"] < 144


def test_kruskal_wallis_on_vasari_traits_and_tcga_expression(shared_data: Path) -> None:
    folder = shared_data / "radiogenomics" / "tcga_gbm"
    vasari = pd.read_csv(folder / "vasari_annotations.csv", index_col=0)
    traits = vasari[[c for c in vasari.columns if c.startswith("f")]]
    expression = pd.read_csv(folder / "TCGA_unified_CORE_ClaNC840.txt", sep="\t", skiprows=[1], index_col=0).iloc[:, 1:]
    expression = expression.T
    expression.index = expression.index.str[:12]
    genes = expression.iloc[:, :60]
    result = associate(traits, genes, method="kruskal", min_n=5)
    assert len(result) > 0
    common = traits.index.intersection(genes.index)
    for row in result.sample(n=min(60, len(result)), random_state=1).itertuples():
        trait, values = traits.loc[common, row.feature], genes.loc[common, row.target]
        groups = [values[trait == level] for level in sorted(trait.dropna().unique())]
        res = stats.kruskal(*groups)
        assert row.statistic == pytest.approx(res.statistic, rel=1e-9)
        assert row.p == pytest.approx(res.pvalue, rel=1e-9)
        assert row.effect_size == pytest.approx(res.statistic / (row.n - 1), rel=1e-12)


def test_benjamini_hochberg_and_ranks_equal_scipy(nsclc: pd.DataFrame) -> None:
    p = scipy_egfr(nsclc)["p"].to_numpy()
    np.testing.assert_allclose(benjamini_hochberg(p), stats.false_discovery_control(p), rtol=1e-12)
    values = nsclc[feature_columns(nsclc)].round(1).to_numpy()  # rounding makes ties
    ranks, ties = rank_columns(values)
    np.testing.assert_array_equal(ranks, stats.rankdata(values, axis=0))
    for j in range(values.shape[1]):
        _, counts = np.unique(values[:, j], return_counts=True)
        assert ties[j] == float((counts**3 - counts).sum())


def test_stato_terms() -> None:
    assert str(METHODS["spearman"].stato).endswith("STATO_0000201")
    assert str(METHODS["pearson"].stato).endswith("STATO_0000280")
    assert str(METHODS["mannwhitney"].stato).endswith("STATO_0000076")
    assert str(METHODS["kruskal"].stato).endswith("STATO_0000094")


def test_bad_inputs_get_clear_errors(nsclc: pd.DataFrame) -> None:
    features = nsclc[feature_columns(nsclc)[:3]]
    three = nsclc[[EGFR]].copy()
    three.iloc[:5, 0] = 2
    with pytest.raises(AssociationError, match="binary test needs two groups"):
        associate(features, three, method="mannwhitney")
    words = nsclc[["Smoking status"]]
    with pytest.raises(AssociationError, match="non-numeric value 'Current'"):
        associate(features, words, method="spearman")
    with pytest.raises(AssociationError, match="unknown method"):
        associate(features, nsclc[[EGFR]], method="ttest")


def test_gene_set_scores_from_hallmark_gmt(shared_data: Path) -> None:
    sets = read_gmt(str(shared_data / "genesets" / "gseapy_h.all.v7.0.symbols.gmt"))
    assert len(sets) == 50
    folder = shared_data / "radiogenomics" / "tcga_gbm"
    expression = pd.read_csv(folder / "TCGA_unified_CORE_ClaNC840.txt", sep="\t", skiprows=[1], index_col=0).iloc[:, 1:].T
    scores, used = gene_set_scores(expression, sets, min_genes=3)
    assert used and set(scores.columns) == set(used)
    name = next(iter(used))
    members = [g for g in next(s for s in sets if s.name == name).genes if g in expression.columns]
    z = (expression[members] - expression[members].mean()) / expression[members].std(ddof=1)
    np.testing.assert_allclose(scores[name], z.mean(axis=1), rtol=1e-12)


# ---------------------------------------------------------------------- traits x genes from the graph
VASARI_ORDER = {
    "f5.proportion.enhancing": ["Minimal", "Less than 1/3", "Between 1/3 and 2/3", "More than 2/3"],
}


def vasari_traits(kg: KnowledgeGraph, shared_data: Path) -> pd.DataFrame:
    """The real VASARI annotations stated as semantic traits (categories with ranks where ordered)."""
    from rdflib import Literal
    from rdflib.namespace import RDF, RDFS, XSD

    from kg.core.namespaces import IGKG
    from loaders import _shapes as model
    from loaders._contract import LoadContext

    vasari = pd.read_csv(shared_data / "radiogenomics" / "tcga_gbm" / "vasari_annotations.csv", index_col=0)
    columns = [c for c in vasari.columns if c.startswith("f")]
    context, triples = LoadContext(), []
    for column in columns:
        trait = context.mint("trait", column)
        triples += [(trait, RDF.type, IGKG.ImagingTrait), (trait, RDFS.label, Literal(column))]
        order = VASARI_ORDER.get(column, sorted(vasari[column].dropna().unique()))
        for rank, level in enumerate(order):
            category = context.mint("trait-category", column, level)
            triples += [(category, RDF.type, IGKG.TraitCategory), (category, RDFS.label, Literal(level)), (trait, IGKG.category, category),
                        (category, IGKG.rank, Literal(rank, datatype=XSD.integer))]
        for subject_id, level in vasari[column].dropna().items():
            subject = model.subject(context, str(subject_id), triples)
            node = context.mint("measurement", "vasari", subject_id, column)
            triples += [(node, RDF.type, IGKG.FeatureMeasurement), (node, IGKG.feature, trait), (node, IGKG.subject, subject),
                        (node, IGKG.category, context.mint("trait-category", column, level))]
    matrix = vasari[columns].reset_index(names="subject")
    matrix["subject"] = [str(model.subject(context, str(s), [])) for s in matrix["subject"]]
    iris = {column: str(context.mint("trait", column)) for column in columns}
    kg.ingest("test/vasari", triples, kind="test", tables={"traits": ("traits", matrix, iris)})
    return vasari[columns]


def test_traits_against_genes_through_the_graph(kg: KnowledgeGraph, shared_data: Path, tmp_path: Path) -> None:
    traits = vasari_traits(kg, shared_data)
    lines = (shared_data / "radiogenomics" / "tcga_gbm" / "TCGA_unified_CORE_ClaNC840.txt").read_text().splitlines()
    head = tmp_path / "tcga_head_expression.txt"
    head.write_text("\n".join(lines[:42]) + "\n")
    kg.load(head, kind="expression", sample_rule="tcga", header_rows=2, annotation_columns="2")
    expression = pd.read_csv(head, sep="\t", skiprows=[1], index_col=0).iloc[:, 1:].T
    expression.index = expression.index.str[:12]
    common = traits.index.intersection(expression.index)
    assert len(common) >= 5

    kw = run_analysis(kg, genes=True, method="kruskal", min_n=5, q_max=1.0).results
    assert len(kw) > 0 and set(kw["method"]) == {"kruskal"}
    for row in kw.head(40).itertuples():
        trait, values = traits.loc[common, row.feature], expression.loc[common, row.target]
        groups = [values[trait == level] for level in sorted(trait.dropna().unique())]
        res = stats.kruskal(*groups)
        assert row.statistic == pytest.approx(res.statistic, rel=1e-9) and row.p == pytest.approx(res.pvalue, rel=1e-9)

    ordinal = run_analysis(kg, genes=True, method="spearman", traits=True, min_n=5, q_max=1.0).results
    order = VASARI_ORDER["f5.proportion.enhancing"]
    ranks = traits.loc[common, "f5.proportion.enhancing"].map(order.index)
    assert (ordinal["feature"] == "f5.proportion.enhancing").sum() == 40
    for row in ordinal[ordinal["feature"] == "f5.proportion.enhancing"].itertuples():
        res = stats.spearmanr(ranks, expression.loc[common, row.target])
        assert row.statistic == pytest.approx(res.statistic, abs=1e-12) and row.p == pytest.approx(res.pvalue, rel=1e-9)


@pytest.mark.slow
def test_pathway_scores_from_gmt_file_and_from_the_graph(kg: KnowledgeGraph, shared_data: Path, tmp_path: Path) -> None:
    gmt = shared_data / "genesets" / "gseapy_h.all.v7.0.symbols.gmt"
    sets = read_gmt(str(gmt))
    members = {g for s in sets for g in s.genes}
    traits = vasari_traits(kg, shared_data)
    lines = (shared_data / "radiogenomics" / "tcga_gbm" / "TCGA_unified_CORE_ClaNC840.txt").read_text().splitlines()
    chosen = [line for line in lines[2:] if line.split("\t", 1)[0] in members]
    head = tmp_path / "tcga_hallmark_expression.txt"
    head.write_text("\n".join(lines[:2] + chosen) + "\n")
    kg.load(head, kind="expression", sample_rule="tcga", header_rows=2, annotation_columns="2")
    expression = pd.read_csv(head, sep="\t", skiprows=[1], index_col=0).iloc[:, 1:].T
    expression.index = expression.index.str[:12]

    run = run_analysis(kg, pathways=str(gmt), method="kruskal", min_n=5, q_max=1.0)
    results = run.results
    assert len(results) > 0
    common = traits.index.intersection(expression.index)
    z = (expression - expression.mean()) / expression.std(ddof=1)
    for row in results.head(30).itertuples():
        genes = [g for g in next(s for s in sets if s.name == row.target).genes if g in expression.columns]
        assert len(genes) >= 3
        score = z[genes].mean(axis=1).loc[common]
        trait = traits.loc[common, row.feature]
        res = stats.kruskal(*[score[trait == level] for level in sorted(trait.dropna().unique())])
        assert row.statistic == pytest.approx(res.statistic, rel=1e-9) and row.p == pytest.approx(res.pvalue, rel=1e-9)
    write_run(kg, run)
    targets = kg.query("SELECT DISTINCT ?t WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:target ?t }")
    assert targets["t"].str.contains("/geneset/gseapy_h.all.v7.0.symbols/HALLMARK_").all()

    kg.load(gmt, kind="gmt")
    from_graph = run_analysis(kg, pathways="graph", method="kruskal", min_n=5, q_max=1.0).results
    pd.testing.assert_frame_equal(
        from_graph.sort_values(["feature", "target"]).reset_index(drop=True),
        results.sort_values(["feature", "target"]).reset_index(drop=True),
    )


def test_cohort_restricts_subjects_and_is_recorded(kg: KnowledgeGraph, shared_data: Path) -> None:
    kg.load(shared_data / FEATURES, kind="radiomics-csv", cohort="NSCLC-Radiogenomics")
    everyone = run_analysis(kg, markers=["EGFR"], q_max=0.5)
    cohort = run_analysis(kg, markers=["EGFR"], q_max=0.5, cohort="NSCLC-Radiogenomics")
    pd.testing.assert_frame_equal(cohort.results, everyone.results)
    assert cohort.run_id != everyone.run_id
    write_run(kg, cohort)
    recorded = kg.query("SELECT DISTINCT ?c WHERE { ?a a igkg:RadiogenomicAssociation ; igkg:cohort ?c . ?c rdfs:label ?l }")
    assert recorded["c"].tolist() == ["https://w3id.org/igkg/id/cohort/NSCLC-Radiogenomics"]
    with pytest.raises(AssociationError, match="no subjects in cohort 'TCGA-GBM'; cohorts in the store: NSCLC-Radiogenomics"):
        run_analysis(kg, markers=["EGFR"], cohort="TCGA-GBM")
