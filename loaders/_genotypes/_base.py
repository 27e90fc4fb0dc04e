"""The common interface of the genotype readers: samples, variants and dosage blocks.

Allele convention (every reader): the dosage is the count, 0..2, of the **effect allele**, which is
the ALT allele in PLINK 2's sense of each format -- ``.bim`` column 5 (A1), ``.pvar`` ALT, the first
BGEN allele (PLINK 2's default ``ref-last``/``ref-unknown`` import; ``bgen_ref="first"`` counts the
second allele instead, as REGENIE and qctool do) and the VCF ALT allele. The variant table names it in
``effect_allele`` and the other one in ``other_allele``, so every result states what was counted.
Missing calls are NaN. Haploid calls (male X, Y, MT) are coded 0/2, like PLINK's ``.bed``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
import pandas as pd

from kg.core.errors import LoadError

__all__ = [
    "SAMPLE_COLUMNS",
    "SEX_CHROMOSOMES",
    "VARIANT_COLUMNS",
    "GenotypeBlock",
    "GenotypeError",
    "GenotypeSource",
    "normalise_build",
    "normalise_chrom",
]

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ("fid", "iid", "sex")
VARIANT_COLUMNS = ("id", "chrom", "pos", "effect_allele", "other_allele", "cm")
SEX_CHROMOSOMES = frozenset({"X", "Y", "XY", "MT"})

_PLINK_CHROM = {"23": "X", "24": "Y", "25": "XY", "26": "MT", "M": "MT", "PAR1": "XY", "PAR2": "XY"}
_BUILDS = {
    "hg19": "GRCh37", "grch37": "GRCh37", "b37": "GRCh37", "hs37d5": "GRCh37", "37": "GRCh37",
    "hg38": "GRCh38", "grch38": "GRCh38", "b38": "GRCh38", "hs38": "GRCh38", "38": "GRCh38",
    "hg18": "NCBI36", "ncbi36": "NCBI36", "b36": "NCBI36", "36": "NCBI36",
}


class GenotypeError(LoadError):
    """A genotype file cannot be read; names the file, the record (variant index or line) and what to do.

    A ``kg.core.errors.LoadError``, formatted and pickled as one (readers also run in dask workers).

    >>> str(GenotypeError("x.bed", "file is truncated", record="variant 12", hint="copy the file again"))
    'x.bed, record variant 12: file is truncated (copy the file again)'
    """


class GenotypeBlock(NamedTuple):
    """A block of consecutive variants: ``variants`` indexes ``source.variants``; dosages are samples x variants."""

    variants: slice
    dosages: np.ndarray


def normalise_chrom(value: object) -> str:
    """One spelling per chromosome: no ``chr`` prefix, no leading zeros, PLINK's 23-26 as X, Y, XY, MT.

    >>> [normalise_chrom(c) for c in ("chr1", "01", "23", "chrM", "X")]
    ['1', '1', 'X', 'MT', 'X']
    """
    text = str(value).strip()
    if text[:3].lower() == "chr":
        text = text[3:]
    if text.isdigit():
        text = str(int(text))
    text = text.upper() if text.lower() in {"x", "y", "xy", "mt", "m", "par1", "par2"} else text
    return _PLINK_CHROM.get(text, text)


def normalise_build(value: str | None) -> str | None:
    """``hg19``/``GRCh37``/``b37`` -> ``GRCh37``, ``hg38``/``GRCh38`` -> ``GRCh38``; None stays None.

    >>> normalise_build("hg19"), normalise_build("GRCh38.p14"), normalise_build(None)
    ('GRCh37', 'GRCh38', None)
    """
    if value is None:
        return None
    key = str(value).strip().lower().split(".")[0]
    if key not in _BUILDS:
        raise ValueError(f"unknown genome build {value!r}: use GRCh37 (hg19) or GRCh38 (hg38)")
    return _BUILDS[key]


@dataclass(eq=False)
class GenotypeSource:
    """An open genotype file: ``samples`` and ``variants`` tables, dosages streamed by ``iter_blocks``.

    ``samples``: fid, iid, sex (1 male, 2 female, 0 unknown), one row per sample in file order.
    ``variants``: id, chrom, pos, effect_allele, other_allele, cm, one row per kept variant.
    ``rejected``: variants left out (multi-allelic with ``on_multiallelic="skip"``), with the reason.
    ``notes``: what the reader decided (sex chromosomes kept, ids taken from ...), also logged.
    ``opener``: a picklable zero-argument callable that opens the same source again (dask workers).
    """

    path: Path
    kind: str
    samples: pd.DataFrame
    variants: pd.DataFrame
    build: str | None = None
    rejected: pd.DataFrame = field(default_factory=lambda: _empty_rejected())
    notes: list[str] = field(default_factory=list)
    opener: Any = None

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    @property
    def n_variants(self) -> int:
        return len(self.variants)

    #: True when ``read`` can jump to any variant (dask workers then read their own blocks).
    random_access: ClassVar[bool] = True

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray:
        """Dosages of variants ``start:stop`` (kept-variant indices), samples x variants, float64, NaN missing.

        ``samples`` selects rows (sorted or not) by position in ``self.samples``.
        """
        raise NotImplementedError

    def iter_blocks(
        self, block_size: int = 1024, *, samples: np.ndarray | None = None, start: int = 0, stop: int | None = None
    ) -> Iterator[GenotypeBlock]:
        """Stream the dosages in blocks of at most ``block_size`` variants (only one block in memory)."""
        if block_size < 1:
            raise ValueError("block_size must be at least 1")
        stop = self.n_variants if stop is None else min(stop, self.n_variants)
        for first in range(start, stop, block_size):
            last = min(first + block_size, stop)
            yield GenotypeBlock(slice(first, last), self.read(first, last, samples=samples))

    def close(self) -> None:
        """Release open file handles (the tables stay usable)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers shared by the readers -------------------------------------------------------------

    def _finish(self) -> None:
        """Check ids, note sex chromosomes; called by each reader once its tables are built."""
        check_unique_ids(self.path, self.variants)
        sex = self.variants["chrom"].isin(SEX_CHROMOSOMES)
        if sex.any():
            counts = self.variants.loc[sex, "chrom"].value_counts().sort_index()
            text = ", ".join(f"{chrom}: {count}" for chrom, count in counts.items())
            self.note(f"{int(sex.sum())} variants on sex chromosomes / MT kept ({text}); haploid calls coded 0/2")
        if len(self.rejected):
            self.note(f"{len(self.rejected)} variants rejected (see .rejected): {self.rejected['reason'].iloc[0]}")

    def note(self, text: str) -> None:
        self.notes.append(text)
        log.info("%s: %s", self.path, text)


