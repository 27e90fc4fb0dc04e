"""BGEN encodings the example does not use: zstd, other bit depths, phased and haploid data, the .bgi.

A small BGEN 1.2 writer (layout 2, from the specification) re-encodes known genotypes; the reader must
give back the dosages the written probabilities imply.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import zstandard

from loaders._genotypes import GenotypeError, open_genotypes


def _pack(values: np.ndarray, bits: int) -> bytes:
    """Unsigned ``bits``-bit integers packed least-significant bit first."""
    stream = ((values.astype(np.uint64)[:, None] >> np.arange(bits, dtype=np.uint64)) & 1).astype(np.uint8)
    return np.packbits(stream.ravel(), bitorder="little").tobytes()


def write_bgen(
    path: Path,
    variants: list[tuple[str, str, int, str, str]],
    stored: list[np.ndarray],
    *,
    ploidy: np.ndarray,
    missing: list[np.ndarray],
    phased: bool,
    bits: int,
    compression: str | None,
    sample_ids: list[str] | None,
) -> list[tuple[int, int]]:
    """Write a layout-2 BGEN; ``stored[v]`` holds each sample's ``ploidy`` stored integers, in order.

    Returns (start, size) of each variant block, for a .bgi index.
    """
    n = len(ploidy)
    flags = {None: 0, "zlib": 1, "zstd": 2}[compression] | (2 << 2) | ((1 << 31) if sample_ids else 0)
    header = struct.pack("<III", 20, len(variants), n) + b"bgen" + struct.pack("<I", flags)
    samples = b""
    if sample_ids:
        body = b"".join(struct.pack("<H", len(s)) + s.encode() for s in sample_ids)
        samples = struct.pack("<II", 8 + len(body), n) + body
    out = bytearray(struct.pack("<I", len(header) + len(samples)) + header + samples)
    blocks = []
    for (vid, chrom, pos, a1, a2), values, miss in zip(variants, stored, missing, strict=True):
        start = len(out)
        ident = b"".join(struct.pack("<H", len(s)) + s.encode() for s in ("", vid, chrom))
        alleles = [a1, *a2.split(",")]  # "C,T" as a2 writes a multi-allelic variant
        ident += struct.pack("<IH", pos, len(alleles)) + b"".join(struct.pack("<I", len(a)) + a.encode() for a in alleles)
        ploidy_bytes = (ploidy | np.where(miss, 0x80, 0)).astype(np.uint8).tobytes()
        data = (struct.pack("<IHBB", n, len(alleles), int(ploidy.min()), int(ploidy.max())) + ploidy_bytes
                + struct.pack("<BB", int(phased), bits) + _pack(values, bits))
        if compression is None:
            geno = struct.pack("<I", len(data)) + data
        else:
            packed = zlib.compress(data) if compression == "zlib" else zstandard.ZstdCompressor().compress(data)
            geno = struct.pack("<II", len(packed) + 4, len(data)) + packed
        out += ident + geno
        blocks.append((start, len(out) - start))
    path.write_bytes(bytes(out))
    return blocks


def write_bgi(path: Path, bgen: Path, variants: list[tuple[str, str, int, str, str]], blocks: list[tuple[int, int]],
              *, file_size: int | None = None) -> None:
    """A bgenix-style sqlite index (tables Metadata and Variant)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE Metadata (filename TEXT, file_size INT, last_write_time INT,"
                   " first_1000_bytes BLOB, index_creation_time INT)")
        db.execute("CREATE TABLE Variant (chromosome TEXT, position INT, rsid TEXT, number_of_alleles INT,"
                   " allele1 TEXT, allele2 TEXT, file_start_position INT, size_in_bytes INT)")
        db.execute("INSERT INTO Metadata VALUES (?, ?, 0, ?, 0)",
                   (bgen.name, file_size or bgen.stat().st_size, bgen.read_bytes()[:1000]))
        db.executemany("INSERT INTO Variant VALUES (?, ?, ?, 2, ?, ?, ?, ?)",
                       [(c, p, v, a1, a2, s, z) for (v, c, p, a1, a2), (s, z) in zip(variants, blocks, strict=True)])


@pytest.fixture(scope="module")
def regenie(shared_data: Path) -> Path:
    return shared_data / "genotypes" / "regenie_example"


@pytest.mark.parametrize("compression", ["zstd", None])
def test_regenie_example_reencoded_reads_the_same(tmp_path: Path, regenie: Path, compression: str | None) -> None:
    with open_genotypes(regenie / "example.bed") as plink:
        dosage = plink.read(0, plink.n_variants)  # count of the first (effect) allele
        table = plink.variants
        variants = [(r.id, r.chrom, int(r.pos), r.effect_allele, r.other_allele) for r in table.itertuples()]
        ids = plink.samples["iid"].tolist()
    n = dosage.shape[0]
    top = 255
    stored = []
    for column in dosage.T:  # hard calls: P(AA) = [count == 2], P(AB) = [count == 1]
        stored.append(np.column_stack([(column == 2) * top, (column == 1) * top]).ravel())
    path = tmp_path / "example_zstd.bgen"
    blocks = write_bgen(path, variants, stored, ploidy=np.full(n, 2), missing=[np.zeros(n, bool)] * len(variants),
                        phased=False, bits=8, compression=compression, sample_ids=ids)
    write_bgi(path.with_name(path.name + ".bgi"), path, variants, blocks)
    with open_genotypes(path) as bgen:
        assert f"compression {compression or 'none'}; dosage of the first allele" in bgen.notes
        assert "variant table from the index example_zstd.bgen.bgi" in bgen.notes
        assert bgen.samples["iid"].tolist() == ids
        np.testing.assert_array_equal(bgen.read(0, bgen.n_variants), dosage)
        np.testing.assert_array_equal(np.hstack([b.dosages for b in bgen.iter_blocks(333)]), dosage)


