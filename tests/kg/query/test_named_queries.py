"""Named queries on real sample data; every expected answer is read off the source file with pandas
(association statistics recomputed with scipy on the raw table), never by another SPARQL query."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from kg import KnowledgeGraph
from kg.analysis.reasoning import materialise
from kg.cli import app
from kg.core.errors import UnknownQuery
from kg.core.namespaces import HP, IGKG, MESH
from kg.query.named import Param, coerce, load_queries, parse_named_query

ROOT = Path(__file__).resolve().parents[3]
FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
CLINICAL = "radiogenomics/nsclc_clinical_tcia.csv"
TEXTURE = ("glcm", "glrlm", "glszm", "gldm", "ngtdm")


def build_store(kg: KnowledgeGraph, shared: Path) -> None:
    """The graph the tests ask: references, the NSCLC features and clinical table, one EGFR analysis."""
    from kg.analysis.associations import run_analysis, write_run

    for path, kind, options in [
        (ROOT / "ontologies/igkg.ttl", "rdf", {}),
        (shared / "genes/scout_hgnc_reduced_set.txt", "hgnc", {}),
        (shared / "obo/oak_go-nucleus.obo", "obo", {}),
        (shared / "obo/oak_mondo-sample-mappings.obo", "obo", {}),
        (shared / "obo/scout_reduced.hpo.obo", "obo", {}),
        (shared / "mesh/samples.nt", "mesh-rdf", {}),
        (shared / FEATURES, "radiomics-csv", {"cohort": "NSCLC-Radiogenomics"}),
        (shared / CLINICAL, "clinical", {"cohort": "NSCLC-Radiogenomics"}),
    ]:
        kg.load(path, kind=kind, **options)
    run = run_analysis(kg, markers=["EGFR"], q_max=1.0, marker_source=Path(FEATURES).name)
    write_run(kg, run)
    materialise(kg)


@pytest.fixture
def graph(shared_data: Path, store_template: Callable[..., Path], fresh_store: Callable[[Path], Path]) -> Iterator[KnowledgeGraph]:
    """A fresh copy of the store for each test (built once per session: building takes several seconds)."""
    template = store_template("named-queries", lambda kg: build_store(kg, shared_data))
    with KnowledgeGraph(fresh_store(template)) as kg:
        yield kg


@pytest.fixture(scope="module")
def table(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / FEATURES)


def feature_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if re.match(r"^original_(shape|firstorder|glcm|glrlm|glszm|gldm|ngtdm)_", c)]


@pytest.fixture(scope="module")
def egfr_reference(table: pd.DataFrame) -> pd.DataFrame:
    """Mann-Whitney U of every feature column against the EGFR column, BH q: scipy on the raw table."""
    status = table["EGFR mutation status"]
    rows = []
    for column in feature_columns(table):
        frame = pd.DataFrame({"x": table[column], "y": status}).dropna()
        mutant, wildtype = frame.x[frame.y == 1], frame.x[frame.y == 0]
        result = stats.mannwhitneyu(mutant, wildtype, alternative="two-sided")
        rows.append({"feature": column, "p": result.pvalue, "n": len(frame)})
    ref = pd.DataFrame(rows)
    ref["q"] = stats.false_discovery_control(ref["p"].to_numpy(), method="bh")
    return ref.set_index("feature")


# ---------------------------------------------------------------------- header parsing
def test_every_bundled_query_parses_and_documents_its_parameters() -> None:
    queries = load_queries()
    assert len(queries) >= 10
    for name, query in queries.items():
        assert query.name == name and query.description
        assert Path(query.path).name == f"{name}.rq"
        for param in query.params:
            assert param.doc, f"{name}: parameter {param.name} has no doc"
            assert param.default is not None or param.optional, f"{name}.{param.name} needs a default for the docs"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("# description: x\nSELECT * {}", "name"),
        ("# name: Bad-Name\n# description: x\nSELECT * {}", "lower_case"),
        ("# name: a\n# description: x\n# param: p: float = 1\nSELECT ?p {}", "unknown type"),
        ("# name: a\n# description: x\n# param: p: number = abc\nSELECT ?p {}", "not a number"),
        ("# name: a\n# description: x\n# param: p: string = x\nSELECT ?q {}", "not used"),
        ("# name: a\n# description: x\n# param: p string\nSELECT ?p {}", "cannot read"),
    ],
)
def test_bad_headers_are_refused_with_the_reason(header: str, message: str) -> None:
    with pytest.raises(UnknownQuery, match=message):
        parse_named_query(header, "bad.rq")


def test_values_are_typed_and_bad_values_refused() -> None:
    assert str(coerce(Param("t", "curie"), "HGNC:3236")) == "http://identifiers.org/hgnc/3236"
    assert coerce(Param("n", "integer"), "12").toPython() == 12
    assert coerce(Param("b", "boolean"), "yes").toPython() is True
    for param, value in [
        (Param("n", "integer"), "1.5"),
        (Param("x", "number"), "nan"),
        (Param("i", "iri"), "not an iri"),
        (Param("i", "iri"), "http://example.org/a b"),
        (Param("c", "curie"), "NOPREFIX:1"),
    ]:
        with pytest.raises(UnknownQuery):
            coerce(param, value)


def test_unknown_names_and_parameters_are_refused(graph: KnowledgeGraph) -> None:
    with pytest.raises(UnknownQuery, match="no named query"):
        graph.ask("no_such_query")
    with pytest.raises(UnknownQuery, match="no parameter"):
        graph.ask("crosswalk", nonsense="1")


# ---------------------------------------------------------------------- the questions
def test_features_for_gene_equal_scipy_on_the_raw_table(graph: KnowledgeGraph, egfr_reference: pd.DataFrame) -> None:
    q_max = float(np.sort(egfr_reference["q"])[5])  # a threshold that keeps a handful
    expected = egfr_reference[egfr_reference["q"] <= q_max]
    answer = graph.ask("features_for_gene", gene="EGFR", q_max=q_max)
    assert sorted(answer["feature_name"]) == sorted(expected.index)
    merged = answer.set_index("feature_name").join(expected.add_suffix("_ref"))
    np.testing.assert_allclose(merged["p"], merged["p_ref"], rtol=1e-9)
    np.testing.assert_allclose(merged["q"], merged["q_ref"], rtol=1e-9)
    assert (merged["n"] == merged["n_ref"]).all()
    assert set(answer["target_label"]) == {"EGFR mutation status"}
    assert answer["run"].str.contains("analysis-run").all()
    assert answer["q"].is_monotonic_increasing
    # all features tested, and the symbol is case-insensitive
    assert len(graph.ask("features_for_gene", gene="egfr")) == len(egfr_reference)
    assert len(graph.ask("features_for_gene", gene="KRAS")) == 0


def test_targets_for_feature_by_pyradiomics_name_and_by_ibsi_code(
    graph: KnowledgeGraph, egfr_reference: pd.DataFrame, shared_data: Path
) -> None:
    best = egfr_reference["p"].idxmin()
    answer = graph.ask("targets_for_feature", feature=best)
    assert list(answer["target_label"]) == ["EGFR mutation status"]
    assert answer["target_kind"].tolist() == ["Marker"]
    assert answer["p"].iloc[0] == pytest.approx(egfr_reference.loc[best, "p"], rel=1e-9)
    # the IBSI code of the feature, read off the IBSI manual's source (the code under its heading)
    manual = (shared_data / "ibsi/03_Image_features.rst").read_text(encoding="utf-8")
    heading = {"original_firstorder_Minimum": "Minimum intensity"}.get(best)
    if heading is not None:
        block = re.search(r"\n" + heading + r"\s*\n[\^~=\-]+\s*\n(.{0,400})", manual, re.DOTALL)
        assert block is not None
        code = re.search(r">([A-Z0-9]{4})</p>", block.group(1)).group(1)
        by_code = graph.ask("targets_for_feature", feature=code)
        assert by_code["association"].tolist() == answer["association"].tolist()
    assert len(graph.ask("targets_for_feature", feature=best, target_type="igkg:Gene")) == 0
    assert len(graph.ask("targets_for_feature", feature=best, target_type="igkg:Marker")) == 1


def test_features_in_class_lists_every_texture_column(graph: KnowledgeGraph, table: pd.DataFrame) -> None:
    columns = feature_columns(table)
    texture = {c for c in columns if c.split("_")[1] in TEXTURE}
    answer = graph.ask("features_in_class", feature_class="igkg:TextureFeature")
    assert set(answer["pyradiomics_name"]) == texture
    assert set(answer["pyradiomics_class"]) == set(TEXTURE)
    glcm = graph.ask("features_in_class", feature_class=str(IGKG.GLCMFeature))
    assert set(glcm["pyradiomics_name"]) == {c for c in columns if c.split("_")[1] == "glcm"}
    assert (answer["associations"] == 1).all()


def test_subjects_by_feature_and_marker_match_both_source_tables(graph: KnowledgeGraph, shared_data: Path) -> None:
    features = pd.read_csv(shared_data / FEATURES)
    clinical = pd.read_csv(shared_data / CLINICAL)
    low, high = 0.25, 0.3
    in_range = features[(features["original_shape_Sphericity"] >= low) & (features["original_shape_Sphericity"] <= high)]
    from_table = set(in_range.loc[in_range["EGFR mutation status"] == 1, "Case ID"])
    mutant = set(clinical.loc[clinical["EGFR mutation status"] == "Mutant", "Patient ID"])
    from_clinical = set(in_range["Case ID"]) & mutant
    answer = graph.ask("subjects_by_feature_and_marker", feature="original_shape_Sphericity",
                       value_min=low, value_max=high, gene="EGFR", status="Mutant")
    by_source = answer.groupby("status_source")["subject_id"].apply(set).to_dict()
    assert by_source[f"clinical/{Path(CLINICAL).name}"] == from_clinical
    table_source = next(k for k in by_source if k.startswith("radiomics-csv/"))
    assert by_source[table_source] == from_table
    values = in_range.set_index("Case ID")["original_shape_Sphericity"]
    for row in answer.itertuples():
        assert row.value == pytest.approx(values[row.subject_id], rel=1e-12)


def parse_obo(path: Path) -> pd.DataFrame:
    """id, relation, target rows from an OBO file's [Term] stanzas (is_a, relationship, intersection_of)."""
    rows, current, in_term = [], None, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            in_term, current = line.strip() == "[Term]", None
        elif in_term and line.startswith("id: "):
            current = line[4:].strip()
        elif in_term and current and line.startswith("is_a: "):
            rows.append((current, "is_a", line[6:].split()[0]))
        elif in_term and current and line.startswith("relationship: "):
            rel, target = line.split()[1:3]
            rows.append((current, rel, target))
        elif in_term and current and line.startswith("intersection_of: "):
            parts = line.split("!")[0].split()[1:]
            rows.append((current, "is_a", parts[0]) if len(parts) == 1 else (current, parts[0], parts[1]))
    return pd.DataFrame(rows, columns=["id", "relation", "target"])


