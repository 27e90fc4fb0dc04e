"""Kind ``gwas-ssf``: GWAS summary statistics in the GWAS Catalog's GWAS-SSF format -> the significant hits.

The file is tab-separated (gzip or not) with the GWAS-SSF columns ``chromosome``,
``base_pair_location``, ``effect_allele``, ``other_allele``, ``beta`` (or ``odds_ratio`` /
``hazard_ratio``), ``standard_error``, ``effect_allele_frequency``, ``p_value`` (or
``neg_log_10_p_value``) and optional ``variant_id``, ``rsid``, ``n``; ``#NA`` or ``NA`` is missing.
Its metadata sit beside it in ``<file>-meta.yaml`` (GWAS-SSF's sidecar): ``gwas_id``,
``trait_description``, ``ontology_mapping`` (EFO ids or IRIs), ``genome_assembly``,
``pubmed_id`` (or ``-o trait=...``, ``-o trait_label=...``, ``-o build=...``, ``-o pmid=...`` options, which win).

Only rows with p <= ``-o p_max=...`` (default 5e-8, genome-wide significance) become
``igkg:VariantTraitAssociation`` nodes (trait -> variant with beta, se, p, eaf, n, effect allele,
build on the variant), radiogenomic when the trait is imaging-derived (as for ``gwas-catalog``);
a summary-statistics file has millions of rows and the graph holds hits, not every test.
Every row, hit or not, goes to the data plane (unless ``--values rdf``): a ``gwas`` matrix
``summary_statistics`` of the source, one row per data row keyed by its ``variant_id`` (else
``chromosome_position_other_effect``), with every column of the file (the numbers of the columns
``NUMERIC`` as float64, the others as text; ``NA``/``#NA`` missing).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG, PUBMED
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._genotypes import normalise_build, normalise_chrom
from loaders._tables import iter_table
from loaders._variants import MISSING, is_imaging_trait, number, variant_node

__all__ = ["LOADER", "NUMERIC", "REQUIRED"]

REQUIRED = ("chromosome", "base_pair_location", "effect_allele", "other_allele")
NUMERIC = ("base_pair_location", "beta", "odds_ratio", "hazard_ratio", "standard_error", "effect_allele_frequency",
           "p_value", "neg_log_10_p_value", "ci_upper", "ci_lower", "n", "info")
"""GWAS-SSF columns kept as numbers in the data plane (the others as text)."""
_FLUSH = 50_000  # data-plane rows per batch
EFO = "http://www.ebi.ac.uk/efo/"
OBO = "http://purl.obolibrary.org/obo/"


def _meta(path: Path) -> dict[str, Any]:
    names = [path.name + "-meta.yaml", re.sub(r"\.gz$", "", path.name) + "-meta.yaml"]
    for name in names:
        sidecar = path.with_name(name)
        if sidecar.is_file():
            try:
                data = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as error:
                raise LoadError(sidecar, f"not valid YAML: {error}", hint="fix the GWAS-SSF metadata file") from None
            if not isinstance(data, dict):
                raise LoadError(sidecar, "the metadata must be a YAML mapping")
            return data
    return {}


def _trait_iri(text: str, path: Path) -> URIRef:
    text = text.strip()
    if re.match(r"^https?://\S+$", text):
        return URIRef(text)
    match = re.match(r"^(EFO|MONDO|HP|GO|OBA|NCIT|Orphanet)[_:](\w+)$", text)
    if not match:
        raise LoadError(path, f"trait {text!r} is neither an IRI nor an EFO/MONDO/HP id",
                        field="ontology_mapping", hint="give -o trait=http://www.ebi.ac.uk/efo/EFO_xxxxxxx")
    prefix, local = match.groups()
    return URIRef((EFO if prefix in ("EFO", "Orphanet") else OBO) + f"{prefix}_{local}")


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


def _number(cells: dict[str, str], column: str | None, path: Path, line: int) -> float | None:
    if column is None:
        return None
    return number(cells.get(column, ""), path, line, column, hint="GWAS-SSF numbers are plain decimals; #NA for missing")


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one variant-trait association per row with p <= ``p_max`` (see the module docstring)."""
    meta = _meta(path)
    trait_text = context.option("trait") or _first(meta.get("ontology_mapping"))
    if not trait_text:
        raise LoadError(path, "no trait: the metadata file has no ontology_mapping",
                        hint=f"give -o trait=EFO_xxxxxxx or write {path.name}-meta.yaml")
    trait = _trait_iri(trait_text, path)
    label = context.option("trait_label") or _first(meta.get("trait_description")) or ""
    try:
        build = normalise_build(context.option("build") or _first(meta.get("genome_assembly")))
    except ValueError as error:
        raise LoadError(path, str(error), field="genome_assembly") from None
    pmid = str(context.option("pmid") or _first(meta.get("pubmed_id")) or "").strip()
    study = str(_first(meta.get("gwas_id")) or "").strip()
    p_max = float(context.option("p_max", 5e-8))
    imaging = bool(label) and is_imaging_trait(label)
    triples: list[Triple] = []
    if label:
        triples.append((trait, RDFS.label, Literal(label)))
    if imaging:
        triples.append((trait, RDF.type, IGKG.ImagingPhenotype))
    yield from triples
    columns: dict[str, str | None] | None = None
    hits = 0
    table: _FullTable | None = None
    for row in iter_table(path, context, delimiter="\t", required=REQUIRED):
        if table is None:
            table = _FullTable(context, list(row.cells), row.line)
        table.add(row.cells, path, row.line)
        if columns is None:
            header = set(row.cells)
            columns = {
                "effect": next((c for c in ("beta", "odds_ratio", "hazard_ratio") if c in header), None),
                "se": "standard_error" if "standard_error" in header else None,
                "eaf": "effect_allele_frequency" if "effect_allele_frequency" in header else None,
                "p": "p_value" if "p_value" in header else None,
                "mlog": "neg_log_10_p_value" if "neg_log_10_p_value" in header else None,
                "n": "n" if "n" in header else None,
            }
            if columns["p"] is None and columns["mlog"] is None:
                raise LoadError(path, "no p_value or neg_log_10_p_value column", line=1,
                                hint="GWAS-SSF files carry p_value")
        report.records_read += 1
        cells = row.cells
        p = _number(cells, columns["p"], path, row.line)
        if p is None and columns["mlog"]:
            mlog = _number(cells, columns["mlog"], path, row.line)
            p = None if mlog is None else 10.0 ** -mlog
        if p is None or math.isnan(p) or p > p_max:
            continue
        position = cells["base_pair_location"].strip()
        if not position.isdigit():
            raise LoadError(path, f"not a position: {position!r}", line=row.line, field="base_pair_location")
        rsid = cells.get("rsid", "").strip()
        variant_id = rsid if rsid.startswith("rs") else cells.get("variant_id", "").strip() or f"{cells['chromosome']}:{position}"
        effect_allele = cells["effect_allele"].strip().upper()
        other_allele = cells["other_allele"].strip().upper()
        triples = []
        variant = variant_node(context, triples, variant_id=variant_id, chrom=normalise_chrom(cells["chromosome"]),
                               pos=int(position), effect_allele=effect_allele, other_allele=other_allele, build=build)
        node = context.mint("gwas-ssf-association", study or path.name, variant_id, str(trait).rsplit("/", 1)[-1])
        triples += [(node, RDF.type, IGKG.VariantTraitAssociation), (node, IGKG.trait, trait), (node, IGKG.variant, variant),
                    (node, IGKG.pValue, Literal(repr(p), datatype=XSD.double)),
                    (node, IGKG.effectAllele, Literal(effect_allele)), (node, IGKG.otherAllele, Literal(other_allele))]
        if imaging:
            triples += [(node, RDF.type, IGKG.RadiogenomicAssociation), (node, IGKG.feature, trait), (node, IGKG.target, variant)]
        for key, predicate in (("effect", IGKG.effectSize), ("se", IGKG.standardError), ("eaf", IGKG.effectAlleleFrequency)):
            value = _number(cells, columns[key], path, row.line)
            if value is not None:
                triples.append((node, predicate, Literal(repr(value), datatype=XSD.double)))
        n = _number(cells, columns["n"], path, row.line)
        if n is not None:
            triples.append((node, IGKG.sampleSize, Literal(int(n), datatype=XSD.integer)))
        if pmid.isdigit():
            triples += [(node, DCTERMS.source, PUBMED[pmid]), (node, IGKG.publication, Literal(f"PMID:{pmid}"))]
        if study:
            triples.append((node, DCTERMS.isPartOf, URIRef("https://www.ebi.ac.uk/gwas/studies/" + study)))
        hits += 1
        yield from triples
    if columns is None or table is None:
        raise LoadError(path, "no rows in the file", line=2)
    table.flush()
    report.note(f"{hits} of {report.records_read} variants with p <= {p_max:g} loaded as associations; "
                + (f"all {table.rows} rows in the data plane (gwas matrix summary_statistics)" if table.sink.active
                   else "the other rows are not kept (values=rdf)"))