@pytest.mark.parametrize("bits", [3, 8, 16, 32])
def test_phased_and_haploid_probabilities(tmp_path: Path, bits: int) -> None:
    rng = np.random.default_rng(bits)
    n, m = 11, 5
    top = 2**bits - 1
    ploidy = np.array([2, 1, 2, 2, 1, 2, 2, 2, 1, 2, 2])  # haploid samples, as male X
    variants = [(f"rs{i}", "X", 1000 + i, "A", "G") for i in range(m)]
    missing = [rng.random(n) < 0.2 for _ in range(m)]
    for phased in (True, False):
        stored, expected = [], []
        for v in range(m):
            values, dose = [], np.empty(n)
            for s in range(n):
                if phased or ploidy[s] == 1:  # P(allele A) per haplotype
                    haps = rng.integers(0, top + 1, ploidy[s])
                    values.extend(haps)
                    dose[s] = haps.sum() / top * (2 if ploidy[s] == 1 else 1)
                else:  # P(AA), P(AB) with P(AA) + P(AB) <= 1
                    aa = int(rng.integers(0, top + 1))
                    ab = int(rng.integers(0, top - aa + 1))
                    values.extend([aa, ab])
                    dose[s] = (2 * aa + ab) / top
            stored.append(np.array(values))
            expected.append(np.where(missing[v], np.nan, dose))
        path = tmp_path / f"p{int(phased)}_{bits}.bgen"
        write_bgen(path, variants, stored, ploidy=ploidy, missing=missing, phased=phased, bits=bits,
                   compression="zstd", sample_ids=None)
        path.with_suffix(".sample").write_text(
            "ID_1 ID_2 missing sex\n0 0 0 D\n" + "".join(f"F{i} I{i} 0 {1 + (i % 2)}\n" for i in range(n)))
        with open_genotypes(path) as bgen:
            assert bgen.samples["iid"].tolist() == [f"I{i}" for i in range(n)]
            assert bgen.samples["sex"].tolist() == [1 + (i % 2) for i in range(n)]
            np.testing.assert_allclose(bgen.read(0, m), np.column_stack(expected), rtol=1e-12, equal_nan=True)
        with open_genotypes(path, bgen_ref="first") as second:
            np.testing.assert_allclose(second.read(0, m), 2 - np.column_stack(expected), rtol=1e-12, equal_nan=True)


def test_stale_index_is_ignored_and_wrong_sample_count_is_an_error(tmp_path: Path) -> None:
    n = 4
    variants = [("rs1", "1", 10, "A", "G"), ("rs2", "1", 20, "C", "T")]
    stored = [np.array([255, 0] * n), np.array([0, 255] * n)]
    path = tmp_path / "small.bgen"
    blocks = write_bgen(path, variants, stored, ploidy=np.full(n, 2), missing=[np.zeros(n, bool)] * 2,
                        phased=False, bits=8, compression="zlib", sample_ids=["a", "b", "c", "d"])
    write_bgi(path.with_name("small.bgen.bgi"), path, variants[::-1], blocks[::-1], file_size=12345)
    with open_genotypes(path) as bgen:
        assert "variant table from a pass over the file" in bgen.notes  # index made for another file
        assert bgen.variants["id"].tolist() == ["rs1", "rs2"]
        np.testing.assert_array_equal(bgen.read(0, 2), np.array([[2.0, 1.0]] * n))
    sample = tmp_path / "three.sample"
    sample.write_text("ID_1 ID_2 missing\n0 0 0\na a 0\nb b 0\nc c 0\n")
    with pytest.raises(GenotypeError, match="4 samples in the file but 3 sample ids"):
        open_genotypes(path, sample_file=sample)


def test_multiallelic_variant_is_refused_or_skipped(tmp_path: Path) -> None:
    n = 3
    variants = [("rs1", "1", 10, "A", "G"), ("rs2", "1", 20, "C", "T,G"), ("rs3", "1", 30, "G", "A")]
    # diploid unphased: 2 stored values per sample when biallelic, 5 with three alleles
    stored = [np.array([255, 0] * n), np.array([255, 0, 0, 0, 0] * n), np.array([0, 0] * n)]
    path = tmp_path / "multi.bgen"
    write_bgen(path, variants, stored, ploidy=np.full(n, 2), missing=[np.zeros(n, bool)] * 3,
               phased=False, bits=8, compression="zlib", sample_ids=["a", "b", "c"])
    with pytest.raises(GenotypeError, match=r"record variant 2: variant 'rs2' at 1:20 is multi-allelic \(3 alleles\)"):
        open_genotypes(path)
    with open_genotypes(path, on_multiallelic="skip") as bgen:
        assert bgen.variants["id"].tolist() == ["rs1", "rs3"]
        assert bgen.rejected[["record", "id", "reason"]].values.tolist() == [[2, "rs2", "3 alleles"]]
        np.testing.assert_array_equal(bgen.read(0, 2), np.array([[2.0, 0.0]] * n))