def descendants(edges: pd.DataFrame, top: str) -> set[str]:
    children: dict[str, set[str]] = {}
    for child, parent in edges[["id", "target"]].itertuples(index=False):
        children.setdefault(parent, set()).add(child)
    seen, todo = {top}, [top]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def curie(iri: str) -> str:
    return re.sub(r"^http://purl.obolibrary.org/obo/([A-Za-z]+)_", r"\1:", iri)


def test_terms_under_go_term_follow_is_a_and_part_of(graph: KnowledgeGraph, shared_data: Path) -> None:
    edges = parse_obo(shared_data / "obo/oak_go-nucleus.obo")
    walk = edges[edges["relation"].isin(["is_a", "part_of"])]
    # nucleus: nuclear envelope is part_of it, nuclear membrane part_of the envelope (two part_of steps)
    for top, least in (("GO:0005634", 3), ("GO:0043226", 10)):
        expected = descendants(walk, top)
        answer = graph.ask("terms_under_go_term", term=top)
        assert {curie(i) for i in answer["go_term"]} == expected
        assert len(expected) >= least


def test_terms_under_class_gives_all_neoplasms_of_hpo(graph: KnowledgeGraph, shared_data: Path) -> None:
    edges = parse_obo(shared_data / "obo/scout_reduced.hpo.obo")
    # the reduced HPO keeps Hematological neoplasm with its subtree (Neoplasm itself lost its children)
    expected = descendants(edges[edges["relation"] == "is_a"], "HP:0004377")
    answer = graph.ask("terms_under_class", term="HP:0004377")
    assert {curie(i) for i in answer["descendant"]} == expected
    assert len(expected) >= 5
    # the same set through the materialised hierarchy, by plain SPARQL without a path
    plain = graph.query(f"SELECT DISTINCT ?c WHERE {{ ?c rdfs:subClassOf <{HP}0004377> }}")
    assert {curie(i) for i in plain["c"]} | {"HP:0004377"} == expected


