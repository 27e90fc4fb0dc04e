"""``igkg load`` of genotypes in a subprocess: a PLINK prefix with ``--kind plink``, ``--gene-ranges`` and
``--window`` as flags (the same links as ``-o gene_ranges=... -o window=...``), checked against glist-hg19."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from kg import KnowledgeGraph

DATA = Path(__file__).resolve().parents[2] / "data"
GOOD = DATA / "genotypes" / "good"
GENE_INFO = DATA / "genotypes" / "genes" / "Homo_sapiens.gene_info"


def igkg(*args: str, store: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "kg.cli", "--store", str(store), *args], check=False, capture_output=True,
                            text=True, env={**os.environ}, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"igkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _expected_links(glist: Path, bim: Path, window: int) -> set[tuple[int, str]]:
    ranges = pd.read_csv(glist, sep=r"\s+", header=None, names=["chrom", "start", "end", "symbol"], dtype={"chrom": str})
    variants = pd.read_csv(bim, sep=r"\s+", header=None, names=["chrom", "id", "cm", "pos", "a1", "a2"], dtype=str)
    genes = pd.read_csv(GENE_INFO, sep="\t", dtype=str)
    entrez = dict(zip(genes["Symbol"], genes["GeneID"], strict=True))
    expected = set()
    for row in variants.itertuples():
        pos = int(row.pos)
        near = ranges[(ranges["chrom"] == row.chrom) & (ranges["start"] - window <= pos) & (ranges["end"] + window >= pos)]
        expected |= {(pos, "http://identifiers.org/ncbigene/" + entrez[s]) for s in near["symbol"] if s in entrez}
    return expected


def _links(store: Path) -> set[tuple[int, str]]:
    with KnowledgeGraph(store, read_only=True) as kg:
        found = kg.query("SELECT ?p ?g WHERE { ?v igkg:nearGene ?g ; igkg:position ?p }")
    return set(zip(found["p"].astype(int), found["g"], strict=True))


def test_prefix_with_gene_ranges_and_window_flags(shared_data: Path, tmp_path: Path) -> None:
    for suffix in (".bed", ".bim", ".fam"):
        shutil.copyfile(GOOD / f"handmade_gt{suffix}", tmp_path / f"handmade_gt{suffix}")
    glist = shared_data / "genotypes" / "glist-hg19"
    store = tmp_path / "store"
    igkg("load", str(GENE_INFO), "--kind", "gene-info", store=store)
    result = igkg("load", str(tmp_path / "handmade_gt"), "--kind", "plink", "-o", "build=GRCh37",
                  "--gene-ranges", str(glist), "--window", "0", store=store)
    assert "handmade_gt.bed [plink]" in result.stdout and "window 0 bp" in result.stdout
    inside = _links(store)
    assert inside == _expected_links(glist, GOOD / "handmade_gt.bim", 0) and inside
    wide = 200_000
    result = igkg("load", str(tmp_path / "handmade_gt"), "-o", "build=GRCh37", "--gene-ranges", str(glist),
                  "--window", str(wide), store=store)  # kind from the sibling .bed; another window reloads
    assert f"window {wide} bp" in result.stdout and "unchanged" not in result.stdout
    near = _links(store)
    assert near == _expected_links(glist, GOOD / "handmade_gt.bim", wide) and near > inside
    same = igkg("load", str(tmp_path / "handmade_gt.bed"), "-o", "build=GRCh37", "-o", f"gene_ranges={glist}",
                "-o", f"window={wide}", store=store)  # -o key=value is the same load
    assert "unchanged" in same.stdout


def test_window_without_a_genotype_kind_is_refused(tmp_path: Path) -> None:
    result = igkg("load", str(GENE_INFO), "--kind", "gene-info", "--window", "10", store=tmp_path / "store", check=False)
    assert result.returncode != 0 and "window" in result.stdout + result.stderr
