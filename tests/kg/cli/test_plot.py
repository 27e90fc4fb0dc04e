"""``igkg plot``: real PNG and SVG files of a run's volcano and heatmap and of a feature by marker status.

The store holds the NSCLC-Radiogenomics feature table (features and EGFR status per subject)
and one stored run of every feature against EGFR status (every result kept, q_max = 1). The
expected counts are read from the CSV itself.
"""

from __future__ import annotations

import csv
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg import KnowledgeGraph
from kg.cli.app import app

FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
MARKER = "EGFR mutation status"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def table(shared_data: Path) -> list[dict[str, str]]:
    with (shared_data / FEATURES).open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def store(store_template, fresh_store, shared_data: Path) -> Path:
    def build(kg: KnowledgeGraph) -> None:
        from kg.analysis.associations import run_analysis, write_run

        kg.load(shared_data / FEATURES, kind="radiomics-csv", id_column="Case ID", cohort="NSCLC")
        write_run(kg, run_analysis(kg, markers=[MARKER], method="mannwhitney", q_max=1.0))

    return fresh_store(store_template("plot-nsclc-egfr", build))


def igkg(store: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--store", str(store), "plot", *args])
    return result.exit_code, result.output


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def points(svg: Path, group: str) -> int:
    """Markers drawn under the SVG group ``group`` (matplotlib writes each point as a <use>)."""
    root = ET.parse(svg).getroot()
    for element in root.iter(f"{SVG}g"):
        if element.get("id") == group:
            return sum(1 for _ in element.iter(f"{SVG}use"))
    return 0


def test_volcano_of_the_latest_run_as_png_and_svg(store: Path, tmp_path: Path, table: list[dict[str, str]]) -> None:
    features = [c for c in table[0] if c.startswith("original_")]
    png, svg = tmp_path / "volcano.png", tmp_path / "volcano.svg"
    for path in (png, svg):
        code, output = igkg(store, "volcano", "--run", "latest", "--output", str(path))
        assert code == 0, output
    width, height = png_size(png)
    assert width > 300 and height > 200
    # one point per tested feature: every NSCLC feature against EGFR status
    drawn = points(svg, "volcano-other") + points(svg, "volcano-significant")
    assert drawn == len(features)
    # the same input gives the same bytes
    again = tmp_path / "again.svg"
    assert igkg(store, "volcano", "--output", str(again))[0] == 0
    assert again.read_bytes() == svg.read_bytes()


def test_heatmap_png_and_svg(store: Path, tmp_path: Path) -> None:
    for name in ("heatmap.png", "heatmap.svg"):
        code, output = igkg(store, "heatmap", "--run", "latest", "--top", "12", "--output", str(tmp_path / name))
        assert code == 0, output
    png_size(tmp_path / "heatmap.png")
    root = ET.parse(tmp_path / "heatmap.svg").getroot()
    assert any(g.get("id") == "heatmap-cells" for g in root.iter(f"{SVG}g"))


def test_box_of_a_feature_by_marker_status(store: Path, tmp_path: Path, table: list[dict[str, str]]) -> None:
    feature = "original_firstorder_Minimum"
    from loaders import marker_value  # the loader's reading of a status cell (1 / 0 / unknown)

    expected = [0, 0]  # negative, positive: subjects with a known status and a value
    for row in table:
        status = marker_value(row[MARKER])
        if status is not None and row[feature].strip() not in ("", "NaN", "nan"):
            expected[int(status)] += 1
    assert sum(expected) > 100 and min(expected) > 10
    svg = tmp_path / "box.svg"
    code, output = igkg(store, "box", "--feature", feature, "--marker", MARKER, "--output", str(svg))
    assert code == 0, output
    assert [points(svg, "box-points-0"), points(svg, "box-points-1")] == expected
    code, output = igkg(store, "box", "--feature", feature, "--gene", "EGFR", "--output", str(tmp_path / "box.png"))
    assert code == 0, output
    png_size(tmp_path / "box.png")


def test_bad_requests_fail_with_one_line(store: Path, tmp_path: Path) -> None:
    code, output = igkg(store, "volcano", "--run", "0000000000000000", "--output", str(tmp_path / "x.png"))
    assert code == 1 and "no analysis run '0000000000000000'" in output
    code, output = igkg(store, "volcano", "--output", str(tmp_path / "x.pdf"))
    assert code == 1 and ".png or .svg" in output
    code, output = igkg(store, "box", "--output", str(tmp_path / "x.png"))
    assert code == 1 and "--feature" in output
    code, output = igkg(store, "pie", "--output", str(tmp_path / "x.png"))
    assert code == 1 and "volcano, heatmap, box" in output
    assert not (tmp_path / "x.png").exists()
