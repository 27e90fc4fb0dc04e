"""The IBSI conformance report on the IBSI digital phantom (reference values from the manual's source)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
from radiomics import featureextractor
from typer.testing import CliRunner

from kg.cli import app
from kg.analysis.ibsi_conformance import PHANTOM_SETTINGS, conformance_report

MEASURED_WITHIN_TOLERANCE = 99
"""What igkg (pyradiomics 3.0.1) reaches today: fewer is a regression."""


@pytest.fixture(scope="module")
def paths(shared_data: Path) -> tuple[Path, Path]:
    return shared_data / "ibsi" / "03_Image_features.rst", shared_data / "ibsi" / "digital_phantom"


@pytest.fixture(scope="module")
def report(paths: tuple[Path, Path]) -> pd.DataFrame:
    return conformance_report(*paths)


def test_reference_values_are_the_manuals(report: pd.DataFrame, paths: tuple[Path, Path]) -> None:
    rows = report.set_index("ibsi_code")
    # read by hand off 03_Image_features.rst (dig. phantom rows)
    assert rows.loc["RNU0", "reference"] == 556 and rows.loc["RNU0", "tolerance"] == 4
    assert rows.loc["Q4LE", "reference"] == 2.15 and rows.loc["Q4LE", "tolerance"] == ""
    assert rows.loc["IPH6", "reference"] == -0.355
    assert rows.loc["GYBY", "reference"] == 0.503 and rows.loc["GYBY", "aggregation"] == "3D, averaged"
    assert rows.loc["48P8", "reference"] == 550 and rows.loc["48P8", "aggregation"] == "3D"
    assert rows.loc["99N0", "reference"] == 1200 and rows.loc["99N0", "tolerance"] == 10
    # every reference appears on a dig. phantom line of its feature's section
    text = paths[0].read_text(encoding="utf-8")
    for record in report.itertuples():
        start = text.index(f">{record.ibsi_code}</p>") if record.ibsi_code != "5QRC" else text.index("Small zone emphasis\n^^^") + 40
        section = text[start : start + 12000].split("\n^^^")[0]
        lines = [ln for ln in section.splitlines() if "dig. phantom" in ln and (record.aggregation or "") in ln]
        assert lines, record.ibsi_code
        numbers = [float(x) for x in re.findall(r"-?\d+\.?\d*", lines[0].split("|")[-4].replace(":math:`-`\\ ", "-"))]
        assert numbers and (numbers[0] == record.reference or "times" in lines[0]), (record.ibsi_code, lines[0])


def test_igkg_values_equal_a_direct_pyradiomics_call(report: pd.DataFrame, paths: tuple[Path, Path]) -> None:
    phantom = paths[1]
    extractor = featureextractor.RadiomicsFeatureExtractor(PHANTOM_SETTINGS)
    direct = extractor.execute(str(next((phantom / "image").glob("*.nii*"))), str(next((phantom / "mask").glob("*.nii*"))))
    computed = report[report["pyradiomics_feature"] != ""]
    assert len(computed) == 102
    for record in computed.itertuples():
        assert record.igkg_value == pytest.approx(float(direct[record.pyradiomics_feature]), rel=1e-12)


def test_tolerance_column_and_regression_floor(report: pd.DataFrame) -> None:
    computed = report[report["within_tolerance"] != ""]
    for record in computed.itertuples():
        if record.tolerance != "":
            expected = abs(record.igkg_value - record.reference) <= record.tolerance + 1e-9
        else:  # the manual gives phantom values to 3 significant digits
            expected = math.isclose(float(f"{record.igkg_value:.3g}"), record.reference)
        assert record.within_tolerance == expected, record
    within = int((computed["within_tolerance"] == True).sum())  # noqa: E712
    assert within >= MEASURED_WITHIN_TOLERANCE
    failing = computed[computed["within_tolerance"] == False]  # noqa: E712
    assert set(failing["ibsi_code"]) <= {"IPH6", "P9VJ", "7J51"}
    assert all(failing["reason"].str.len() > 20)
    kurtosis = report.set_index("ibsi_code").loc["IPH6"]
    assert kurtosis["igkg_value"] - 3 == pytest.approx(kurtosis["reference"], abs=0.001)  # excess kurtosis: -3
    not_computed = report[report["within_tolerance"] == ""]
    assert set(not_computed["reason"]) == {"not computed by pyradiomics"}


def test_cli_writes_csv_and_markdown(tmp_path: Path, paths: tuple[Path, Path]) -> None:
    runner = CliRunner()
    for name in ("ibsi.csv", "ibsi.md"):
        out = tmp_path / name
        result = runner.invoke(app, ["ibsi-report", "--output", str(out), "--manual", str(paths[0]), "--phantom", str(paths[1])])
        assert result.exit_code == 0, result.output
        assert out.exists()
    frame = pd.read_csv(tmp_path / "ibsi.csv", keep_default_na=False)
    assert {"ibsi_code", "reference", "igkg_value", "within_tolerance", "reason"} <= set(frame.columns)
    assert (frame["within_tolerance"].astype(str) == "True").sum() >= MEASURED_WITHIN_TOLERANCE
    assert "within tolerance" in (tmp_path / "ibsi.md").read_text()
    bad = runner.invoke(app, ["ibsi-report", "--manual", str(tmp_path / "missing.rst"), "--phantom", str(paths[1])])
    assert bad.exit_code == 1
