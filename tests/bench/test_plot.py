"""``python -m bench.plot``: cost against size from benchmark JSON, merged file by file."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from bench.plot import RESULTS, cost_figure, main, read_results


def test_merging_keeps_the_later_measurement(tmp_path: Path) -> None:
    row = {"section": "queries", "metric": "named query crosswalk (0 rows)", "size": "100k", "igkg": 1.0}
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"shapes": {"100k": {"triples": 100}}, "load": {}, "rows": [row]}))
    second.write_text(json.dumps({"shapes": {}, "load": {}, "rows": [{**row, "igkg": 2.0}]}))
    merged = read_results([first, second])
    assert [r["igkg"] for r in merged["rows"]] == [2.0]
    assert merged["shapes"]["100k"]["triples"] == 100


def test_the_committed_results_draw_three_panels(tmp_path: Path) -> None:
    results = read_results(sorted(RESULTS.glob("*.json")))
    figure = cost_figure(results)
    load, queries, associations = figure.axes
    sizes = sorted(s["triples"] for s in results["shapes"].values() if "triples" in s)
    igkg_load = load.get_lines()[0]
    assert list(igkg_load.get_xdata()) == sizes[: len(igkg_load.get_xdata())]
    named = {r["metric"].split()[2] for r in results["rows"] if r["section"] == "queries"}
    assert {line.get_label() for line in queries.get_lines() if not line.get_label().startswith("_")} == named
    assert len(associations.get_lines()) >= 2
    output = tmp_path / "cost.png"
    assert main(["--output", str(output)]) == 0
    data = output.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > height > 200