class _FullTable:
    """Every data row of the file, batched into the source's ``gwas`` matrix ``summary_statistics``."""

    def __init__(self, context: LoadContext, header: list[str], first_line: int) -> None:
        self.header = header
        self.numeric = [c for c in header if c in NUMERIC]
        self.sink = context.matrix("summary_statistics", kind="gwas", variables=header, first_line=first_line,
                                   categorical=[c for c in header if c not in NUMERIC])
        self.batch: dict[str, list[Any]] = {c: [] for c in ("subject", *header)}
        self.rows = 0

    def add(self, cells: dict[str, str], path: Path, line: int) -> None:
        if not self.sink.active:
            return
        for column in self.header:
            text = cells.get(column, "")
            if column in NUMERIC:
                value: Any = number(text, path, line, column, hint="GWAS-SSF numbers are plain decimals; #NA for missing")
            else:
                value = None if text.strip().upper() in MISSING else text.strip()
            self.batch[column].append(value)
        key = cells.get("variant_id", "").strip()
        if not key or key.upper() in MISSING:
            key = "_".join(cells[c].strip() for c in ("chromosome", "base_pair_location", "other_allele", "effect_allele"))
        self.batch["subject"].append(key)
        self.rows += 1
        if len(self.batch["subject"]) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        if not self.sink.active or not self.batch["subject"]:
            return
        import pandas as pd

        frame = pd.DataFrame(self.batch)
        for column in self.numeric:
            frame[column] = frame[column].astype("float64")
        self.sink.write(frame)
        self.batch = {c: [] for c in self.batch}


LOADER = Loader(
    kind="gwas-ssf",
    description="GWAS summary statistics in GWAS-SSF (chromosome, base_pair_location, effect_allele, ..., p_value) with -meta.yaml: hits with p <= p_max (-o p_max=..., default 5e-8) as variant-trait associations",
    parse=parse,
    patterns=("gcst*.tsv", "gcst*.tsv.gz", "*.h.tsv.gz"),
    version="2",  # 2: every row in the data plane
    options=("trait", "trait_label", "build", "pmid", "p_max"),
)
