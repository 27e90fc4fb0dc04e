"""VCF and BCF genotypes (plain, gzip or bgzip), read with cyvcf2 (htslib).

The dosage is the count of the ALT allele: from the ``GT`` field (default; a missing allele makes the
call NaN; haploid calls such as male X are coded 0/2) or from ``DS`` (``field="DS"``; doubled where the
``GT`` of the same record is haploid, so it is on the 0..2 scale). Multi-allelic records are an error,
or left out and reported with ``on_multiallelic="skip"``. A record without an ID gets
``CHROM:POS:REF:ALT``. The file is read twice: once for the variant table, once, in blocks, for dosages.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from ._base import (
    GenotypeBlock,
    GenotypeError,
    GenotypeSource,
    check_on_multiallelic,
    multiallelic_error,
    normalise_build,
    normalise_chrom,
    sample_table,
    variant_table,
)

__all__ = ["VcfSource", "open_vcf"]

_BUILD_RE = re.compile(r"(GRCh3[78]|hg19|hg38|hg18|b37|b38|NCBI36)", re.IGNORECASE)
# The 28-byte empty block that ends every complete BGZF file (SAM/BAM specification, section 4.1.2).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
HINT = "check it with bcftools view FILE > /dev/null and re-create it if it is damaged"


def _check_complete(path: Path) -> None:
    """A bgzipped file must end with the BGZF end-of-file block; a plain gzip one must decompress fully."""
    with path.open("rb") as handle:
        head = handle.read(18)
        if head[:2] != b"\x1f\x8b":
            return
        handle.seek(0, 2)
        size = handle.tell()
        bgzf = len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC"
        if bgzf:
            handle.seek(max(size - 28, 0))
            if handle.read(28) != BGZF_EOF:
                raise GenotypeError(path, "file is truncated: the BGZF end-of-file block is missing",
                                    record=f"byte {size}", hint=HINT)


def _count_header_lines(path: Path) -> int | None:
    """Number of ``#`` lines at the top of a text VCF (plain or gzip), None for BCF."""
    with path.open("rb") as handle:
        magic = handle.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rb") as handle:  # type: ignore[operator]
        start = handle.read(3)
        if start == b"BCF":
            return None
        handle.seek(0)
        count = 0
        for line in handle:
            if not line.startswith(b"#"):
                break
            count += 1
    return count


def _line(header_lines: int | None, record: int) -> int | None:
    return None if header_lines is None else header_lines + record


