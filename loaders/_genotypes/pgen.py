"""PLINK 2 genotypes: ``.pgen`` with ``.pvar`` and ``.psam``, read with pgenlib (PLINK 2's own reader).

The dosage is the count of the ALT allele (pgenlib's allele index 1), including the fractional dosages
that a ``.pgen`` may store. Multi-allelic variants (a comma in ALT) are an error, or left out and
reported with ``on_multiallelic="skip"``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import (
    GenotypeError,
    GenotypeSource,
    check_on_multiallelic,
    multiallelic_error,
    normalise_build,
    parse_sex,
    sample_table,
    variant_table,
)
from ._text import read_table, to_int

__all__ = ["PgenSource", "open_pgen", "pgen_paths"]

HINT = "a PLINK 2 fileset is FILE.pgen + FILE.pvar + FILE.psam from the same plink2 --make-pgen run"
_BUILD_RE = re.compile(r"(GRCh3[78]|hg19|hg38|hg18|b37|b38|NCBI36)", re.IGNORECASE)


def pgen_paths(path: str | Path) -> tuple[Path, Path, Path]:
    """``(pgen, pvar, psam)`` for a ``.pgen`` path or a prefix."""
    path = Path(path)
    prefix = path.with_suffix("") if path.suffix.lower() in {".pgen", ".pvar", ".psam"} else path
    return (prefix.with_name(prefix.name + ".pgen"), prefix.with_name(prefix.name + ".pvar"),
            prefix.with_name(prefix.name + ".psam"))


def _read_psam(psam: Path) -> pd.DataFrame:
    lines = psam.read_text(encoding="utf-8", errors="replace").splitlines() if psam.is_file() else []
    if not psam.is_file():
        raise GenotypeError(psam, "file not found", hint=HINT)
    skip = 0
    while skip < len(lines) and lines[skip].startswith("##"):
        skip += 1
    header = lines[skip].lstrip("#").split() if skip < len(lines) and lines[skip].startswith("#") else None
    if header is None:  # a .fam used as .psam
        table, _ = read_table(psam, columns=6, skip_lines=skip, hint=HINT)
        return sample_table(table[0], table[1], parse_sex(table[4]))
    table, _ = read_table(psam, columns=len(header), skip_lines=skip + 1, hint=HINT)
    table.columns = [name.upper() for name in header]
    if "IID" not in table.columns:
        raise GenotypeError(psam, "no IID column in the header", line=skip + 1, hint=HINT)
    fid = table["FID"] if "FID" in table.columns else table["IID"]
    sex = parse_sex(table["SEX"]) if "SEX" in table.columns else None
    return sample_table(fid, table["IID"], sex)


def _read_pvar(pvar: Path) -> tuple[pd.DataFrame, int, str | None]:
    if not pvar.is_file():
        raise GenotypeError(pvar, "file not found", hint=HINT)
    meta: list[str] = []
    header: list[str] | None = None
    with pvar.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("##"):
                meta.append(line)
                continue
            if line.startswith("#"):
                header = line.lstrip("#").split()
            break
    build = None
    for line in meta:
        if line.startswith(("##contig", "##reference", "##assembly", "##genome")):
            found = _BUILD_RE.search(line)
            if found:
                build = normalise_build(found.group(1))
                break
    skip = len(meta) + (1 if header is not None else 0)
    if header is None:  # a .bim used as .pvar: CHROM ID CM POS ALT REF
        table, first = read_table(pvar, columns=6, skip_lines=skip, hint=HINT)
        table.columns = ["CHROM", "ID", "CM", "POS", "ALT", "REF"]
    else:
        table, first = read_table(pvar, columns=len(header), skip_lines=skip, hint=HINT)
        table.columns = [name.upper() for name in header]
        for column in ("CHROM", "POS", "ID", "REF", "ALT"):
            if column not in table.columns:
                raise GenotypeError(pvar, f"no {column} column in the header", line=skip, hint=HINT)
    return table, first, build


def _text(error: Exception) -> str:
    """pgenlib's messages arrive as bytes reprs; one clean line."""
    value = error.args[0] if error.args else error
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return " ".join(str(value).split())


