"""PLINK 1 binary genotypes: ``.bed`` (SNP-major) with ``.bim`` and ``.fam``, read with numpy.

The dosage is the count of the ``.bim`` column-5 allele (A1; PLINK 2 reads it as ALT). The ``.bed`` is
memory-mapped, so only the block being decoded is in memory.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from ._base import GenotypeError, GenotypeSource, parse_sex, sample_table, variant_table
from ._text import read_table, to_int

__all__ = ["PlinkSource", "open_plink", "plink_paths"]

MAGIC = b"\x6c\x1b\x01"
HINT = "a PLINK 1 fileset is FILE.bed + FILE.bim + FILE.fam from the same plink --make-bed run"

# 2-bit code -> dosage of A1: 00 hom A1, 01 missing, 10 het, 11 hom A2 (first sample in the low bits).
_CODE = np.array([2.0, np.nan, 1.0, 0.0])
_LUT = _CODE[(np.arange(256)[:, None] >> (2 * np.arange(4))[None, :]) & 3]  # (256, 4)


def plink_paths(path: str | Path) -> tuple[Path, Path, Path]:
    """``(bed, bim, fam)`` for a ``.bed`` path or a prefix."""
    path = Path(path)
    prefix = path.with_suffix("") if path.suffix.lower() in {".bed", ".bim", ".fam"} else path
    return (prefix.with_name(prefix.name + ".bed"), prefix.with_name(prefix.name + ".bim"),
            prefix.with_name(prefix.name + ".fam"))


class PlinkSource(GenotypeSource):
    """A PLINK 1 ``.bed/.bim/.fam`` fileset (see :func:`open_plink`)."""

    def __init__(self, path: str | Path) -> None:
        bed, bim, fam = plink_paths(path)
        if not bed.is_file():
            raise GenotypeError(bed, "file not found", hint="give the .bed file or the fileset prefix")
        fam_table, _ = read_table(fam, columns=6, hint=HINT)
        bim_table, bim_line = read_table(bim, columns=6, hint=HINT)
        samples = sample_table(fam_table[0], fam_table[1], parse_sex(fam_table[4]))
        pos = to_int(bim, bim_table[3], what="position", first_line=bim_line, hint=HINT)
        cm = np.asarray(bim_table[2].astype(float)) if len(bim_table) else None
        variants = variant_table(bim_table[1], bim_table[0], pos, bim_table[4], bim_table[5], cm)
        super().__init__(path=bed, kind="plink", samples=samples, variants=variants,
                         opener=functools.partial(open_plink, bed))
        self._bytes_per_variant = math.ceil(len(samples) / 4)
        self._check_size(bed, bim, fam)
        self._bed = np.memmap(bed, dtype=np.uint8, mode="r") if self.n_variants and len(samples) else None
        self._finish()

    def _check_size(self, bed: Path, bim: Path, fam: Path) -> None:
        with bed.open("rb") as handle:
            head = handle.read(3)
        size = bed.stat().st_size
        if len(head) < 3 or head[:2] != MAGIC[:2]:
            raise GenotypeError(bed, "not a PLINK 1 .bed file (magic bytes 6c 1b missing)", record="byte 0",
                                hint="give the .bed written by plink --make-bed")
        if head[2] != 1:
            raise GenotypeError(bed, "sample-major .bed (mode byte 0) is not supported", record="byte 2",
                                hint="rewrite it SNP-major with plink --bfile FILE --make-bed")
        per = self._bytes_per_variant
        n_var, n_sam = self.n_variants, self.n_samples
        expected = 3 + n_var * per
        if size == expected:
            return
        body = size - 3
        if n_var and body % n_var == 0 and body // n_var != per:
            found = body // n_var
            raise GenotypeError(
                bed,
                f"size {size} bytes holds {found} bytes per variant ({4 * found - 3}-{4 * found} samples) for "
                f"the {n_var} variants of {bim.name}, but {fam.name} lists {n_sam} samples ({per} bytes per variant)",
                hint=f"{fam.name} does not belong to this .bed; use the .fam written with it",
            )
        if size < expected:
            complete = body // per if per else 0
            raise GenotypeError(
                bed,
                f"file is truncated: {size} bytes hold {complete} complete variants of the {n_var} in {bim.name} "
                f"({expected} bytes expected)",
                record=f"variant {complete + 1}",
                hint="copy the .bed again or re-create it with plink --make-bed",
            )
        raise GenotypeError(
            bed,
            f"size {size} bytes is more than {n_var} variants ({bim.name}) x {n_sam} samples ({fam.name}) "
            f"need ({expected} bytes)",
            hint=f"{bim.name} does not belong to this .bed; use the .bim written with it",
        )

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray:
        per = self._bytes_per_variant
        m = stop - start
        if m <= 0 or self._bed is None:
            rows = self.n_samples if samples is None else len(samples)
            return np.empty((rows, max(m, 0)), dtype=np.float64)
        raw = np.asarray(self._bed[3 + start * per: 3 + stop * per]).reshape(m, per)
        if samples is None:
            return _LUT[raw].reshape(m, per * 4)[:, : self.n_samples].T.copy()
        idx = np.asarray(samples, dtype=np.intp)
        codes = (raw[:, idx >> 2] >> (2 * (idx & 3)).astype(np.uint8)) & 3
        return _CODE[codes].T.copy()

    def close(self) -> None:
        self._bed = None


def open_plink(path: str | Path) -> PlinkSource:
    """Open a PLINK 1 fileset from its ``.bed`` path or prefix.

    :raises GenotypeError: missing file, a ``.bim``/``.fam`` line with the wrong number of fields, a
        ``.bed`` whose size disagrees with ``.bim`` x ``.fam`` (truncated, or the wrong ``.fam``), duplicate ids.
    """
    return PlinkSource(path)