class VcfSource(GenotypeSource):
    """A VCF or BCF file (see :func:`open_vcf`)."""

    random_access: ClassVar[bool] = False

    def __init__(
        self, path: str | Path, *, field: str = "GT", id_delim: str | None = None, on_multiallelic: str = "error"
    ) -> None:
        from cyvcf2 import VCF

        check_on_multiallelic(on_multiallelic)
        if field not in {"GT", "DS"}:
            raise ValueError(f"field must be 'GT' or 'DS', not {field!r}")
        path = Path(path)
        if not path.is_file():
            raise GenotypeError(path, "file not found", hint="give a .vcf, .vcf.gz or .bcf file")
        _check_complete(path)
        self._field = field
        try:
            reader = VCF(str(path), gts012=True, lazy=True)
        except Exception as error:  # cyvcf2 raises OSError/Exception with htslib's words
            raise GenotypeError(path, f"htslib cannot open it as VCF/BCF: {error}", line=1, hint=HINT) from error
        header = reader.raw_header
        self._header_lines = _count_header_lines(path)
        build = None
        for line in header.splitlines():
            if line.startswith(("##reference", "##contig", "##assembly")):
                found = _BUILD_RE.search(line)
                if found:
                    build = normalise_build(found.group(1))
                    break
        names = list(reader.samples)
        if id_delim is None:
            fids, iids = names, names
        else:
            parts = [name.partition(id_delim) for name in names]
            fids = [p[0] if p[1] else n for p, n in zip(parts, names, strict=True)]
            iids = [p[2] if p[1] else n for p, n in zip(parts, names, strict=True)]
        samples = sample_table(fids, iids)
        ids, chrom, pos, ref, alt, keep_records, rejected = [], [], [], [], [], [], []
        record = 0
        try:
            for record, variant in enumerate(reader, start=1):
                alts = variant.ALT
                vid = variant.ID or f"{normalise_chrom(variant.CHROM)}:{variant.POS}:{variant.REF}:{','.join(alts)}"
                if len(alts) != 1:
                    where = str(record)
                    if on_multiallelic == "error":
                        raise multiallelic_error(path, vid, variant.CHROM, variant.POS,
                                                 f"REF {variant.REF}, ALT {','.join(alts) or '.'}",
                                                 record=where, line=_line(self._header_lines, record))
                    rejected.append({"record": record, "id": vid, "chrom": variant.CHROM, "pos": variant.POS,
                                     "reason": f"{len(alts)} ALT alleles ({','.join(alts) or '.'})"})
                    continue
                ids.append(vid)
                chrom.append(variant.CHROM)
                pos.append(variant.POS)
                ref.append(variant.REF)
                alt.append(alts[0])
                keep_records.append(record)
        except GenotypeError:
            raise
        except Exception as error:
            raise GenotypeError(path, f"htslib cannot read the record (truncated or malformed): {error}",
                                record=str(record + 1), line=_line(self._header_lines, record + 1), hint=HINT) from error
        finally:
            reader.close()
        variants = variant_table(ids, chrom, pos, alt, ref)
        super().__init__(path=path, kind="vcf", samples=samples, variants=variants, build=build,
                         opener=functools.partial(open_vcf, path, field=field, id_delim=id_delim,
                                                  on_multiallelic=on_multiallelic))
        if rejected:
            self.rejected = pd.DataFrame(rejected)
        self._records = np.asarray(keep_records, dtype=np.int64)
        self._cursor: tuple[int, Iterator[np.ndarray]] | None = None
        self.note(f"dosage from the {field} field" + (" (FID = IID = sample name)" if id_delim is None else ""))
        self._finish()

    def _dosages(self) -> Iterator[np.ndarray]:
        """Dosage vectors of the kept records, in file order."""
        from cyvcf2 import VCF

        reader = VCF(str(self.path), gts012=True, lazy=True)
        wanted = set(self._records.tolist())
        record = 0
        try:
            for record, variant in enumerate(reader, start=1):
                if record in wanted:
                    yield self._dosage(variant, record)
        except GenotypeError:
            raise
        except Exception as error:
            raise GenotypeError(self.path, f"htslib cannot read the record (truncated or malformed): {error}",
                                record=str(record + 1), line=_line(self._header_lines, record + 1), hint=HINT) from error
        finally:
            reader.close()
        if record < (self._records[-1] if len(self._records) else 0):
            raise GenotypeError(self.path, f"file ended after record {record}", record=str(record + 1),
                                hint=HINT)

    def _dosage(self, variant: object, record: int) -> np.ndarray:
        array = variant.genotype.array() if variant.genotype is not None else None  # type: ignore[attr-defined]
        haploid = None
        gt_dosage = None
        if array is not None:
            alleles = array[:, :-1]
            present = alleles != -2  # -2 pads haploid calls
            haploid = present.sum(axis=1) == 1
            missing = ((alleles == -1) & present).any(axis=1)
            gt_dosage = (alleles == 1).sum(axis=1).astype(np.float64)
            gt_dosage[haploid] *= 2
            gt_dosage[missing] = np.nan
        if self._field == "GT":
            if gt_dosage is None:
                raise GenotypeError(self.path, "record has no GT field", record=str(record),
                                    line=_line(self._header_lines, record), hint="read the DS field with field='DS'")
            return gt_dosage
        values = variant.format("DS")  # type: ignore[attr-defined]
        if values is None:
            raise GenotypeError(self.path, "record has no DS field", record=str(record),
                                line=_line(self._header_lines, record), hint="read hard calls with field='GT'")
        dosage = np.asarray(values, dtype=np.float64)[:, 0].copy()
        dosage[dosage < -1e30] = np.nan  # htslib's float missing value, if not already NaN
        if haploid is not None:
            dosage[haploid] *= 2
        return dosage

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray:
        """Variants ``start:stop``; sequential calls continue the open pass, others start a new one."""
        if self._cursor is None or self._cursor[0] != start:
            self._cursor = (0, self._dosages())
            for _ in range(start):
                next(self._cursor[1])
        iterator = self._cursor[1]
        columns = [next(iterator) for _ in range(start, stop)]
        self._cursor = (stop, iterator)
        out = np.column_stack(columns) if columns else np.empty((self.n_samples, 0))
        return out if samples is None else np.ascontiguousarray(out[np.asarray(samples, dtype=np.intp)])

    def iter_blocks(
        self, block_size: int = 1024, *, samples: np.ndarray | None = None, start: int = 0, stop: int | None = None
    ) -> Iterator[GenotypeBlock]:
        self._cursor = None
        yield from super().iter_blocks(block_size, samples=samples, start=start, stop=stop)

    def close(self) -> None:
        self._cursor = None


def open_vcf(
    path: str | Path, *, field: str = "GT", id_delim: str | None = None, on_multiallelic: str = "error"
) -> VcfSource:
    """Open a VCF/BCF file; dosages of ALT from ``GT`` (default) or ``DS``.

    Sample names are both FID and IID unless ``id_delim`` splits them (``FID_IID``).

    :raises GenotypeError: a file htslib cannot parse, a truncated bgzip file, a multi-allelic record
        (unless ``on_multiallelic="skip"``), duplicate ids, a record without the chosen field.
    """
    return VcfSource(path, field=field, id_delim=id_delim, on_multiallelic=on_multiallelic)
