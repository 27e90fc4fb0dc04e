"""Inputs as users and attackers meet them (issue 12 items 2, 3, 12, 13, 14): every refusal is one line naming file and line.

Big inputs (a 50 MB line, a 300 kB csv field) are written into the test's temporary folder
at run time, never committed. The small bad files live under ``tests/data/<source>/bad/``
and are run by ``test_bad_files.py``.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kg import KnowledgeGraph
from kg.core.errors import LoadError
from loaders._tables import MAX_LINE_BYTES

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
ROOT = Path(__file__).resolve().parents[2]
BIG = 50 * 1024 * 1024

# kind -> (a real file of that kind, how many lines precede its first data row)
TEXT_KINDS: dict[str, tuple[Path, int]] = {
    "associations": (DATA / "published/good/published_associations.csv", 1),
    "clinical": (SHARED / "radiogenomics/nsclc_clinical_tcia.csv", 1),
    "expression": (DATA / "expression/partial/unmatched_samples.tsv", 1),
    "gaf": (DATA / "gaf/good/oak_test-uniprot.gaf", 0),
    "gene-disease": (DATA / "gene_disease/good/gene_condition_source_id", 1),
    "gene-info": (DATA / "gene_info/good/Homo_sapiens.gene_info", 1),
    "gmt": (SHARED / "reactome/ReactomePathways.gmt", 0),
    "hgnc": (DATA / "hgnc/good/scout_hgnc_reduced_set.txt", 1),
    "hpo-annotations": (DATA / "hpo/good/phenotype_head.hpoa", 5),
    "maf": (DATA / "maf/good/gdc_layout.maf", 0),
    "mesh-rdf": (SHARED / "mesh/samples.nt", 0),
    "radiomics-csv": (SHARED / "radiogenomics/nsclc_radiogenomics_original_features.csv", 1),
    "rdf": (DATA / "rdf/good/nlm_samples_head.nt", 0),
    "vasari": (SHARED / "radiogenomics/tcga_gbm/vasari_annotations.csv", 1),
}


def _head(path: Path, lines: int) -> str:
    kept = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            kept.append(line)
            if len(kept) > lines + 1 and not line.startswith(("#", "!")):
                break
    return "".join(kept)


def _refused_in_one_line(kg: KnowledgeGraph, path: Path, kind: str) -> str:
    before = kg.stats().triples
    with pytest.raises(LoadError) as info:
        kg.load(path, kind=kind)
    message = str(info.value)
    assert "\n" not in message, message
    assert path.name in message
    assert "Traceback" not in message and "_csv.Error" not in message
    assert kg.stats().triples == before
    return message


# ------------------------------------------------------------------ item 14: a 50 MB line or field
@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(TEXT_KINDS))
def test_a_50_mb_line_is_a_one_line_error_naming_file_and_line(kg: KnowledgeGraph, tmp_path: Path, kind: str) -> None:
    source, header_lines = TEXT_KINDS[kind]
    head = _head(source, header_lines).splitlines(keepends=True)
    path = tmp_path / source.name
    before = head[: header_lines + 1]
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(before)
        handle.write("X" * BIG + "\t1\n")
        handle.writelines(head[header_lines + 1 :])
    message = _refused_in_one_line(kg, path, kind)
    assert f"line {len(before) + 1}: line longer than {MAX_LINE_BYTES >> 20} MiB" in message


@pytest.mark.slow
def test_a_50_mb_line_in_obo_umls_reactome_and_a_50_mb_mesh_name(kg: KnowledgeGraph, tmp_path: Path) -> None:
    big = "X" * BIG
    obo = tmp_path / "long.obo"
    obo.write_text(f"format-version: 1.2\nontology: x\n\n[Term]\nid: X:1\nname: {big}\n", encoding="utf-8")
    assert "line 6: line longer than" in _refused_in_one_line(kg, obo, "obo")
    meta = tmp_path / "META"
    meta.mkdir()
    (meta / "MRCONSO.RRF").write_text(f"C0000005|ENG|P|L1|PF|S1|Y|A1||M1|D1|MSH|MH|D012711|{big}|0|N||\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"MRCONSO\.RRF, line 1: line longer than"):
        kg.load(meta, kind="umls")
    reactome = tmp_path / "reactome"
    reactome.mkdir()
    (reactome / "ReactomePathways.txt").write_text(f"R-HSA-1\t{big}\tHomo sapiens\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"ReactomePathways\.txt, line 1: line longer than"):
        kg.load(reactome, kind="reactome", species="Homo sapiens")
    mesh = tmp_path / "desc2099.xml"
    mesh.write_text(
        "<DescriptorRecordSet>\n<DescriptorRecord><DescriptorUI>D000001</DescriptorUI>"
        f"<DescriptorName><String>{big}</String></DescriptorName></DescriptorRecord>\n</DescriptorRecordSet>\n",
        encoding="utf-8",
    )
    assert "record D000001: a text of 50 MiB" in _refused_in_one_line(kg, mesh, "mesh-xml")


def test_a_field_beyond_the_csv_limit_is_a_one_line_error(kg: KnowledgeGraph, tmp_path: Path) -> None:
    """A quoted field of 300 kB across short lines: each line is short, the field is not (csv's own limit)."""
    path = tmp_path / "clinical.csv"
    cell = "\n".join("y" * 1000 for _ in range(300))
    path.write_text(f'Patient ID,Histology\nP1,"{cell}"\n', encoding="utf-8")
    message = _refused_in_one_line(kg, path, "clinical")
    assert "field larger than field limit" in message and ", line " in message


# ------------------------------------------------------------------ item 3: non-finite numbers
def _replace_cell(source: Path, rows: int, column: str, row: int, text: str, target: Path) -> None:
    with source.open(encoding="utf-8", newline="") as handle:
        table = [next(csv.reader([line])) for _, line in zip(range(rows + 1), handle, strict=False)]
    table[row][table[0].index(column)] = text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    target.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.mark.parametrize("token", ["inf", "-inf", "1e999", "Infinity"])
@pytest.mark.parametrize(
    ("kind", "source", "column"),
    [
        ("clinical", SHARED / "radiogenomics/nsclc_clinical_tcia.csv", "Age at Histological Diagnosis"),
        ("radiomics-csv", SHARED / "radiogenomics/nsclc_radiogenomics_original_features.csv", "original_shape_Sphericity"),
        ("expression", SHARED / "radiogenomics/imagene_lung/Lung_gene_expression_new_cohort_n44.csv", "EGFR"),
    ],
    ids=["clinical", "radiomics-csv", "expression"],
)
def test_non_finite_numbers_are_refused_with_file_line_and_column(
    kg: KnowledgeGraph, tmp_path: Path, token: str, kind: str, source: Path, column: str
) -> None:
    path = tmp_path / source.name
    _replace_cell(source, 4, column, 3, token, path)
    message = _refused_in_one_line(kg, path, kind)
    assert "line 4" in message and repr(column) in message and "finite" in message


def test_nan_and_na_stay_missing(kg: KnowledgeGraph, tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "radiogenomics/nsclc_clinical_tcia.csv"
    path = tmp_path / "nsclc_clinical_tcia.csv"
    _replace_cell(source, 4, "Age at Histological Diagnosis", 3, "NaN", path)
    report = kg.load(path, kind="clinical")
    assert report.records_read == 4
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [r for _, r in zip(range(4), csv.DictReader(handle), strict=False)]
    ages = kg.query("SELECT ?id ?age WHERE { ?s igkg:identifier ?id ; igkg:ageAtDiagnosis ?age }")
    expected = {r["Patient ID"]: float(r["Age at Histological Diagnosis"]) for i, r in enumerate(rows) if i != 2}
    assert dict(zip(ages["id"], ages["age"], strict=True)) == expected


# ------------------------------------------------------------------ item 2: truncated and header-only sources
def test_a_gene_info_cut_mid_row_keeps_the_genes_of_the_good_version(kg: KnowledgeGraph, tmp_path: Path) -> None:
    good = ROOT / "examples/data/genes/nsclc_markers.gene_info"
    kg.load(good, kind="gene-info")
    genes = set(kg.query("SELECT ?l WHERE { ?g a igkg:Gene ; rdfs:label ?l }")["l"])
    assert genes == {"EGFR", "KRAS", "ALK"}
    text = good.read_text(encoding="utf-8")
    cut = tmp_path / good.name
    cut.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 40], encoding="utf-8")
    message = _refused_in_one_line(kg, cut, "gene-info")
    assert "line 4: the last record is cut short" in message
    assert set(kg.query("SELECT ?l WHERE { ?g a igkg:Gene ; rdfs:label ?l }")["l"]) == genes


