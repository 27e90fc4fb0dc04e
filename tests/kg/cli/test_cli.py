"""The igkg command line, run as a user would: a real process, a real on-disk store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

GOOD = Path(__file__).resolve().parents[2] / "data" / "rdf" / "good" / "nlm_samples_head.nt"
BAD = Path(__file__).resolve().parents[2] / "data" / "rdf" / "bad" / "truncated.nt"


def igkg(*args: str, store: Path, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the igkg console entry point in a subprocess against ``store``."""
    env = {**os.environ, "IGKG_STORE": str(store)}
    result = subprocess.run(
        [sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, env=env, input=stdin, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"igkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def test_load_query_stats_export_drop(tmp_path: Path) -> None:
    store = tmp_path / "store"
    loaded = igkg("load", str(GOOD), store=store)
    assert "400 triples" in loaded.stdout
    stats = json.loads(igkg("stats", "--format", "json", store=store).stdout)
    sources = {g["source"]: g["triples"] for g in stats["graphs"]}
    assert sources["rdf/nlm_samples_head.nt"] == 400
    csv = igkg("query", "-", "--format", "csv", store=store, stdin="SELECT ?l WHERE { mesh:C012734 rdfs:label ?l }").stdout
    assert csv.splitlines() == ["l", "ampevit"]
    ask = igkg("query", "-", store=store, stdin="ASK { mesh:C012734 a meshv:SCR_Chemical }").stdout
    assert ask.strip() in {"true", "false"}
    out = tmp_path / "dump.nq"
    igkg("export", str(out), "--format", "nquads", store=store)
    assert sum(1 for _ in out.open()) == stats["triples"]
    dropped = igkg("drop", GOOD.name, store=store)
    assert "400 triples" in dropped.stdout
    after = json.loads(igkg("stats", "--format", "json", store=store).stdout)
    assert not any(g["source"] for g in after["graphs"])


def test_broken_file_exits_non_zero_with_file_and_line_and_changes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "store"
    igkg("load", str(GOOD), store=store)
    before = igkg("stats", "--format", "json", store=store).stdout
    failed = igkg("load", str(BAD), store=store, check=False)
    assert failed.returncode != 0
    message = failed.stderr.strip()
    assert "error:" in message and str(BAD) in message.replace("\n", "") and "line 7" in message
    assert "Traceback" not in failed.stderr
    assert igkg("stats", "--format", "json", store=store).stdout == before


@pytest.mark.slow
def test_sigkill_during_a_load_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    store = tmp_path / "store"
    igkg("load", str(GOOD), store=store)
    before = igkg("stats", "--format", "json", store=store).stdout
    big = tmp_path / "big.nt"
    with big.open("w") as out:
        for i in range(1_500_000):
            out.write(f'<http://example.org/s{i}> <http://example.org/p{i % 7}> "value {i}" .\n')
    env = {**os.environ, "IGKG_STORE": str(store)}
    for delay in (0.5, 2.0):
        process = subprocess.Popen([sys.executable, "-m", "kg.cli", "load", str(big)], env=env)
        time.sleep(delay)
        assert process.poll() is None, "the load finished before it could be killed; make the file bigger"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert igkg("stats", "--format", "json", store=store).stdout == before