class PgenSource(GenotypeSource):
    """A PLINK 2 ``.pgen/.pvar/.psam`` fileset (see :func:`open_pgen`)."""

    def __init__(self, path: str | Path, *, on_multiallelic: str = "error") -> None:
        import pgenlib

        check_on_multiallelic(on_multiallelic)
        pgen, pvar, psam = pgen_paths(path)
        if not pgen.is_file():
            raise GenotypeError(pgen, "file not found", hint="give the .pgen file or the fileset prefix")
        samples = _read_psam(psam)
        table, first, build = _read_pvar(pvar)
        pos = to_int(pvar, table["POS"], what="position", first_line=first, hint=HINT)
        n_alt = table["ALT"].str.count(",").to_numpy() + 1
        multi = np.flatnonzero(n_alt > 1)
        keep = np.ones(len(table), dtype=bool)
        rejected = []
        if len(multi):
            if on_multiallelic == "error":
                row = int(multi[0])
                raise multiallelic_error(
                    pvar, table["ID"].iloc[row], table["CHROM"].iloc[row], int(pos[row]),
                    f"REF {table['REF'].iloc[row]}, ALT {table['ALT'].iloc[row]}",
                    record=f"variant {row + 1}", line=first + row)
            keep[multi] = False
            rejected = [{"record": int(row + 1), "id": table["ID"].iloc[row], "chrom": table["CHROM"].iloc[row],
                         "pos": int(pos[row]), "reason": f"multi-allelic (ALT {table['ALT'].iloc[row]})"}
                        for row in multi]
        kept = table[keep]
        cm = kept["CM"].astype(float).to_numpy() if "CM" in kept.columns else None
        variants = variant_table(kept["ID"], kept["CHROM"], pos[keep], kept["ALT"], kept["REF"], cm)
        super().__init__(path=pgen, kind="pgen", samples=samples, variants=variants, build=build,
                         opener=functools.partial(open_pgen, pgen, on_multiallelic=on_multiallelic))
        if rejected:
            self.rejected = pd.DataFrame(rejected)
        self._raw_index = np.flatnonzero(keep).astype(np.uint32)
        self._offsets = None
        if len(multi):
            self._offsets = np.concatenate([[0], np.cumsum(n_alt + 1)]).astype(np.uintp)
        try:
            self._reader = pgenlib.PgenReader(bytes(pgen), allele_idx_offsets=self._offsets)
        except Exception as error:  # pgenlib raises RuntimeError with PLINK 2's message
            raise GenotypeError(pgen, f"pgenlib cannot open it: {_text(error)}",
                                hint="check it with plink2 --pfile FILE --validate and re-create it") from error
        raw_samples, raw_variants = self._reader.get_raw_sample_ct(), self._reader.get_variant_ct()
        if raw_samples != len(samples):
            raise GenotypeError(pgen, f"holds {raw_samples} samples but {psam.name} lists {len(samples)}",
                                hint=f"{psam.name} does not belong to this .pgen; use the .psam written with it")
        if raw_variants != len(table):
            raise GenotypeError(pgen, f"holds {raw_variants} variants but {pvar.name} lists {len(table)}",
                                hint=f"{pvar.name} does not belong to this .pgen; use the .pvar written with it")
        self._subset_key: bytes | None = None
        self._subset_reader = None
        self._finish()

    def _reader_for(self, samples: np.ndarray | None) -> tuple[object, np.ndarray | None]:
        """The pgenlib reader restricted to ``samples`` (sorted), and the order to put rows back in."""
        if samples is None:
            return self._reader, None
        import pgenlib

        idx = np.asarray(samples, dtype=np.int64)
        uniq, inverse = np.unique(idx, return_inverse=True)
        key = uniq.tobytes()
        if key != self._subset_key:
            self._subset_reader = pgenlib.PgenReader(
                bytes(self.path), sample_subset=uniq.astype(np.uint32), allele_idx_offsets=self._offsets)
            self._subset_key = key
        return self._subset_reader, inverse

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray:
        reader, inverse = self._reader_for(samples)
        n = self.n_samples if samples is None else len(np.unique(samples))
        m = max(stop - start, 0)
        out = np.empty((m, n), dtype=np.float64)
        if m:
            raw = self._raw_index[start:stop]
            try:
                if raw[-1] - raw[0] == m - 1:
                    reader.read_dosages_range(int(raw[0]), int(raw[-1]) + 1, out)
                else:
                    reader.read_dosages_list(raw, out)
            except Exception as error:
                first = self._first_unreadable(reader, raw, n)
                raise GenotypeError(
                    self.path, f"pgenlib cannot read variant {first + 1} ({_text(error)}); the file is damaged or "
                    f"truncated ({self.path.stat().st_size} bytes)", record=f"variant {first + 1}",
                    hint="check it with plink2 --pfile FILE --validate and re-create it") from error
            out[out == -9] = np.nan
        dosages = out.T
        return np.ascontiguousarray(dosages if inverse is None else dosages[inverse])

    @staticmethod
    def _first_unreadable(reader: object, raw: np.ndarray, n: int) -> int:
        """Raw index of the first variant of ``raw`` that pgenlib cannot read (for the error message)."""
        one = np.empty(n, dtype=np.float64)
        for index in raw:
            try:
                reader.read_dosages(int(index), one)  # type: ignore[attr-defined]
            except RuntimeError:  # pgenlib reports read failures so
                return int(index)
        return int(raw[0])

    def close(self) -> None:
        for reader in (self._reader, self._subset_reader):
            if reader is not None:
                reader.close()
        self._reader = self._subset_reader = None


def open_pgen(path: str | Path, *, on_multiallelic: str = "error") -> PgenSource:
    """Open a PLINK 2 fileset from its ``.pgen`` path or prefix.

    :raises GenotypeError: missing file, a ``.pvar``/``.psam`` that disagrees with the ``.pgen``, a
        multi-allelic variant (unless ``on_multiallelic="skip"``), duplicate ids, a file pgenlib rejects.
    """
    return PgenSource(path, on_multiallelic=on_multiallelic)
