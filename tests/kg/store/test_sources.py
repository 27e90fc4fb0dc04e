"""What a source is and when a load replaces one (issue 12 items 1, 2 and 4), on real files.

A source is its kind, its file name (or ``source_name``) and the folder it comes from; a new
version replaces the old one only when the user means it (same path, ``replace=True``, the
same ``source_name``); a shrink to less than half needs ``replace=True``; the fingerprint
covers the lookups the mapping used, so a reload after the genes arrived re-maps.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from rdflib import URIRef

from kg import KnowledgeGraph
from kg.core.errors import LoadError

CLINICAL = "radiogenomics/nsclc_clinical_tcia.csv"
HGNC = Path(__file__).resolve().parents[2] / "data" / "hgnc" / "good" / "scout_hgnc_reduced_set.txt"


def _split_rows(source: Path, parts: dict[Path, slice]) -> None:
    """Write the header and a slice of the data rows of ``source`` to each path."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for path, rows_slice in parts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(rows[0])
            writer.writerows(rows[1:][rows_slice])


def _subjects(kg: KnowledgeGraph) -> int:
    frame = kg.query("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a igkg:Subject }")
    return int(frame["n"].iloc[0])


def _snapshot(kg: KnowledgeGraph) -> tuple[list[tuple[str, int]], int]:
    catalog = kg.graphs()
    total = kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return sorted(zip(catalog["graph"], catalog["triples"], strict=True)), int(total["n"].iloc[0])


@pytest.fixture
def sites(tmp_path: Path, shared_data: Path) -> dict[str, Path]:
    """The NSCLC clinical table split by rows into siteA/clinical.csv (100) and siteB/clinical.csv (111)."""
    table = shared_data / CLINICAL
    with table.open(newline="", encoding="utf-8") as handle:
        total = sum(1 for _ in csv.reader(handle)) - 1
    assert total == 211
    paths = {"A": tmp_path / "siteA" / "clinical.csv", "B": tmp_path / "siteB" / "clinical.csv"}
    _split_rows(table, {paths["A"]: slice(0, 100), paths["B"]: slice(100, None)})
    return paths


def test_two_files_with_one_name_from_two_folders_are_two_sources(kg: KnowledgeGraph, sites: dict[str, Path]) -> None:
    first = kg.load(sites["A"], values="rdf")
    second = kg.load(sites["B"], values="rdf")
    assert _subjects(kg) == 211
    keys = sorted(kg.graphs()["source"])
    assert keys[0] == "clinical/clinical.csv" and keys[1].startswith("clinical/clinical.csv~") and len(keys) == 2
    assert first.graph != second.graph
    assert any("kept beside it" in note and "--replace" in note for note in second.notes)
    # Loading either path again is a no-op: each path is its own source.
    assert kg.load(sites["A"], values="rdf").skipped and kg.load(sites["B"], values="rdf").skipped
    assert _subjects(kg) == 211


def test_the_same_path_replaces_its_own_version(kg: KnowledgeGraph, sites: dict[str, Path], shared_data: Path) -> None:
    kg.load(sites["A"], values="rdf")
    kg.load(sites["B"], values="rdf")
    _split_rows(shared_data / CLINICAL, {sites["A"]: slice(0, 90)})  # siteA sends a new export
    report = kg.load(sites["A"], values="rdf")
    assert any(note.startswith("replaces clinical/clinical.csv (100 records") for note in report.notes)
    assert len(kg.graphs()) == 2
    assert _subjects(kg) == 90 + 111


def test_replace_means_the_same_source_from_another_folder(kg: KnowledgeGraph, sites: dict[str, Path]) -> None:
    kg.load(sites["A"], values="rdf")
    report = kg.load(sites["B"], values="rdf", replace=True)
    assert list(kg.graphs()["source"]) == ["clinical/clinical.csv"]
    assert any("replaces clinical/clinical.csv" in note and "from another folder" in note for note in report.notes)
    assert _subjects(kg) == 111


