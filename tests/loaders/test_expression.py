"""Expression matrices: the real TCGA-GBM two-header-row layout, other orientations and ids."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.analysis.associations import expression_targets

TCGA = "radiogenomics/tcga_gbm/TCGA_unified_CORE_ClaNC840.txt"
HGNC = "genes/scout_hgnc_reduced_set.txt"
BAD = Path(__file__).resolve().parents[1] / "data" / "expression" / "bad"


@pytest.fixture(scope="module")
def hgnc(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / HGNC, sep="\t", dtype=str, on_bad_lines="skip")


@pytest.fixture
def tcga_head(tmp_path: Path, shared_data: Path, hgnc: pd.DataFrame) -> Path:
    """The real TCGA matrix cut to its two header rows, the rows of genes HGNC's sample
    knows and 25 others (a slice of the real file, made at test time)."""
    lines = (shared_data / TCGA).read_text().splitlines()
    known = set(hgnc["symbol"])
    body = [line for line in lines[2:] if line.split("\t", 1)[0] in known]
    body += [line for line in lines[2:] if line.split("\t", 1)[0] not in known][:25]
    path = tmp_path / "TCGA_unified_head.txt"
    path.write_text("\n".join(lines[:2] + body) + "\n")
    return path


def raw_matrix(path: Path) -> pd.DataFrame:
    """The matrix as pandas reads it: subjects (barcode[:12]) x genes."""
    frame = pd.read_csv(path, sep="\t", skiprows=[1], index_col=0).iloc[:, 1:].T
    frame.index = frame.index.str[:12]
    return frame


def test_tcga_two_header_rows_to_subjects_and_genes(kg: KnowledgeGraph, shared_data: Path, tcga_head: Path, hgnc: pd.DataFrame) -> None:
    kg.load(shared_data / HGNC, kind="hgnc")
    report = kg.load(tcga_head, kind="expression", sample_rule="tcga", header_rows=2, annotation_columns="2")
    raw = raw_matrix(tcga_head)
    assert report.records_read == raw.shape[1]
    assert any("Subtype" in note for note in report.notes)
    known = set(hgnc["symbol"]) & set(raw.columns)
    assert len(known) >= 10
    assert report.unmapped["gene"] == set(raw.columns) - known
    loaded = expression_targets(kg)
    matrix = loaded.targets.copy()
    matrix.index = matrix.index.str.rsplit("/", n=1).str[-1]
    assert sorted(matrix.index) == sorted(raw.index)
    pd.testing.assert_frame_equal(matrix.loc[raw.index, raw.columns], raw, check_names=False, check_dtype=False)
    entrez = dict(zip(hgnc["symbol"], hgnc["entrez_id"], strict=False))
    for symbol in known:
        assert loaded.target_iris[symbol] == f"http://identifiers.org/ncbigene/{entrez[symbol]}"
    subjects = kg.query("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?m a igkg:ExpressionMeasurement ; igkg:subject ?s . ?s a igkg:Subject }")
    assert int(subjects["n"].iloc[0]) == raw.shape[0]


def test_samples_by_genes_gzip_csv_with_ensembl_versions(kg: KnowledgeGraph, tmp_path: Path, shared_data: Path, tcga_head: Path, hgnc: pd.DataFrame) -> None:
    kg.load(shared_data / HGNC, kind="hgnc")
    raw = raw_matrix(tcga_head)
    ensembl = dict(zip(hgnc["symbol"], hgnc["ensembl_gene_id"], strict=False))
    genes = [g for g in raw.columns if isinstance(ensembl.get(g), str)][:8]
    table = raw[genes].rename(columns={g: f"{ensembl[g]}.12" for g in genes})
    table.index.name = "sample"
    path = tmp_path / "gbm_expression.csv.gz"
    with gzip.open(path, "wt") as handle:
        table.to_csv(handle)
    report = kg.load(path, kind="expression", layout="samples-by-genes")
    assert report.records_read == len(table) and not report.unmapped
    matrix = expression_targets(kg).targets
    matrix.index = matrix.index.str.rsplit("/", n=1).str[-1]
    pd.testing.assert_frame_equal(matrix.loc[raw.index, genes], raw[genes], check_names=False, check_dtype=False)


def test_entrez_ids_keep_their_standard_iri_when_unmapped(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "entrez_expression.tsv"
    path.write_text("gene\tS1\tS2\tS3\n1956\t1.5\t2.5\t0.1\n7157\t0.2\t0.4\t0.9\n")
    report = kg.load(path, kind="expression", gene_ids="entrez")
    assert report.unmapped["gene"] == {"1956", "7157"}
    iris = set(kg.query("SELECT DISTINCT ?g WHERE { ?m igkg:gene ?g }")["g"])
    assert iris == {"http://identifiers.org/ncbigene/1956", "http://identifiers.org/ncbigene/7157"}


def test_samples_that_match_no_subject_are_reported(kg: KnowledgeGraph) -> None:
    report = kg.load(BAD.parent / "partial" / "unmatched_samples.tsv", kind="expression", sample_rule="tcga")
    reasons = [str(r) for r in report.rejected]
    assert any("'R01-003' matches no subject" in r for r in reasons)
    assert any("'TCGA-02-0003-11A-01' is another sample of subject 'TCGA-02-0003'" in r for r in reasons)
    values = kg.query("SELECT ?v WHERE { ?m a igkg:ExpressionMeasurement ; igkg:value ?v }")
    assert sorted(values["v"]) == [1.25, 2.10]


def test_unknown_options_are_refused(kg: KnowledgeGraph) -> None:
    from kg.core.errors import ConfigError

    with pytest.raises(ConfigError, match="sample_rule"):
        kg.load(BAD / "non_numeric.tsv", kind="expression", sample_rule="barcode")