def mesh_triples(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep=" ", header=None, usecols=[0, 1, 2], names=["s", "p", "o"], quoting=3, dtype=str)
    return frame.apply(lambda c: c.str.strip("<>"))


def test_terms_under_mesh_tree_follow_the_tree_numbers(graph: KnowledgeGraph, shared_data: Path) -> None:
    triples = mesh_triples(shared_data / "mesh/samples.nt")
    trees = triples[triples["p"] == "http://id.nlm.nih.gov/mesh/vocab#treeNumber"].copy()
    trees["tree"] = trees["o"].str.replace(str(MESH), "", regex=False)
    for root in ("A01.456", "C04", "D02.065"):
        expected = trees[(trees["tree"] == root) | trees["tree"].str.startswith(root + ".")]
        answer = graph.ask("terms_under_mesh_tree", tree=root)
        assert set(zip(answer["descriptor"], answer["tree_number"])) == set(zip(expected["s"], expected["tree"]))
        assert len(expected) >= 1


def test_crosswalk_of_a_mesh_id_reaches_every_mondo_xref(graph: KnowledgeGraph, shared_data: Path) -> None:
    text = (shared_data / "obo/oak_mondo-sample-mappings.obo").read_text(encoding="utf-8")
    stanza = next(s for s in text.split("[Term]") if "xref: MESH:D011535" in s)
    mondo = re.search(r"^id: (\S+)", stanza, re.MULTILINE).group(1)
    prefixes = {"DOID", "MESH", "NCIT", "OMIM", "UMLS", "SCTID", "MONDO", "HP", "MedGen"}
    xrefs = {x for x in re.findall(r"^xref: (\S+)", stanza, re.MULTILINE) if x.split(":")[0] in prefixes}
    answer = graph.ask("crosswalk", term="MESH:D011535")
    local = {row.equivalent.rstrip("/").rsplit("/", 1)[-1].split("_")[-1] for row in answer.itertuples()}
    assert {x.split(":")[1] for x in xrefs | {mondo}} <= local
    assert "prune belly syndrome" in set(answer["labels"].dropna())
    by_cui = graph.ask("crosswalk", term="UMLS:C0033770")
    assert set(by_cui["equivalent"]) == set(answer["equivalent"])