def test_a_source_name_groups_files_of_any_name(kg: KnowledgeGraph, sites: dict[str, Path], tmp_path: Path) -> None:
    renamed = tmp_path / "clinical_2024.csv"
    shutil.copy(sites["B"], renamed)
    kg.load(sites["A"], values="rdf", source_name="nsclc-clinical")
    report = kg.load(renamed, values="rdf", source_name="nsclc-clinical")
    assert list(kg.graphs()["source"]) == ["clinical/nsclc-clinical"]
    assert any(note.startswith("replaces clinical/nsclc-clinical") for note in report.notes)
    assert _subjects(kg) == 111


def test_a_file_with_the_same_content_from_another_folder_is_not_loaded_twice(kg: KnowledgeGraph, sites: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "mirror" / "clinical.csv"
    copy.parent.mkdir()
    shutil.copy(sites["A"], copy)
    kg.load(sites["A"], values="rdf")
    again = kg.load(copy, values="rdf")
    assert again.skipped and any("already loaded as clinical/clinical.csv" in note for note in again.notes)
    assert len(kg.graphs()) == 1


def test_a_header_only_file_does_not_replace_a_good_one(kg: KnowledgeGraph, tmp_path: Path) -> None:
    good = tmp_path / "hgnc_complete_set.txt"
    shutil.copy(HGNC, good)
    first = kg.load(good)
    assert first.records_read == 266
    before = _snapshot(kg)
    good.write_text(HGNC.read_text().splitlines()[0] + "\n")  # a download cut after its header
    with pytest.raises(LoadError) as caught:
        kg.load(good)
    assert str(good) in str(caught.value)
    assert _snapshot(kg) == before


def test_a_shrink_to_less_than_half_needs_replace(kg: KnowledgeGraph, tmp_path: Path) -> None:
    good = tmp_path / "hgnc_complete_set.txt"
    shutil.copy(HGNC, good)
    kg.load(good)
    before = _snapshot(kg)
    lines = HGNC.read_text().splitlines()
    good.write_text("\n".join(lines[:101]) + "\n")  # 100 of 266 complete records
    with pytest.raises(LoadError) as caught:
        kg.load(good)
    message = str(caught.value)
    assert str(good) in message and "100 records" in message and "266" in message and "--replace" in message
    assert _snapshot(kg) == before
    report = kg.load(good, replace=True)
    assert report.records_read == 100
    genes = kg.query("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { ?g a igkg:Gene }")
    assert int(genes["n"].iloc[0]) == 100
    # More than half is an ordinary new version.
    good.write_text("\n".join(lines[:61]) + "\n")
    assert kg.load(good).records_read == 60


@pytest.mark.slow
def test_an_expression_matrix_is_remapped_when_the_genes_arrive(disk_kg: KnowledgeGraph, shared_data: Path) -> None:
    """ImaGene's matrix (samples x genes, no options) loaded before and re-loaded after gene_info."""
    matrix = shared_data / "radiogenomics" / "imagene_lung" / "Lung_gene_expression_new_cohort_n44.csv"

    def mapped(graph: str) -> tuple[int, int]:
        counts = disk_kg.query(
            "SELECT (COUNT(DISTINCT ?gene) AS ?genes) (COUNT(DISTINCT ?subject) AS ?subjects) WHERE { GRAPH ?g { "
            "{ ?gene a igkg:Gene FILTER(STRSTARTS(STR(?gene), 'http://identifiers.org/ncbigene/')) } "
            "UNION { ?subject a igkg:Subject } } }",
            {"g": URIRef(graph)},
        )
        return int(counts["genes"].iloc[0]), int(counts["subjects"].iloc[0])

    before = disk_kg.load(matrix, values="columnar")
    assert mapped(before.graph) == (0, 44)
    assert len(before.unmapped["gene"]) >= 5000
    disk_kg.load(shared_data / "genes" / "Homo_sapiens.gene_info.gz", values="rdf")
    after = disk_kg.load(matrix, values="columnar")
    assert not after.skipped and after.graph != before.graph
    assert any(note.startswith("replaces expression/") for note in after.notes)
    genes, subjects = mapped(after.graph)
    assert genes >= 5000 and subjects == 44
    values = disk_kg.matrix(kind="expression")
    assert values.shape[0] == 44 and values.shape[1] >= 5000
    assert len(disk_kg.graphs()) == 2
    # Nothing changed since: now the reload is a no-op.
    assert disk_kg.load(matrix, values="columnar").skipped