def test_short_rows_are_no_longer_padded(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "published_associations.csv"
    lines = (DATA / "published/good/published_associations.csv").read_text(encoding="utf-8").splitlines()
    cells = lines[2].split(",")
    path.write_text("\n".join([lines[0], lines[1], ",".join(cells[:-2]), *lines[3:]]) + "\n", encoding="utf-8")
    message = _refused_in_one_line(kg, path, "associations")
    assert f"line 3: {len(cells) - 2} cells but the header has" in message


def test_a_last_line_without_newline_but_complete_loads(kg: KnowledgeGraph, tmp_path: Path, shared_data: Path) -> None:
    """ImaGene's files end without a newline: complete records are not 'cut short'."""
    source = shared_data / "radiogenomics/imagene_lung/Lung_radiomic_features_new_cohort_n44.csv"
    assert not source.read_bytes().endswith(b"\n")
    report = kg.load(source, kind="radiomics-csv")
    with source.open(encoding="utf-8", newline="") as handle:
        assert report.records_read == sum(1 for _ in csv.DictReader(handle)) == 44


# ------------------------------------------------------------------ item 12: expression layout from the header
@pytest.mark.slow
def test_imagene_expression_layout_is_detected_and_reported(disk_kg: KnowledgeGraph, shared_data: Path) -> None:
    matrix = shared_data / "radiogenomics/imagene_lung/Lung_gene_expression_new_cohort_n44.csv"
    disk_kg.load(shared_data / "genes/Homo_sapiens.gene_info.gz")
    report = disk_kg.load(matrix, kind="expression")
    assert any(note.startswith("layout samples-by-genes detected") for note in report.notes), report.notes
    with matrix.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        samples = {row[0] for row in reader}
    assert report.records_read == len(samples) == 44
    subjects = disk_kg.query("SELECT ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")
    assert set(subjects["id"]) == samples
    genes = disk_kg.query("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { ?m a igkg:ExpressionMeasurement ; igkg:gene ?g }")
    mapped = int(genes["n"].iloc[0])
    unmapped = sum(len(v) for v in report.unmapped.values())
    assert mapped >= 5000 and mapped + unmapped == len(header) - 1


def test_layout_option_overrides_the_detection(kg: KnowledgeGraph, tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "radiogenomics/imagene_lung/Lung_gene_expression_new_cohort_n44.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [row[:6] for _, row in zip(range(4), csv.reader(handle), strict=False)]
    path = tmp_path / "imagene_expression_head.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    forced = kg.load(path, kind="expression", layout="genes-by-samples")
    assert "layout genes-by-samples (option layout)" in forced.notes
    assert forced.records_read == 3  # forced genes x samples: the three sample rows are read as genes
    assert set(forced.unmapped["gene"]) == {r[0] for r in rows[1:]}
    detected = kg.load(path, kind="expression", source_name="detected", replace=True)
    assert any(n.startswith("layout genes-by-samples detected") for n in detected.notes), detected.notes


# ------------------------------------------------------------------ item 13: entity expansion
_CHILD = textwrap.dedent(
    """
    import resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    from kg import KnowledgeGraph
    from kg.core.errors import LoadError
    start = time.monotonic()
    with KnowledgeGraph(sys.argv[3] if len(sys.argv) > 3 else None) as kg:
        try:
            kg.load(sys.argv[1], kind=sys.argv[2])
        except LoadError as exc:
            print("REFUSED", round(time.monotonic() - start, 1), exc)
        else:
            print("LOADED")
    """
)


@pytest.mark.parametrize("store", ["memory", "disk"])
def test_rdf_xml_entity_expansion_is_refused_in_bounded_memory(tmp_path: Path, store: str) -> None:
    bomb = DATA / "rdf/bad/entity_expansion.rdf"
    assert bomb.stat().st_size == 675
    args = [sys.executable, "-c", _CHILD, str(bomb), "rdf"] + ([str(tmp_path / "store")] if store == "disk" else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    verdict, seconds, message = done.stdout.strip().split(" ", 2)
    assert verdict == "REFUSED" and float(seconds) < 30
    use = next(n for n, line in enumerate(bomb.read_text().splitlines(), start=1) if "<ex:p>&" in line)
    assert "entity-expansion" in message and bomb.name in message and f"line {use}:" in message


def test_mesh_xml_uses_the_same_guard(tmp_path: Path) -> None:
    text = (DATA / "rdf/bad/entity_expansion.rdf").read_text(encoding="utf-8")
    text = text.replace("rdf:RDF", "DescriptorRecordSet", 2)
    path = tmp_path / "desc2099.xml"
    path.write_text(text.split("<DescriptorRecordSet xmlns")[0] + "<DescriptorRecordSet><DescriptorRecord>&h;</DescriptorRecord></DescriptorRecordSet>\n")
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), "mesh-xml"], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("REFUSED") and "entity-expansion" in done.stdout


def test_ordinary_entities_in_rdf_xml_still_load(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "entities.rdf"
    path.write_text(textwrap.dedent(
        """\
        <?xml version="1.0"?>
        <!DOCTYPE rdf:RDF [ <!ENTITY ex "http://example.org/"> ]>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
          <rdf:Description rdf:about="&ex;thing"><rdfs:label>a thing</rdfs:label></rdf:Description>
        </rdf:RDF>
        """
    ))
    report = kg.load(path, kind="rdf")
    assert report.triples == 1
    assert kg.query("ASK { <http://example.org/thing> rdfs:label 'a thing' }")


def test_blank_separated_plink_style_tables_load_without_options(shared_data: Path, tmp_path: Path) -> None:
    """REGENIE's covariate file (FID IID V1 V2 V3, blank-separated), also with aligned runs of blanks."""
    original = shared_data / "genotypes" / "regenie_example" / "covariates.txt"
    expected = pd.read_csv(original, sep=r"\s+").set_index("IID")
    aligned = tmp_path / "covariates_aligned.txt"
    aligned.write_text("".join("  " + "   ".join(line.split()) + " \n" for line in original.read_text().splitlines()))
    for path in (original, aligned):
        with KnowledgeGraph(None) as kg:
            report = kg.load(path, kind="clinical")
            assert report.records_read == len(expected) and "subject ids from 'IID'" in " ".join(report.notes)
            table = kg.matrix(kind="clinical")
            ids = [str(iri).rsplit("/", 1)[-1] for iri in table.index]
            got = pd.Series(table["V2"].to_numpy(dtype=float), index=[int(i) for i in ids]).sort_index()
            np.testing.assert_allclose(got.to_numpy(), expected["V2"].sort_index().to_numpy(), rtol=1e-12)