def test_association_provenance_names_the_run_and_the_input_files(graph: KnowledgeGraph, shared_data: Path) -> None:
    answer = graph.ask("association_provenance", feature="original_firstorder_Minimum", target="EGFR")
    assert answer["association"].nunique() == 1
    assert answer["run"].nunique() == 1
    assert "mannwhitney" in answer["parameters"].iloc[0]
    assert answer["software_versions"].str.contains("scipy").all()
    table = answer[answer["input_kind"] == "radiomics-csv"]
    assert len(table) == 1
    sha = hashlib.sha256((shared_data / FEATURES).read_bytes()).hexdigest()
    assert table["input_sha256"].iloc[0] == sha
    assert table["input_file"].iloc[0].endswith(Path(FEATURES).name)


def test_diseases_for_feature_answers_with_the_crosswalk_columns(graph: KnowledgeGraph) -> None:
    answer = graph.ask("diseases_for_feature", feature="original_firstorder_Minimum")
    columns = ["disease", "disease_label", "via_genes", "mesh", "umls", "mondo_ids", "doid_ids", "best_q"]
    assert list(answer.columns) == columns + ["omim_ids", "orphanet_ids"]  # columns are only ever added


# ---------------------------------------------------------------------- CLI
def test_cli_lists_and_runs_named_queries(tmp_path: Path, shared_data: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["query", "--list"])
    assert listed.exit_code == 0
    names = [line.split("\t")[0] for line in listed.stdout.splitlines()]
    assert names == sorted(load_queries())
    store = tmp_path / "store"
    assert runner.invoke(app, ["--store", str(store), "load", str(shared_data / "mesh/samples.nt"), "--kind", "mesh-rdf"]).exit_code == 0
    result = runner.invoke(app, ["--store", str(store), "query", "--name", "terms_under_mesh_tree",
                                 "--param", "tree=C04", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "http://id.nlm.nih.gov/mesh/D009369,Neoplasms,C04" in result.stdout
    bad = runner.invoke(app, ["--store", str(store), "query", "--name", "crosswalk", "--param", "term=a b"])
    assert bad.exit_code == 1