def _empty_rejected() -> pd.DataFrame:
    return pd.DataFrame({"record": pd.Series(dtype="int64"), "id": pd.Series(dtype=str),
                         "chrom": pd.Series(dtype=str), "pos": pd.Series(dtype="int64"),
                         "reason": pd.Series(dtype=str)})


def variant_table(
    ids: list[str] | np.ndarray | pd.Series,
    chrom: list[str] | np.ndarray | pd.Series,
    pos: list[int] | np.ndarray | pd.Series,
    effect: list[str] | np.ndarray | pd.Series,
    other: list[str] | np.ndarray | pd.Series,
    cm: list[float] | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """The variant table in its fixed column order and types; a missing id (``.``) becomes CHROM:POS:REF:ALT."""
    n = len(ids)
    chroms = pd.Series(np.asarray(chrom, dtype=object)).map(normalise_chrom) if n else pd.Series(dtype=str)
    names = pd.Series(np.asarray(ids, dtype=object), dtype=object)
    unnamed = names.isna() | names.isin([".", ""])
    if unnamed.any():  # PLINK 2's --set-missing-var-ids @:#:$r:$a
        names[unnamed] = (chroms[unnamed] + ":" + pd.Series(np.asarray(pos)).astype(str)[unnamed] + ":"
                          + pd.Series(np.asarray(other, dtype=object))[unnamed] + ":"
                          + pd.Series(np.asarray(effect, dtype=object))[unnamed])
    return pd.DataFrame({
        "id": names,
        "chrom": chroms.astype(object),
        "pos": pd.Series(np.asarray(pos, dtype=np.int64)),
        "effect_allele": pd.Series(np.asarray(effect, dtype=object), dtype=object),
        "other_allele": pd.Series(np.asarray(other, dtype=object), dtype=object),
        "cm": pd.Series(np.full(n, np.nan) if cm is None else np.asarray(cm, dtype=np.float64)),
    })


def sample_table(fid: list[str] | np.ndarray, iid: list[str] | np.ndarray, sex: list[int] | np.ndarray | None = None) -> pd.DataFrame:
    """The sample table: fid, iid (strings), sex (1 male, 2 female, 0 unknown)."""
    n = len(iid)
    sexes = np.zeros(n, dtype=np.int8) if sex is None else np.asarray(sex, dtype=np.int8)
    return pd.DataFrame({
        "fid": pd.Series(np.asarray(fid, dtype=object), dtype=object),
        "iid": pd.Series(np.asarray(iid, dtype=object), dtype=object),
        "sex": sexes,
    })


def parse_sex(values: pd.Series) -> np.ndarray:
    """PLINK sex codes: 1/M male, 2/F female, anything else (0, NA, -9) unknown."""
    text = values.astype(str).str.strip().str.upper()
    return np.select([text.isin(["1", "M", "MALE"]), text.isin(["2", "F", "FEMALE"])], [1, 2], 0).astype(np.int8)


def check_unique_ids(path: Path, variants: pd.DataFrame) -> None:
    """Duplicate variant ids are an error naming both records."""
    dup = variants["id"].duplicated(keep=False)
    if dup.any():
        first = variants.loc[dup, "id"].iloc[0]
        rows = np.flatnonzero((variants["id"] == first).to_numpy())
        raise GenotypeError(
            path,
            f"duplicate variant id {first!r} at variants {rows[0] + 1} and {rows[1] + 1} "
            f"({int(dup.sum())} variants share an id)",
            record=f"variant {rows[1] + 1}",
            hint="give each variant a unique id, e.g. plink2 --set-all-var-ids @:#:$r:$a",
        )


def multiallelic_error(
    path: Path, vid: str, chrom: str, pos: int, alleles: str, *, record: str, line: int | None = None
) -> GenotypeError:
    return GenotypeError(
        path,
        f"variant {vid!r} at {chrom}:{pos} is multi-allelic ({alleles}); only biallelic variants are tested",
        record=record,
        line=line,
        hint="split it with bcftools norm -m -any or plink2 --make-pgen multiallelics=-, "
        "or pass on_multiallelic='skip' to leave it out with a report",
    )


def select_rows(matrix: np.ndarray, samples: np.ndarray | None) -> np.ndarray:
    """Rows of a samples x variants matrix picked by ``samples`` (None = all)."""
    return matrix if samples is None else matrix[np.asarray(samples, dtype=np.intp)]


def check_on_multiallelic(value: str) -> str:
    if value not in {"error", "skip"}:
        raise ValueError(f"on_multiallelic must be 'error' or 'skip', not {value!r}")
    return value
