"""What the genotype loaders (``plink``, ``pgen``, ``bgen``, ``vcf``) share: one parse over ``loaders._genotypes``.

The graph gets one ``igkg:Variant`` node per kept variant (``loaders._variants``: dbSNP IRI for an
rsID, else minted from build, chromosome, position and alleles) and one ``igkg:Subject`` per sample;
the dosages (count of the effect allele, PLINK 2's ALT) go to the data plane as a ``genotypes``
matrix in the by-variable layout (variable = variant id, subjects = subject IRIs), streamed in
blocks of ``-o block_size=...`` variants. Never one triple per genotype.

Options (all kinds): ``sample_id`` (``iid`` default: the IID is the subject id, so a feature table
keyed by IID joins; ``fid``; ``fid_iid``: ``FID_IID``), ``build`` (GRCh37/GRCh38 when the file does
not state it), ``gene_ranges`` (a glist, GTF or GFF3 file) with ``window`` (bp, default 0): variants
in or near a gene get ``igkg:nearGene`` to the gene the store's gene resolver knows, on one build
(different builds, or an unknown genotype build, are an error), ``on_multiallelic`` (``error`` or
``skip``: reported rejections), ``block_size``. Kind-specific: ``sample_file``, ``id_delim``,
``bgen_ref`` (bgen), ``field`` (vcf: GT or DS), ``id_delim`` (vcf).

A ``GenotypeError`` (truncated file, ``.fam`` disagreeing with ``.bed``, duplicate variant ids,
multi-allelic sites ...) is a ``LoadError`` naming the file and record; the store is unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.core.errors import LoadError
from kg.core.files import sha256
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._genes import resolver_for
from loaders._genotypes import (
    normalise_build,
    open_genotypes,
    read_gene_ranges,
    variants_to_genes,
)
from loaders._genotypes.gene_ranges import BuildMismatchError
from loaders._shapes import subject
from loaders._variants import near_gene, variant_node

__all__ = ["COMMON_OPTIONS", "SAMPLE_RULES", "genotype_loader", "prefix_resolver", "subject_ids"]

log = logging.getLogger(__name__)

COMMON_OPTIONS = ("sample_id", "build", "gene_ranges", "window", "on_multiallelic", "block_size")
SAMPLE_RULES = ("iid", "fid", "fid_iid")
_READER_OPTIONS = {
    "plink": (),
    "pgen": ("on_multiallelic",),
    "bgen": ("sample_file", "id_delim", "bgen_ref", "on_multiallelic"),
    "vcf": ("field", "id_delim", "on_multiallelic"),
}


def subject_ids(samples: Any, rule: str) -> list[str]:
    """The subject id of each sample under ``rule``: ``iid``, ``fid`` or ``fid_iid`` (``FID_IID``).

    >>> import pandas as pd
    >>> subject_ids(pd.DataFrame({"fid": ["f1"], "iid": ["s1"]}), "fid_iid")
    ['f1_s1']
    """
    if rule not in SAMPLE_RULES:
        raise ValueError(f"sample_id must be one of {', '.join(SAMPLE_RULES)}, not {rule!r}")
    fid = samples["fid"].astype(str)
    iid = samples["iid"].astype(str)
    values = iid if rule == "iid" else fid if rule == "fid" else fid + "_" + iid
    return [str(v) for v in values]


def _parse(kind: str, path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    rule = str(context.option("sample_id", "iid"))
    if rule not in SAMPLE_RULES:
        raise LoadError(path, f"option sample_id must be one of {', '.join(SAMPLE_RULES)}, not {rule!r}", field="sample_id")
    reader_options = {name: context.option(name) for name in _READER_OPTIONS[kind] if context.option(name) is not None}
    source = open_genotypes(path, kind=kind, **reader_options)  # a GenotypeError is a LoadError
    with source:
        try:
            build = normalise_build(context.option("build")) or source.build
        except ValueError as error:
            raise LoadError(path, str(error), field="build") from None
        if source.build and context.option("build") and normalise_build(context.option("build")) != source.build:
            raise LoadError(path, f"the file states build {source.build} but build={context.option('build')} was given",
                            field="build", hint="drop -o build=... or fix the file header")
        for note in source.notes:
            report.note(note)
        for row in source.rejected.itertuples(index=False):
            report.reject(str(getattr(row, "reason", "rejected")), record=str(getattr(row, "id", "")))
        # samples -> subjects
        ids = subject_ids(source.samples, rule)
        seen: dict[str, int] = {}
        for position, identifier in enumerate(ids):
            if identifier in seen:
                raise LoadError(path, f"subject id {identifier!r} appears twice (samples {seen[identifier] + 1} and {position + 1})",
                                record=identifier, field="sample_id", hint="use -o sample_id=fid_iid")
            seen[identifier] = position
        triples: list[Triple] = []
        subjects = [subject(context, identifier, triples) for identifier in ids]
        yield from triples
        # variants -> nodes
        variants = source.variants
        iris: dict[str, str] = {}
        nodes = []
        for row in variants.itertuples(index=False):
            triples = []
            node = variant_node(context, triples, variant_id=str(row.id), chrom=str(row.chrom), pos=int(row.pos),
                                effect_allele=str(row.effect_allele), other_allele=str(row.other_allele), build=build)
            nodes.append(node)
            iris[str(row.id)] = str(node)
            yield from triples
        report.records_read += len(variants)
        yield from _genes(path, context, report, variants, nodes, build)
        # dosages -> data plane, streamed
        sink = context.matrix("dosages", kind="genotypes", variables=iris, layout="by-variable",
                              subjects=[str(s) for s in subjects])
        block_size = int(context.option("block_size", 2048))
        names = list(iris)
        for block in source.iter_blocks(block_size):
            if sink.active:
                sink.write_variables(block.dosages.T, names[block.variants])
        report.note(f"{len(names)} variants x {len(subjects)} subjects; dosages of the effect allele "
                    f"{'in the data plane' if sink.active else 'not kept (values=rdf)'}; build {build or 'not stated'}")


def _genes(path: Path, context: LoadContext, report: LoadReport, variants: Any, nodes: list[Any], build: str | None) -> Iterator[Triple]:
    ranges_path = context.option("gene_ranges")
    if not ranges_path:
        return
    window = int(context.option("window", 0))
    try:
        ranges = read_gene_ranges(ranges_path)
        pairs = variants_to_genes(variants, ranges, build=build, window=window)
    except BuildMismatchError as error:
        raise LoadError(path, str(error), field="build", hint="give -o build=GRCh37 (or GRCh38) or gene ranges of the same build") from None
    resolver = resolver_for(context, report)
    node_of = dict(zip(variants["id"].astype(str), nodes, strict=True))
    genes: dict[str, Any] = {}
    linked = 0
    for row in pairs.itertuples(index=False):
        key = str(row.gene_id) if row.gene_id and str(row.gene_id) != "nan" else str(row.symbol)
        if key not in genes:
            namespace = "ensembl" if key.startswith("ENSG") else None
            result = resolver.resolve(key.split(".")[0], namespace)
            if not result.ok and key != row.symbol:
                result = resolver.resolve(str(row.symbol))
            genes[key] = result.gene if result.ok else None
            if not result.ok:
                report.unmapped_id("gene", str(row.symbol))
        gene = genes[key]
        if gene is not None:
            triples: list[Triple] = []
            near_gene(node_of[str(row.variant)], gene, triples)
            linked += 1
            yield from triples
    report.note(f"{linked} variant-gene links from {Path(ranges_path).name} ({ranges.build}, window {window} bp)")


_COMPANIONS = (".bim", ".fam", ".pvar", ".psam", ".sample", ".bgen.bgi")


def _inputs_digest(path: Path, options: Any) -> str:
    """SHA-256 over the companion files (``.bim``/``.fam``, ``.pvar``/``.psam``, ``.sample``) and the gene ranges."""
    digest = hashlib.sha256()
    stem = path.with_suffix("")
    files = [stem.with_name(stem.name + suffix) for suffix in _COMPANIONS]
    files += [Path(options[name]) for name in ("sample_file", "gene_ranges") if options.get(name)]
    for file in files:
        if file.is_file():
            digest.update(file.name.encode() + sha256(file).encode())
    return digest.hexdigest()


def prefix_resolver(suffix: str, companions: tuple[str, ...]) -> Callable[[Path], Path | None]:
    """A ``Loader.resolve`` hook: ``PREFIX`` -> ``PREFIX<suffix>`` when it and its ``companions`` exist.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "chr1.bed").write_bytes(b"")
    >>> resolve = prefix_resolver(".bed", (".bim", ".fam"))
    >>> resolve(folder / "chr1") is None      # no .bim/.fam beside it
    True
    >>> for suffix in (".bim", ".fam"):
    ...     _ = (folder / f"chr1{suffix}").write_bytes(b"")
    >>> resolve(folder / "chr1").name
    'chr1.bed'
    """

    def resolve(path: Path) -> Path | None:
        if path.name.lower().endswith(suffix):
            return None
        found = path.with_name(path.name + suffix)
        if found.is_file() and all(path.with_name(path.name + other).is_file() for other in companions):
            return found
        return None

    return resolve


def genotype_loader(kind: str, description: str, patterns: tuple[str, ...], extra: tuple[str, ...],
                    resolve: Callable[[Path], Path | None] | None = None) -> Loader:
    """The ``Loader`` record of one genotype kind (``resolve``: its prefix hook, see ``prefix_resolver``)."""
    parse: Callable[[Path, LoadContext, LoadReport], Iterator[Triple]] = lambda path, context, report: _parse(kind, path, context, report)
    return Loader(kind=kind, description=description, parse=parse, patterns=patterns, version="1",
                  options=tuple(sorted(set(COMMON_OPTIONS) | set(extra))), inputs_digest=_inputs_digest,
                  resolve=resolve)
