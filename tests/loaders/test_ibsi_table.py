"""The pyradiomics -> IBSI table, checked row by row against the IBSI manual's source and pyradiomics."""

from __future__ import annotations

import inspect
import re
from collections import Counter
from pathlib import Path

import pytest
from radiomics import getFeatureClasses
from rdflib import Literal
from rdflib.namespace import SKOS

from kg.analysis.ibsi_conformance import parse_manual
from kg.core.namespaces import IGKG, RADO
from loaders._contract import LoadContext
from loaders._ibsi import feature_node, ibsi_table


@pytest.fixture(scope="module")
def manual(shared_data: Path) -> list:
    return parse_manual(shared_data / "ibsi" / "03_Image_features.rst")


def _raw_codes(path: Path) -> list[str]:
    return re.findall(r"<p[^>]*>([A-Z0-9]{4})</p>", path.read_text(encoding="utf-8"))


def test_parser_finds_every_feature_heading_and_code(shared_data: Path, manual: list) -> None:
    text = (shared_data / "ibsi" / "03_Image_features.rst").read_text(encoding="utf-8")
    headings = len(re.findall(r"\n[^\n]+\n\^{3,}\n", text))
    assert len(manual) == headings == 172
    parsed = {f.code for f in manual if f.code}
    # every code under a feature heading is found; the others are family/concept codes
    family_codes = set(_raw_codes(shared_data / "ibsi" / "03_Image_features.rst")) - parsed
    assert {"HCUG", "LFYI", "REK0", "MPUJ"} <= family_codes
    assert [f.heading for f in manual if not f.code] == ["Small zone emphasis"]


def test_table_covers_exactly_the_installed_pyradiomics_features() -> None:
    installed = {(cls, name) for cls, klass in getFeatureClasses().items() for name in klass.getFeatureNames()}
    assert set(ibsi_table()) == installed


def test_every_code_belongs_to_the_heading_and_family_the_table_names(manual: list) -> None:
    by_code = {}
    for feature in manual:
        if feature.code:
            by_code.setdefault(feature.code, []).append(feature)
    headings = {(f.family, f.heading): f for f in manual}
    wrong = []
    for row in ibsi_table().values():
        if row.ibsi_code is None:
            continue
        if row.ibsi_code in by_code:
            if not any(f.heading == row.ibsi_feature and f.family == row.ibsi_family for f in by_code[row.ibsi_code]):
                found = [(f.family, f.heading) for f in by_code[row.ibsi_code]]
                wrong.append((row.feature_class, row.feature, row.ibsi_code, found))
        else:
            # a code the rst does not print: the heading must exist there without a code, and the source be cited
            heading = headings.get((row.ibsi_family, row.ibsi_feature))
            assert heading is not None and heading.code is None, row
            assert "DICOM PS3.16" in row.evidence, row
    assert not wrong, wrong


def test_statuses_are_consistent() -> None:
    for row in ibsi_table().values():
        if row.status == "not-defined":
            assert row.ibsi_code is None and row.ibsi_feature is None and row.deviation, row
        else:
            assert row.ibsi_code and row.ibsi_feature and row.ibsi_family, row
        if row.status == "defined-deviates":
            assert row.deviation, row
    counts = Counter(r.ibsi_code for r in ibsi_table().values() if r.ibsi_code)
    for code, n in counts.items():
        if n > 1:  # only a deprecated alias may share its equal feature's code
            statuses = sorted(r.status for r in ibsi_table().values() if r.ibsi_code == code)
            assert statuses.count("deprecated") == n - 1, (code, statuses)


def test_rows_agree_with_pyradiomics_docstrings() -> None:
    classes = getFeatureClasses()
    for (cls, name), row in ibsi_table().items():
        doc = inspect.getdoc(getattr(classes[cls], f"get{name}FeatureValue")) or ""
        flat = " ".join(doc.split())
        if "Not present in IBSI feature definitions" in flat:
            assert row.status == "not-defined", (cls, name)
        match = re.search(r"Defined (?:by|in) IBSI as ``?([A-Za-z ]+?)``?\.?(?:\s|$)", flat)
        if match:  # e.g. "Defined by IBSI as Intensity Histogram Entropy" -> Discretised intensity entropy
            assert row.ibsi_feature is not None
            heading = re.sub(r"\s*\(.*?\)", "", row.ibsi_feature)
            assert match.group(1).split()[-1].lower() == heading.split()[-1].lower(), (cls, name, match.group(1), heading)
        if "excess kurtosis" in flat:
            assert row.status == "defined-deviates"
        if "DEPRECATED" in flat or getattr(getattr(classes[cls], f"get{name}FeatureValue"), "_is_deprecated", False):
            assert row.status in {"deprecated", "not-defined"}, (cls, name)


def test_rows_public_tables_get_wrong() -> None:
    table = ibsi_table()
    # first-order Energy is the intensity-based energy, not a histogram feature
    assert table[("firstorder", "Energy")].ibsi_code == "N8CA"
    assert table[("firstorder", "Energy")].ibsi_family == "Intensity-based statistical features"
    # GLDM is IBSI's NGLDM, never the grey level distance zone matrix
    assert {r.ibsi_family for (c, _), r in table.items() if c == "gldm"} == {"Neighbouring grey level dependence based features"}
    # mesh volume and voxel volume are two features
    assert table[("shape", "MeshVolume")].ibsi_code == "RNU0"
    assert table[("shape", "VoxelVolume")].ibsi_code == "YEKZ"
    assert table[("firstorder", "Kurtosis")].status == "defined-deviates"
    assert table[("firstorder", "TotalEnergy")].ibsi_code is None
    assert all(r.ibsi_code is None for (c, _), r in table.items() if c == "shape2D")


def test_filtered_feature_carries_the_code_of_its_base_feature() -> None:
    triples: list = []
    context = LoadContext()
    node = feature_node(context, "wavelet-LLH_firstorder_Mean", triples)
    base = context.mint("feature", "original_firstorder_Mean")
    assert (node, IGKG.baseFeature, base) in triples
    assert (base, SKOS.notation, Literal("Q4LE")) in triples
    assert (base, IGKG.roClass, RADO["Q4LE"]) in triples
    assert [o for s, p, o in triples if s == node and p == SKOS.notation] == [Literal("Q4LE")]
    assert not [t for t in triples if t[0] == node and t[1] == IGKG.roClass]
    assert (node, IGKG.imageType, Literal("wavelet-LLH")) in triples
    # a feature IBSI does not define gets no code on any image
    other: list = []
    filtered = feature_node(context, "log-sigma-1-0-mm-3D_firstorder_TotalEnergy", other)
    assert not [t for t in other if t[1] == SKOS.notation and t[0] == filtered]
