"""Gene ranges (glist-hg19, GTF, GFF3) and the variant -> gene interval join."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loaders._genotypes import GenotypeError, read_gene_ranges, variants_to_genes
from loaders._genotypes.gene_ranges import BuildMismatchError

GENES = Path(__file__).resolve().parents[2] / "data" / "genotypes" / "genes"


@pytest.fixture(scope="module")
def glist_path(shared_data: Path) -> Path:
    return shared_data / "genotypes" / "glist-hg19"


def brute_force(variants: pd.DataFrame, genes: pd.DataFrame, window: int) -> set[tuple[str, str]]:
    pairs = set()
    for row in variants.itertuples():
        on = genes[(genes["chrom"] == row.chrom) & (genes["start"] - window <= row.pos) & (row.pos <= genes["end"] + window)]
        pairs.update((row.id, symbol) for symbol in on["symbol"])
    return pairs


def test_glist_reads_with_build_from_the_name(glist_path: Path) -> None:
    genes = read_gene_ranges(glist_path)
    lines = [line.split() for line in glist_path.read_text().splitlines() if line.strip()]
    assert genes.build == "GRCh37" and genes.layout == "glist"
    assert len(genes.table) == len(lines)
    first = genes.table.iloc[0]
    assert (first["chrom"], first["start"], first["end"], first["symbol"]) == (
        lines[0][0], int(lines[0][1]), int(lines[0][2]), lines[0][3])
    assert set(genes.table["chrom"]) >= {"1", "22", "X", "Y", "XY"}
    with pytest.raises(BuildMismatchError, match="file name says hg19"):
        read_gene_ranges(glist_path, build="GRCh38")


@pytest.mark.parametrize("window", [0, 20_000])
def test_join_equals_brute_force(glist_path: Path, window: int) -> None:
    genes = read_gene_ranges(glist_path, build="hg19")
    rng = np.random.default_rng(window)
    table = genes.table
    picked = table.sample(150, random_state=window)
    # variants on gene edges, just outside them, at the window's edge, and anywhere on 1, 7, X
    positions = np.concatenate([picked["start"], picked["end"], picked["start"] - 1, picked["end"] + 1,
                                picked["start"] - window, picked["end"] + window + 1])
    chroms = np.concatenate([picked["chrom"].to_numpy()] * 6)
    extra = rng.integers(1, 150_000_000, 300)
    variants = pd.DataFrame({
        "id": [f"v{i}" for i in range(len(positions) + len(extra))],
        "chrom": np.concatenate([chroms, rng.choice(["1", "7", "X"], len(extra))]),
        "pos": np.concatenate([positions, extra]),
    })
    joined = variants_to_genes(variants, genes, build="GRCh37", window=window)
    assert set(zip(joined["variant"], joined["symbol"], strict=True)) == brute_force(variants, table, window)
    assert len(joined) == len(set(zip(joined["variant"], joined["symbol"], strict=True)))
    inside = (joined["pos"] >= joined["start"]) & (joined["pos"] <= joined["end"])
    assert (joined.loc[inside, "distance"] == 0).all()
    assert (joined.loc[~inside, "distance"] > 0).all() and (joined["distance"] <= window).all()
    assert joined["variant"].map(lambda v: int(v[1:])).is_monotonic_increasing  # variant order kept


def test_gtf_and_gff3_give_the_same_genes() -> None:
    gtf = read_gene_ranges(GENES / "genes.gtf")
    gff = read_gene_ranges(GENES / "genes.gff3")
    assert gtf.build == gff.build == "GRCh38"
    pd.testing.assert_frame_equal(gtf.table, gff.table)
    assert gtf.table["symbol"].tolist() == ["OR4F5", "EGFR", "KRAS", "MECP2"]  # transcripts and exons skipped
    assert gtf.table.loc[1, ["chrom", "start", "end", "gene_id"]].tolist() == ["7", 55019017, 55211628, "ENSG00000146648"]
    variants = pd.DataFrame({"id": ["rs1", "rs2", "rs3"], "chrom": ["chr7", "12", "X"],
                             "pos": [55019017, 25250937, 154097717 + 5000]})
    joined = variants_to_genes(variants, gtf, build="hg38", window=1000)
    assert joined[["variant", "symbol", "distance"]].values.tolist() == [["rs1", "EGFR", 0], ["rs2", "KRAS", 1]]


def test_build_mixing_is_an_error(glist_path: Path) -> None:
    gtf = read_gene_ranges(GENES / "genes.gtf")
    variants = pd.DataFrame({"id": ["rs1"], "chrom": ["7"], "pos": [55019017]})
    with pytest.raises(BuildMismatchError, match="variants are on GRCh37 but the gene ranges"):
        variants_to_genes(variants, gtf, build="GRCh37")
    with pytest.raises(BuildMismatchError, match="genome build is unknown"):
        variants_to_genes(variants, gtf, build=None)
    with pytest.raises(BuildMismatchError, match="states genome build GRCh38"):
        read_gene_ranges(GENES / "genes.gff3", build="hg19")


def test_bad_gene_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "genes_hg19.txt"
    bad.write_text("1 100 200 A\n1 300 B\n")
    with pytest.raises(GenotypeError, match=r"genes_hg19.txt, line 2: 3 fields where 4 are expected"):
        read_gene_ranges(bad)
    unknown = tmp_path / "genes.txt"
    unknown.write_text("1 100 200 A\n")
    with pytest.raises(GenotypeError, match="genome build unknown"):
        read_gene_ranges(unknown)
