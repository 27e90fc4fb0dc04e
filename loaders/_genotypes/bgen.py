"""BGEN 1.2 / 1.3 genotypes (layout 2; uncompressed, zlib or zstd), read with numpy.

Follows the BGEN specification (Band & Marchini): a header block, an optional sample identifier block,
then one variant block per variant whose probability data is packed in B-bit integers. The variant
table comes from the ``.bgi`` index (bgenix's sqlite file) when one sits beside the file and matches it,
else from one pass over the variant headers; the file is memory-mapped, so blocks stream.

Dosage: the expected count of the effect allele from the probabilities of biallelic variants, phased or
unphased, diploid or haploid (haploid scaled to 0..2 like PLINK's male X). The effect allele is the
first allele with ``bgen_ref="last"`` (default; PLINK 2's import treats the last allele as REF) and the
second with ``bgen_ref="first"`` (REGENIE's and qctool's "allele B" dosage). Missing samples are NaN.
"""

from __future__ import annotations

import functools
import logging
import mmap
import sqlite3
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import (
    GenotypeError,
    GenotypeSource,
    check_on_multiallelic,
    multiallelic_error,
    parse_sex,
    sample_table,
    variant_table,
)

__all__ = ["BgenHeader", "BgenSource", "open_bgen", "read_bgen_header", "read_sample_file"]

log = logging.getLogger(__name__)

HINT_REWRITE = "re-create it as BGEN 1.2 (plink2 --export bgen-1.2, or qctool -og FILE.bgen)"
COMPRESSION = {0: None, 1: "zlib", 2: "zstd"}


@dataclass(frozen=True)
class BgenHeader:
    """The fields of a BGEN header block."""

    first_variant: int  # byte offset of the first variant block
    header_length: int
    n_variants: int
    n_samples: int
    compression: str | None
    layout: int
    has_sample_ids: bool


def read_bgen_header(path: Path, data: bytes | mmap.mmap) -> BgenHeader:
    """Parse the header block; errors name the file and what is wrong."""
    if len(data) < 24:
        raise GenotypeError(path, f"file is truncated: {len(data)} bytes, shorter than a BGEN header",
                            record="header", hint=HINT_REWRITE)
    offset, length, n_variants, n_samples = struct.unpack_from("<IIII", data, 0)
    magic = bytes(data[16:20])
    if magic not in (b"bgen", b"\x00\x00\x00\x00"):
        raise GenotypeError(path, f"not a BGEN file (magic bytes {magic!r})", record="header",
                            hint="give a .bgen file")
    if length < 20 or 4 + length > len(data):
        raise GenotypeError(path, f"header length {length} is impossible for a {len(data)}-byte file",
                            record="header", hint=HINT_REWRITE)
    (flags,) = struct.unpack_from("<I", data, 4 + length - 4)
    compression_code = flags & 0b11
    layout = (flags >> 2) & 0b1111
    if compression_code not in COMPRESSION:
        raise GenotypeError(path, f"unknown compression code {compression_code}", record="header",
                            hint=HINT_REWRITE)
    if layout != 2:
        raise GenotypeError(path, f"layout {layout} (BGEN 1.{1 if layout == 1 else 0}) is not supported; "
                            "only layout 2 (BGEN 1.2/1.3) is read", record="header", hint=HINT_REWRITE)
    return BgenHeader(offset + 4, length, n_variants, n_samples, COMPRESSION[compression_code], layout,
                      bool(flags >> 31))


def _embedded_ids(path: Path, data: bytes | mmap.mmap, header: BgenHeader) -> list[str]:
    start = 4 + header.header_length
    block_length, count = struct.unpack_from("<II", data, start)
    if count != header.n_samples:
        raise GenotypeError(path, f"sample block lists {count} samples but the header says {header.n_samples}",
                            record="sample block", hint=HINT_REWRITE)
    ids = []
    at = start + 8
    for _ in range(count):
        (size,) = struct.unpack_from("<H", data, at)
        ids.append(bytes(data[at + 2: at + 2 + size]).decode("utf-8", errors="replace"))
        at += 2 + size
    if at > start + block_length:
        raise GenotypeError(path, "sample block overruns its stated length", record="sample block",
                            hint=HINT_REWRITE)
    return ids


