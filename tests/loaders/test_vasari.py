"""The ``vasari`` loader on the TCGA-GBM VASARI annotations, bad files, and traits in the association engine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from kg import KnowledgeGraph
from kg.analysis.associations import run_analysis
from kg.core.iris import DEFAULT_INSTANCE_BASE, mint

BAD = Path(__file__).resolve().parents[1] / "data" / "vasari" / "bad"
PROPORTION = ["Minimal", "Less than 1/3", "Between 1/3 and 2/3", "More than 2/3"]


@pytest.fixture
def vasari_file(shared_data: Path) -> Path:
    return shared_data / "radiogenomics" / "tcga_gbm" / "vasari_annotations.csv"


def _raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, index_col=0, keep_default_na=False)


def test_traits_subjects_and_values(kg: KnowledgeGraph, vasari_file: Path) -> None:
    raw = _raw(vasari_file)
    codes = {c: "F" + c.split(".")[0][1:] for c in raw.columns if c[0] == "f" and c.split(".")[0][1:].isdigit()}
    report = kg.load(vasari_file, kind="vasari")
    assert report.records_read == len(raw) == 20 and not report.rejected
    traits = kg.query("SELECT ?t ?code WHERE { ?t a igkg:ImagingTrait ; skos:notation ?code }")
    assert sorted(traits["code"]) == sorted(codes.values())
    subjects = kg.query("SELECT DISTINCT ?id WHERE { ?m a igkg:FeatureMeasurement ; igkg:subject/igkg:identifier ?id }")
    assert set(subjects["id"]) == set(raw.index)
    # every cell (except n/a) is a measurement whose category label is the cell
    got = kg.query(
        """SELECT ?id ?code ?label WHERE { ?m a igkg:FeatureMeasurement ; igkg:subject/igkg:identifier ?id ;
             igkg:feature/skos:notation ?code ; igkg:category/rdfs:label ?label }"""
    ).set_index(["id", "code"])["label"]
    cells = {(s, codes[c]): v for s, row in raw.iterrows() for c, v in row.items() if c in codes and v not in ("n/a", "NA", "")}
    assert len(got) == len(cells)
    assert {k: got[k] for k in cells} == cells
    assert raw.loc["TCGA-08-0354", "f5.proportion.enhancing"] == got[("TCGA-08-0354", "F5")] == "Less than 1/3"
    assert raw.loc["TCGA-14-1401", "f10.t1.flair.ratio"] == "n/a" and ("TCGA-14-1401", "F10") not in got.index
    # the subject is the same node as the expression loader's TCGA patient
    assert kg.query("ASK { ?s a igkg:Subject ; igkg:identifier 'TCGA-02-0047' }", {"s": mint(DEFAULT_INSTANCE_BASE, "subject", "TCGA-02-0047")})


def test_ordinal_ranks_and_nominal_traits(kg: KnowledgeGraph, vasari_file: Path) -> None:
    raw = _raw(vasari_file)
    kg.load(vasari_file, kind="vasari")
    ordered = kg.query("SELECT ?code ?o WHERE { ?t a igkg:ImagingTrait ; skos:notation ?code ; igkg:ordered ?o }").set_index("code")["o"]
    assert ordered.map(lambda v: str(v).lower() == "true").to_dict() == {
        "F5": True, "F6": True, "F7": True, "F14": True, "F10": True, "F9": False
    }
    ranks = kg.query(
        "SELECT ?label ?rank WHERE { ?t skos:notation 'F7' ; igkg:category ?c . ?c rdfs:label ?label ; igkg:rank ?rank }"
    ).set_index("label")["rank"].astype(int)
    assert ranks.to_dict() == {label: rank for rank, label in enumerate(PROPORTION)}  # 0 = lowest proportion
    # a measurement of an ordinal trait carries the rank as its value
    values = kg.query(
        "SELECT ?id ?v WHERE { ?m igkg:feature/skos:notation 'F14' ; igkg:value ?v ; igkg:subject/igkg:identifier ?id }"
    ).set_index("id")["v"].astype(float)
    assert values.sort_index().tolist() == raw["f14.proportion.edema"].map(PROPORTION.index).sort_index().astype(float).tolist()
    # a nominal trait has categories but no rank and no value
    assert not kg.query("ASK { ?t skos:notation 'F9' ; igkg:category ?c . ?c igkg:rank ?r }")
    assert not kg.query("ASK { ?m igkg:feature/skos:notation 'F9' ; igkg:value ?v }")


def test_value_outside_the_verified_set_is_kept_and_reported(kg: KnowledgeGraph, tmp_path: Path) -> None:
    table = tmp_path / "odd_vasari.csv"
    table.write_text('"","f5.proportion.enhancing","F22 nCET crosses midline"\n"S-1","Minimal","yes"\n"S-2","All","no"\n')
    report = kg.load(table, kind="vasari")
    assert any("'All' is not in the verified value set" in n for n in report.notes)
    assert kg.query("ASK { ?m igkg:subject/igkg:identifier 'S-2' ; igkg:category/rdfs:label 'All' FILTER NOT EXISTS { ?m igkg:value ?v } }")
    assert kg.query("ASK { ?t skos:notation 'F22' ; rdfs:label 'nCET crosses midline' ; igkg:ordered false }")


def test_association_engine_takes_the_traits(kg: KnowledgeGraph, vasari_file: Path, shared_data: Path, tmp_path: Path) -> None:
    """Kruskal-Wallis of a VASARI trait vs TCGA expression through the graph equals scipy on the raw files."""
    kg.load(vasari_file, kind="vasari")
    lines = (shared_data / "radiogenomics" / "tcga_gbm" / "TCGA_unified_CORE_ClaNC840.txt").read_text().splitlines()
    head = tmp_path / "tcga_expression_head.txt"  # the two header rows and the first 20 genes
    head.write_text("\n".join(lines[:22]) + "\n")
    kg.load(head, kind="expression", sample_rule="tcga", header_rows=2, annotation_columns="2")
    results = run_analysis(kg, genes=True, method="kruskal", min_n=5, q_max=1.0).results
    expression = pd.read_csv(head, sep="\t", skiprows=[1], index_col=0).iloc[:, 1:].T
    expression.index = expression.index.str[:12]
    raw = _raw(vasari_file)
    for trait, column in (("Proportion enhancing", "f5.proportion.enhancing"), ("T1/FLAIR ratio", "f10.t1.flair.ratio")):
        gene = expression.columns[0]
        row = results[(results["feature"] == trait) & (results["target"] == gene)]
        assert len(row) == 1, results[["feature", "target"]].drop_duplicates().head()
        levels = raw[column][raw[column] != "n/a"]
        common = levels.index.intersection(expression.index)
        groups = [expression.loc[common, gene][levels[common] == level] for level in sorted(set(levels[common]))]
        expected = stats.kruskal(*groups)
        assert int(row["n"].iloc[0]) == len(common)
        assert row["statistic"].iloc[0] == pytest.approx(expected.statistic, rel=1e-9)
        assert row["p"].iloc[0] == pytest.approx(expected.pvalue, rel=1e-9)


def test_spearman_on_the_order_of_ordinal_traits(kg: KnowledgeGraph, vasari_file: Path, shared_data: Path, tmp_path: Path) -> None:
    """Spearman on the category order equals scipy on the raw files; the nominal trait (F9) is left out."""
    kg.load(vasari_file, kind="vasari")
    lines = (shared_data / "radiogenomics" / "tcga_gbm" / "TCGA_unified_CORE_ClaNC840.txt").read_text().splitlines()
    head = tmp_path / "tcga_expression_head.txt"
    head.write_text("\n".join(lines[:12]) + "\n")
    kg.load(head, kind="expression", sample_rule="tcga", header_rows=2, annotation_columns="2")
    run = run_analysis(kg, genes=True, method="spearman", traits=True, min_n=5, q_max=1.0)
    results = run.results
    assert not (results["feature"] == "Multifocal or multicentric").any()
    assert any("Multifocal or multicentric" in note for note in run.notes)
    expression = pd.read_csv(head, sep="\t", skiprows=[1], index_col=0).iloc[:, 1:].T
    expression.index = expression.index.str[:12]
    raw = _raw(vasari_file)
    # The order the labels state: a proportion of the tumour, smallest first.
    order = {"Minimal": 0, "Less than 1/3": 1, "Between 1/3 and 2/3": 2, "More than 2/3": 3}
    levels = raw["f5.proportion.enhancing"][raw["f5.proportion.enhancing"].isin(order)].map(order)
    for gene in expression.columns[:5]:
        common = levels.index.intersection(expression.index)
        expected = stats.spearmanr(levels[common].astype(float), expression.loc[common, gene].astype(float))
        row = results[(results["feature"] == "Proportion enhancing") & (results["target"] == gene)]
        assert len(row) == 1
        assert int(row["n"].iloc[0]) == len(common)
        assert row["statistic"].iloc[0] == pytest.approx(expected.statistic, rel=1e-9)
        assert row["p"].iloc[0] == pytest.approx(expected.pvalue, rel=1e-9)
