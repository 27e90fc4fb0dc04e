"""IBSI feature names from other extractors, long radiomics tables, and the IBSI code on filtered features.

The name table (``ontologies/ibsi_names.tsv``) is checked against the IBSI manual's source;
the names are then met in real tables: the FAIR-radiomics (Maastricht) inter-observer
study (dotted ``Fstat.mean`` names, long layout) and ImaGene's 1,522-feature table
(pyradiomics names on 22 image types).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import SKOS

from kg import KnowledgeGraph
from kg.analysis.ibsi_conformance import clean_heading, parse_manual
from loaders._contract import LoadContext
from loaders._ibsi import (
    any_feature_node,
    ibsi_name,
    ibsi_names,
    ibsi_table,
    pyradiomics_equivalent,
    resolve_feature,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MANUAL = SHARED / "ibsi" / "03_Image_features.rst"
MAASTRICHT = SHARED / "radiomics" / "maastricht_interobserver" / "Interobserver-Radiomics_IBSI_tables.zip"
IMAGENE = SHARED / "radiogenomics" / "imagene_lung" / "Lung_radiomic_features_new_cohort_n44.csv"


def _sections() -> dict[str, str]:
    """rst label (without ``feat_``) -> the text of its section up to the next heading."""
    text = MANUAL.read_text(encoding="utf-8")
    parts = re.split(r"\n\.\. _feat_([A-Za-z0-9_]+):\n", text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_every_manual_heading_has_one_name_row_checked_against_the_rst() -> None:
    manual = parse_manual(MANUAL)
    names = ibsi_names()
    assert len(names) == len(manual) == 172
    assert {(n.family, n.feature) for n in names.values()} == {(f.family, f.heading) for f in manual}
    sections = _sections()
    by_heading = {(f.family, f.heading): f for f in manual}
    for entry in names.values():
        feature = by_heading[(entry.family, entry.feature)]
        if feature.code:
            assert entry.code == feature.code, entry
        section = sections.get(entry.tag)
        if section is None:  # the one heading without a label (Small zone emphasis), see the note column
            assert feature.code is None and entry.code == "5QRC", entry
            continue
        assert clean_heading(section.strip().split("\n", 1)[0]) == entry.feature, entry
        formula = re.search(r"F_\{\\mathit\{([^}]+)\}\}", section)
        if formula:
            assert formula.group(1) == entry.name, entry


@pytest.mark.parametrize(
    ("written", "code", "pyradiomics"),
    [
        ("Fstat.mean", "Q4LE", "original_firstorder_Mean"),
        ("stat_mean", "Q4LE", "original_firstorder_Mean"),
        ("Fmorph.vol", "RNU0", "original_shape_MeshVolume"),
        ("morph_volume", "RNU0", "original_shape_MeshVolume"),
        ("Fcm.joint.max", "GYBY", "original_glcm_MaximumProbability"),
        ("cm_joint_max", "GYBY", "original_glcm_MaximumProbability"),
        ("cm_joint_max_d1_3d_avg", "GYBY", "original_glcm_MaximumProbability"),
    ],
)
def test_ibsi_names_share_the_pyradiomics_feature_node(written: str, code: str, pyradiomics: str) -> None:
    entry = ibsi_name(written)
    assert entry is not None and entry.code == code
    context = LoadContext()
    triples: list = []
    node = any_feature_node(context, resolve_feature(written), triples, written)
    assert node == context.mint("feature", pyradiomics)
    assert (node, SKOS.notation, Literal(code)) in triples
    assert (node, SKOS.altLabel, Literal(written)) in triples


def test_pyradiomics_equivalents_are_the_table_rows_of_that_code() -> None:
    for entry in ibsi_names().values():
        found = pyradiomics_equivalent(entry.code)
        rows = [r for r in ibsi_table().values() if r.ibsi_code == entry.code]
        if found is None:
            assert not rows, entry
        else:
            row = ibsi_table()[(found.feature_class, found.feature)]
            assert row.ibsi_code == entry.code and (row.status != "deprecated" or all(r.status == "deprecated" for r in rows))


def _maastricht_rows() -> list[dict[str, str]]:
    with zipfile.ZipFile(MAASTRICHT) as archive, archive.open("Feature_table.csv") as handle:
        return list(csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8")))


@pytest.fixture(scope="module")
def maastricht() -> list[dict[str, str]]:
    return _maastricht_rows()


def test_maastricht_dotted_names_resolve_where_the_manual_defines_them(maastricht: list[dict[str, str]]) -> None:
    """Every dotted name the manual writes as a formula F_{name} resolves to that feature; the others do not."""
    formulas = set(re.findall(r"F_\{\\mathit\{([^}]+)\}\}", MANUAL.read_text(encoding="utf-8")))
    formulas |= {"stat.P10", "stat.P90", "ih.P10"}  # written P_{10} in the rst; the table's note says so
    written = sorted({r["Feature_name"] for r in maastricht})
    resolved = {name: ibsi_name(name) for name in written}
    for name, entry in resolved.items():
        assert (entry is not None) == (name.removeprefix("F") in formulas), name
        if entry is not None:
            assert entry.name == name.removeprefix("F")
    count = sum(1 for entry in resolved.values() if entry is not None)
    assert (count, len(written)) == (93, 101)  # the 8 others are O-RAW's own names (pyrad.diam..., sph.sphericity, szm.zlnu ...)
    assert resolved["Fstat.mean"].code == "Q4LE"


def test_maastricht_long_table_loads_with_ibsi_codes(kg: KnowledgeGraph, tmp_path: Path, maastricht: list[dict[str, str]]) -> None:
    subjects = sorted({r["PatientID"] for r in maastricht})[:2]
    rows = [r for r in maastricht if r["PatientID"] in subjects]
    path = tmp_path / "maastricht_feature_table.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    report = kg.load(path, kind="radiomics-csv")
    assert any(note.startswith("layout long detected") for note in report.notes), report.notes
    keys = Counter((r["PatientID"], r["Feature_name"], r["ImageSpace_name"], r["FeatureParameterSpace_name"], r["CalculationRunSpace_name"]) for r in rows)
    ambiguous = {k for k, n in keys.items() if n > 1}
    assert len(report.rejected) == sum(keys[k] for k in ambiguous)
    expected = sorted(
        (r["PatientID"], float(r["Value"])) for r in rows
        if r["Feature_name"] == "Fstat.mean" and (r["PatientID"], r["Feature_name"], r["ImageSpace_name"],
                                                 r["FeatureParameterSpace_name"], r["CalculationRunSpace_name"]) not in ambiguous
    )
    found = kg.query(
        "SELECT ?id ?v WHERE { ?m igkg:feature ?f ; igkg:value ?v ; igkg:subject/igkg:identifier ?id . "
        "?f skos:notation 'Q4LE' ; igkg:pyradiomicsName 'original_firstorder_Mean' }"
    )
    assert sorted(zip(found["id"], found["v"], strict=True)) == expected
    unresolved = {r["Feature_name"] for r in rows if ibsi_name(r["Feature_name"]) is None}
    assert report.unmapped["feature"] == unresolved


def test_imagene_filtered_features_carry_their_base_ibsi_code(kg: KnowledgeGraph) -> None:
    """'All measurements of IBSI Q4LE on any image' finds every filtered Mean of ImaGene's table (it kept no original one)."""
    kg.load(IMAGENE, kind="radiomics-csv")
    with IMAGENE.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    columns = [c for c in table[0] if c.endswith("_firstorder_Mean")]
    assert len(columns) > 10 and all(not c.startswith("original_") for c in columns)  # only filtered Means were kept
    expected = sum(1 for row in table for c in columns if row[c].strip() and row[c].strip().lower() != "nan")
    found = kg.query("SELECT (COUNT(?m) AS ?n) WHERE { ?m igkg:feature/skos:notation 'Q4LE' }")
    assert int(found["n"].iloc[0]) == expected
    types = kg.query("SELECT DISTINCT ?t WHERE { ?f skos:notation 'Q4LE' ; igkg:imageType ?t }")
    assert set(types["t"]) == {c.removesuffix("_firstorder_Mean") for c in columns} | {"original"}  # + the base feature
    # every coded filtered feature has the code of its base feature
    mismatched = kg.query(
        "SELECT ?f WHERE { ?f igkg:baseFeature ?b ; skos:notation ?c . FILTER NOT EXISTS { ?b skos:notation ?c } }"
    )
    assert mismatched.empty