def read_sample_file(path: Path) -> pd.DataFrame:
    """An Oxford ``.sample`` file (header line, type line, one row per sample) as fid, iid, sex."""
    lines = [line.split() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    hint = "a .sample file has a header line (ID_1 ID_2 missing ...), a type line (0 0 0 ...) and one row per sample"
    if len(lines) < 2:
        raise GenotypeError(path, "fewer than two lines", line=1, hint=hint)
    header = [name.lower() for name in lines[0]]
    for number, row in enumerate(lines[2:], start=3):
        if len(row) != len(header):
            raise GenotypeError(path, f"{len(row)} fields where the header has {len(header)}", line=number, hint=hint)
    table = pd.DataFrame(lines[2:], columns=header, dtype=object)
    if "id_1" in header and "id_2" in header:
        fid, iid = table["id_1"], table["id_2"]
    elif "id" in header:
        fid = iid = table["id"]
    else:
        raise GenotypeError(path, "no ID_1/ID_2 (or ID) column", line=1, hint=hint)
    sex = parse_sex(table["sex"]) if "sex" in header else None
    return sample_table(fid, iid, sex)


def _split_ids(ids: list[str], delim: str | None) -> tuple[list[str], list[str]]:
    if delim is None:
        return ids, ids
    fids, iids = [], []
    for value in ids:
        fid, sep, iid = value.partition(delim)
        fids.append(fid if sep else value)
        iids.append(iid if sep else value)
    return fids, iids


@dataclass
class _Layout:
    """Where each variant block sits and what it holds (one entry per variant in the file)."""

    start: np.ndarray  # byte offset of the variant block
    end: np.ndarray  # byte offset just past it
    ids: list[str]
    chrom: list[str]
    pos: np.ndarray
    n_alleles: np.ndarray
    allele1: list[str]
    allele2: list[str]


def _scan(path: Path, data: mmap.mmap, header: BgenHeader) -> _Layout:
    """One pass over the variant headers (no probability data decoded)."""
    size = len(data)
    n = header.n_variants
    start = np.empty(n, dtype=np.int64)
    end = np.empty(n, dtype=np.int64)
    pos = np.empty(n, dtype=np.int64)
    n_alleles = np.empty(n, dtype=np.int64)
    ids: list[str] = []
    chrom: list[str] = []
    allele1: list[str] = []
    allele2: list[str] = []
    at = header.first_variant
    unpack_h, unpack_i = struct.Struct("<H").unpack_from, struct.Struct("<I").unpack_from
    for index in range(n):
        try:
            start[index] = at
            (length,) = unpack_h(data, at)
            varid = bytes(data[at + 2: at + 2 + length]).decode()
            at += 2 + length
            (length,) = unpack_h(data, at)
            rsid = bytes(data[at + 2: at + 2 + length]).decode()
            at += 2 + length
            (length,) = unpack_h(data, at)
            chrom.append(bytes(data[at + 2: at + 2 + length]).decode())
            at += 2 + length
            pos[index], n_alleles[index] = struct.unpack_from("<IH", data, at)
            at += 6
            alleles = []
            for _ in range(int(n_alleles[index])):
                (length,) = unpack_i(data, at)
                alleles.append(bytes(data[at + 4: at + 4 + length]).decode())
                at += 4 + length
            (length,) = unpack_i(data, at)
            at += 4 + length
        except struct.error:
            at = size + 1
        if at > size:
            raise GenotypeError(path, f"file is truncated: variant {index + 1} of {n} runs past the end "
                                f"({size} bytes)", record=f"variant {index + 1}",
                                hint="copy the file again or re-create it") from None
        end[index] = at
        ids.append(rsid or varid)
        allele1.append(alleles[0] if alleles else "")
        allele2.append(",".join(alleles[1:]))
    return _Layout(start, end, ids, chrom, pos, n_alleles, allele1, allele2)


def _from_index(path: Path, index: Path, data: mmap.mmap, header: BgenHeader) -> _Layout | None:
    """The layout from a ``.bgi`` index, or None (with a log line) when the index does not match."""
    try:
        with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
            meta = None
            try:
                meta = db.execute("SELECT file_size FROM Metadata").fetchone()
            except sqlite3.Error:
                pass
            rows = db.execute(
                "SELECT chromosome, position, rsid, number_of_alleles, allele1, allele2, file_start_position,"
                " size_in_bytes FROM Variant ORDER BY file_start_position").fetchall()
    except sqlite3.Error as error:
        log.warning("%s: index %s unreadable (%s); scanning the file instead", path, index, error)
        return None
    if meta is not None and int(meta[0]) != len(data):
        log.warning("%s: index %s was made for a %s-byte file, this one has %s bytes; scanning instead",
                    path, index, meta[0], len(data))
        return None
    if len(rows) != header.n_variants:
        log.warning("%s: index %s lists %d variants, the header %d; scanning instead",
                    path, index, len(rows), header.n_variants)
        return None
    frame = pd.DataFrame(rows, columns=["chrom", "pos", "rsid", "k", "a1", "a2", "start", "size"])
    start = frame["start"].to_numpy(np.int64)
    end = start + frame["size"].to_numpy(np.int64)
    if len(frame) and end[-1] > len(data):
        raise GenotypeError(path, f"file is truncated: the index puts variant {len(frame)} at bytes "
                            f"{start[-1]}-{end[-1]} but the file has {len(data)} bytes",
                            record=f"variant {len(frame)}", hint="copy the file again or re-create it")
    return _Layout(start, end, frame["rsid"].astype(str).tolist(), frame["chrom"].astype(str).tolist(),
                   frame["pos"].to_numpy(np.int64), frame["k"].to_numpy(np.int64),
                   frame["a1"].astype(str).tolist(), frame["a2"].fillna("").astype(str).tolist())


class BgenSource(GenotypeSource):
    """A BGEN file (see :func:`open_bgen`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        sample_file: str | Path | None = None,
        id_delim: str | None = None,
        bgen_ref: str = "last",
        on_multiallelic: str = "error",
        use_index: bool = True,
    ) -> None:
        check_on_multiallelic(on_multiallelic)
        if bgen_ref not in {"first", "last"}:
            raise ValueError(f"bgen_ref must be 'first' or 'last', not {bgen_ref!r}")
        path = Path(path)
        if not path.is_file():
            raise GenotypeError(path, "file not found", hint="give the .bgen file")
        self._handle = path.open("rb")
        self._data = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ) if path.stat().st_size else b""
        header = read_bgen_header(path, self._data)
        self._header = header
        notes = []
        # samples: an explicit .sample file, else the embedded ids, else FILE.sample beside the .bgen
        beside = path.with_suffix(".sample")
        if sample_file is not None:
            samples = read_sample_file(Path(sample_file))
            notes.append(f"sample ids from {sample_file}")
        elif header.has_sample_ids:
            ids = _embedded_ids(path, self._data, header)
            fids, iids = _split_ids(ids, id_delim)
            samples = sample_table(fids, iids)
            notes.append("sample ids from the embedded sample block"
                         + (f", split at {id_delim!r} into FID and IID" if id_delim else " (FID = IID)"))
        elif beside.is_file():
            samples = read_sample_file(beside)
            notes.append(f"sample ids from {beside.name}")
        else:
            raise GenotypeError(path, "no sample ids: the file has no sample block and no .sample file is given",
                                record="header", hint=f"give sample_file= or put {beside.name} beside it")
        if len(samples) != header.n_samples:
            raise GenotypeError(path, f"{header.n_samples} samples in the file but {len(samples)} sample ids",
                                record="header", hint="use the .sample file written with this .bgen")
        index = path.with_name(path.name + ".bgi")
        layout = _from_index(path, index, self._data, header) if use_index and index.is_file() else None
        if layout is None:
            layout = _scan(path, self._data, header)
            notes.append("variant table from a pass over the file")
        else:
            notes.append(f"variant table from the index {index.name}")
        multi = np.flatnonzero(layout.n_alleles != 2)
        keep = np.ones(header.n_variants, dtype=bool)
        rejected = None
        if len(multi):
            row = int(multi[0])
            if on_multiallelic == "error":
                raise multiallelic_error(path, layout.ids[row], layout.chrom[row], int(layout.pos[row]),
                                         f"{layout.n_alleles[row]} alleles", record=f"variant {row + 1}")
            keep[multi] = False
            rejected = pd.DataFrame({
                "record": multi + 1, "id": [layout.ids[i] for i in multi],
                "chrom": [layout.chrom[i] for i in multi], "pos": layout.pos[multi],
                "reason": [f"{layout.n_alleles[i]} alleles" for i in multi]})
        kept = np.flatnonzero(keep)
        a1 = [layout.allele1[i] for i in kept]
        a2 = [layout.allele2[i] for i in kept]
        effect, other = (a1, a2) if bgen_ref == "last" else (a2, a1)
        ids = [layout.ids[i] for i in kept]
        variants = variant_table(ids, [layout.chrom[i] for i in kept], layout.pos[kept], effect, other)
        super().__init__(
            path=path, kind="bgen", samples=samples, variants=variants,
            opener=functools.partial(open_bgen, path, sample_file=sample_file, id_delim=id_delim,
                                     bgen_ref=bgen_ref, on_multiallelic=on_multiallelic, use_index=use_index))
        if rejected is not None:
            self.rejected = rejected
        self._start = layout.start[kept]
        self._end = layout.end[kept]
        self._record = kept
        self._count_first = bgen_ref == "last"
        for text in notes:
            self.note(text)
        self.note(f"compression {header.compression or 'none'}; dosage of the "
                  f"{'first' if self._count_first else 'second'} allele")
        self._finish()

    def read(self, start: int, stop: int, *, samples: np.ndarray | None = None) -> np.ndarray:
        m = max(stop - start, 0)
        out = np.empty((self.n_samples, m), dtype=np.float64)
        for column, variant in enumerate(range(start, stop)):
            out[:, column] = self._dosage(variant)
        return out if samples is None else np.ascontiguousarray(out[np.asarray(samples, dtype=np.intp)])

    def _dosage(self, variant: int) -> np.ndarray:
        """Effect-allele dosage of one kept variant (all samples)."""
        record = int(self._record[variant]) + 1
        begin, finish = int(self._start[variant]), int(self._end[variant])
        data = self._data
        try:
            at = begin
            for _ in range(3):  # varid, rsid, chrom
                (length,) = struct.unpack_from("<H", data, at)
                at += 2 + length
            _, n_alleles = struct.unpack_from("<IH", data, at)
            at += 6
            for _ in range(n_alleles):
                (length,) = struct.unpack_from("<I", data, at)
                at += 4 + length
            (length,) = struct.unpack_from("<I", data, at)
            at += 4
            if at + length != finish:
                raise ValueError(f"genotype block length {length} disagrees with the variant layout")
            if self._header.compression is None:
                block = bytes(data[at: at + length])
            else:
                (expected,) = struct.unpack_from("<I", data, at)
                packed = bytes(data[at + 4: at + length])
                if self._header.compression == "zlib":
                    block = zlib.decompress(packed)
                else:
                    import zstandard

                    block = zstandard.ZstdDecompressor().decompress(packed, max_output_size=expected)
                if len(block) != expected:
                    raise ValueError(f"decompressed to {len(block)} bytes, {expected} expected")
            return _probabilities_to_dosage(block, self.n_samples, self._count_first)
        except Exception as error:  # any decoding failure is reported with its record
            if isinstance(error, GenotypeError):
                raise
            raise GenotypeError(self.path, f"cannot decode variant {self.variants['id'].iloc[variant]!r}: {error}",
                                record=f"variant {record}",
                                hint="the file is damaged or truncated; copy it again or re-create it") from error

    def close(self) -> None:
        if isinstance(self._data, mmap.mmap):
            self._data.close()
        self._handle.close()


def _unpack(buffer: np.ndarray, count: int, bits: int) -> np.ndarray:
    """``count`` unsigned integers of ``bits`` bits packed least-significant-bit first."""
    if bits == 8:
        return buffer[:count].astype(np.float64)
    if bits == 16:
        return buffer[: 2 * count].view("<u2").astype(np.float64)
    if bits == 32:
        return buffer[: 4 * count].view("<u4").astype(np.float64)
    flat = np.unpackbits(buffer, bitorder="little")[: count * bits].reshape(count, bits)
    return flat.astype(np.float64) @ (2.0 ** np.arange(bits))


def _probabilities_to_dosage(block: bytes, n_samples: int, count_first: bool) -> np.ndarray:
    """Decode a layout-2 probability block of a biallelic variant into dosages of one allele."""
    raw = np.frombuffer(block, dtype=np.uint8)
    n, k = struct.unpack_from("<IH", block, 0)
    if n != n_samples:
        raise ValueError(f"probability block for {n} samples, the file has {n_samples}")
    if k != 2:
        raise ValueError(f"{k} alleles in the probability block")
    pmin, pmax = raw[6], raw[7]
    ploidy_byte = raw[8: 8 + n]
    phased, bits = raw[8 + n], int(raw[9 + n])
    if not 1 <= bits <= 32:
        raise ValueError(f"{bits} bits per probability")
    if pmax > 2 or pmin < 1:
        raise ValueError(f"ploidy {pmin}-{pmax}; only haploid and diploid samples are read")
    missing = (ploidy_byte & 0x80) > 0
    ploidy = (ploidy_byte & 0x3F).astype(np.int64)
    count = int(ploidy.sum())  # biallelic: `ploidy` stored values per sample, phased or not
    values = _unpack(raw[10 + n:], count, bits) / (2.0**bits - 1)
    if len(values) != count:
        raise ValueError("probability data shorter than the ploidy requires")
    if pmin == pmax == 2:
        first, second = values[0::2], values[1::2]
        # unphased: P(AA), P(AB) -> count of A = 2 P(AA) + P(AB); phased: P(h1 = A), P(h2 = A) -> sum
        dosage_first = 2 * first + second if not phased else first + second
    else:
        offsets = np.concatenate([[0], np.cumsum(ploidy)[:-1]])
        a = values[np.minimum(offsets, count - 1)]
        b = values[np.minimum(offsets + 1, count - 1)]
        diploid = np.where(phased, a + b, 2 * a + b)
        dosage_first = np.where(ploidy == 2, diploid, 2 * a)  # haploid: P(A) scaled to 0/2
    dosage = dosage_first if count_first else 2.0 - dosage_first
    dosage = np.where(missing | (ploidy == 0), np.nan, dosage)
    return dosage


def open_bgen(
    path: str | Path,
    *,
    sample_file: str | Path | None = None,
    id_delim: str | None = None,
    bgen_ref: str = "last",
    on_multiallelic: str = "error",
    use_index: bool = True,
) -> BgenSource:
    """Open a BGEN 1.2/1.3 file (layout 2; none, zlib or zstd compression).

    Sample ids come from ``sample_file`` if given, else the embedded sample block (split into FID and IID
    at ``id_delim`` when given, e.g. ``"_"`` for PLINK 2's ``FID_IID``), else ``FILE.sample`` beside it.
    The ``.bgi`` index beside it gives the variant table when it matches the file.

    :raises GenotypeError: not BGEN, layout 1, truncated or damaged, sample ids missing or of the wrong
        count, multi-allelic variants (unless ``on_multiallelic="skip"``), duplicate ids.
    """
    return BgenSource(path, sample_file=sample_file, id_delim=id_delim, bgen_ref=bgen_ref,
                      on_multiallelic=on_multiallelic, use_index=use_index)
