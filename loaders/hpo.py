"""HPO annotation files -> gene-disease links and disease phenotypes.

Two kinds, both from the Human Phenotype Ontology's annotation release
(hpo.jax.org/data/annotations; free to use with attribution, see the HPO licence):

**``hpo-genes-to-disease``: ``genes_to_disease.txt``.** Tab-separated with the header
``ncbi_gene_id gene_symbol association_type disease_id source`` (releases since 2023),
e.g. ``NCBIGene:1956 EGFR MENDELIAN OMIM:211980 ftp://.../mim2gene_medgen``. The older
``diseases_to_genes.txt`` is read too: a ``#Format: diseaseId<tab>gene-id<tab>gene-symbol``
line (or no header at all) and rows ``OMIM:214500 1130 LYST`` (a disease alone on a line
has no gene and is skipped); that layout is documented by the HPO parser of
Clinical-Genomics/scout (``tests/parse/test_parse_hpo_diseases.py``). Each gene-disease
pair becomes an ``igkg:GeneDiseaseAssociation`` with ``igkg:gene``, ``igkg:disease``,
``igkg:evidence`` (the association type) and ``dct:source``, plus the shortcut
``gene igkg:associatedWithDisease disease`` that the named queries walk, as the
``gene-disease`` loader writes them.

**``hpo-annotations``: ``phenotype.hpoa``.** ``#key: value`` metadata lines, then the
header ``database_id disease_name qualifier hpo_id reference evidence onset frequency sex
modifier aspect biocuration`` (2019-2022 releases: ``#DatabaseID DiseaseName ...``; both
read). Each disease gets its name as ``rdfs:label``; each phenotypic-abnormality row
(aspect ``P``) that is not negated (qualifier ``NOT``) gives
``disease obo:RO_0002200 (has phenotype) HP term``. Negated rows and the inheritance /
clinical-course / modifier aspects are counted in the report, not stated.

Genes are NCBI Gene ids, so their IRI is the standard one (never guessed from a
symbol); ids the store's gene resolver does not know are still linked and listed under
``unmapped["ncbigene"]``. Diseases are OMIM (``http://identifiers.org/mim/``) and
Orphanet (``http://identifiers.org/orphanet/``) IRIs from the prefix map; DECIPHER ids,
which have none, are rejected and listed under ``unmapped["disease"]``. A malformed gene,
disease or HPO id is a ``LoadError`` naming the line: such a file is not what it claims.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef

from kg.core.errors import LoadError
from kg.core.namespaces import DCT, HP, IGKG, RDF, RDFS, RO
from loaders._disease_ids import canonical_prefix, disease_iri, split_curie
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_lines
from loaders._genes import GeneResolver, gene_iri

__all__ = [
    "ANNOTATIONS_LOADER",
    "ANNOTATION_COLUMNS",
    "GENES_TO_DISEASE_COLUMNS",
    "GENES_TO_DISEASE_LOADER",
    "HAS_PHENOTYPE",
    "LOADERS",
    "parse_annotations",
    "parse_genes_to_disease",
]

logger = logging.getLogger(__name__)

GENES_TO_DISEASE_COLUMNS = ("ncbi_gene_id", "gene_symbol", "association_type", "disease_id", "source")
"""The header of ``genes_to_disease.txt`` (HPO releases since 2023)."""
_OLD_COLUMNS = ("diseaseId", "gene-id", "gene-symbol")
"""The ``#Format:`` columns of the older ``diseases_to_genes.txt``."""

ANNOTATION_COLUMNS = (
    "database_id", "disease_name", "qualifier", "hpo_id", "reference", "evidence",
    "onset", "frequency", "sex", "modifier", "aspect", "biocuration",
)
"""The header of ``phenotype.hpoa`` (snake_case since 2023; CamelCase before, same order)."""
_ANNOTATION_REQUIRED = ("database_id", "disease_name", "qualifier", "hpo_id", "aspect")

HAS_PHENOTYPE = RO["0002200"]
"""``RO:0002200`` has phenotype: disease -> HP term."""

_GENE = re.compile(r"^(?:NCBIGene:)?(\d+)$", re.IGNORECASE)
_HPO_ID = re.compile(r"^HP:(\d{7})$")
_DISEASE_PREFIXES = ("omim", "orphanet")


@dataclass(frozen=True)
class GeneDiseaseRow:
    """One gene-disease row, whatever the layout."""

    line: int
    gene_id: str
    symbol: str
    disease: str
    association_type: str
    source: str


# ---------------------------------------------------------------------------- shared
def _disease(path: Path, curie: str, line: int, field: str, report: LoadReport) -> URIRef | None:
    """The disease IRI of ``curie``; ``None`` (rejected, reported) for a vocabulary without
    a standard IRI; ``LoadError`` for text that is not a disease id at all."""
    parts = split_curie(curie)
    if parts is None:
        raise LoadError(path, f"disease id {curie!r} is not a CURIE such as OMIM:211980 or ORPHA:3339", line=line, field=field,
                        hint="check the columns and the separator of this line")
    canonical = canonical_prefix(parts.prefix)
    if canonical not in _DISEASE_PREFIXES:
        report.reject(f"disease id {curie!r}: no standard IRI for prefix {parts.prefix!r}", line=line, field=field)
        report.unmapped_id("disease", curie)
        return None
    iri = disease_iri(curie)
    if iri is None:
        expected = "six digits" if canonical == "omim" else "digits"
        raise LoadError(path, f"disease id {curie!r} is malformed: the {parts.prefix} number must be {expected}", line=line,
                        field=field, hint="fix the id or download the file again")
    return iri


def _resolver(context: LoadContext, report: LoadReport) -> GeneResolver:
    try:
        resolver = context.lookup("genes")
    except KeyError:
        resolver = GeneResolver()
    if len(resolver) == 0:
        report.note("no genes in the store: genes are linked by their NCBI Gene IRI without a check "
                    "(load NCBI gene_info or HGNC first to have them checked and labelled)")
    return resolver


def _no_rows(path: Path, line: int) -> LoadError:
    return LoadError(path, "a header but no data rows", line=line, hint="the file looks truncated; download it again")


# ---------------------------------------------------------------------------- genes_to_disease
def _gene_disease_rows(path: Path, context: LoadContext, report: LoadReport) -> Iterator[GeneDiseaseRow]:
    header: list[str] | None = None
    layout = ""
    last = 0
    for lineno, text in iter_lines(path, context):
        last = lineno
        if not text.strip():
            continue
        cells = [c.strip() for c in text.split("\t")]
        if not layout:
            if text.startswith("#Format:"):
                header = [c.strip() for c in text[len("#Format:"):].split("<tab>")]
                layout = "diseases_to_genes"
                if header[: len(_OLD_COLUMNS)] != list(_OLD_COLUMNS):
                    raise LoadError(path, f"unknown #Format line: {text.strip()!r}", line=lineno,
                                    hint="expected '#Format: diseaseId<tab>gene-id<tab>gene-symbol'")
                report.note("layout diseases_to_genes (#Format: diseaseId<tab>gene-id<tab>gene-symbol)")
                continue
            if all(c in cells for c in ("ncbi_gene_id", "disease_id")):
                missing = [c for c in GENES_TO_DISEASE_COLUMNS if c not in cells]
                if missing:
                    raise LoadError(path, f"missing column(s) {', '.join(map(repr, missing))}; columns found: {', '.join(cells)}",
                                    line=lineno, hint="expected HPO's genes_to_disease.txt header: " + " ".join(GENES_TO_DISEASE_COLUMNS))
                header, layout = cells, "genes_to_disease"
                report.note("layout genes_to_disease (" + " ".join(GENES_TO_DISEASE_COLUMNS) + ")")
                continue
            if split_curie(cells[0]) is not None and (len(cells) == 1 or _GENE.match(cells[1])):
                header, layout = list(_OLD_COLUMNS), "diseases_to_genes"
                report.note("layout diseases_to_genes without a header line (diseaseId, gene-id, gene-symbol)")
            else:
                shown = ", ".join(cells[:8]) + (" ..." if len(cells) > 8 else "")
                raise LoadError(path, f"not an HPO gene-disease file; first line: {shown}", line=lineno,
                                hint="expected the tab-separated header " + " ".join(GENES_TO_DISEASE_COLUMNS)
                                + " (genes_to_disease.txt) or '#Format: diseaseId<tab>gene-id<tab>gene-symbol'")
        assert header is not None
        if text.startswith("#"):
            continue
        if layout == "genes_to_disease":
            if len(cells) != len(header):
                raise LoadError(path, f"{len(cells)} tab-separated cells but the header has {len(header)} columns", line=lineno,
                                hint="genes_to_disease.txt rows are tab-separated; check the file is not truncated or re-saved")
            row = dict(zip(header, cells, strict=True))
            report.records_read += 1
            yield GeneDiseaseRow(lineno, row["ncbi_gene_id"], row["gene_symbol"], row["disease_id"],
                                 row["association_type"], row["source"])
        else:
            if len(cells) > 3:
                raise LoadError(path, f"{len(cells)} tab-separated cells; diseases_to_genes rows have at most 3", line=lineno)
            report.records_read += 1
            if len(cells) < 2 or not cells[1]:
                report.reject("disease without a gene", line=lineno, record=cells[0])
                continue
            yield GeneDiseaseRow(lineno, cells[1], cells[2] if len(cells) > 2 else "", cells[0], "", "")
    if not layout:
        raise LoadError(path, "the file is empty", line=1, hint="expected the genes_to_disease.txt header")
    if report.records_read == 0:
        raise _no_rows(path, last + 1)


def parse_genes_to_disease(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield one reified gene-disease association per gene-disease pair, plus the shortcut edge."""
    resolver = _resolver(context, report)
    label_genes = bool(context.option("label_genes", False))
    genes: set[str] = set()
    diseases: set[URIRef] = set()
    pairs: set[tuple[str, str]] = set()
    stated: set[tuple[URIRef, Literal]] = set()
    for row in _gene_disease_rows(path, context, report):
        match = _GENE.match(row.gene_id)
        if not match:
            raise LoadError(path, f"gene id {row.gene_id!r} is not an NCBI Gene id (NCBIGene:<digits>)", line=row.line,
                            field="ncbi_gene_id", hint="check the columns and the separator of this line")
        gene_id = match.group(1)
        disease = _disease(path, row.disease, row.line, "disease_id", report)
        if disease is None:
            continue
        gene = gene_iri(gene_id)
        if gene_id not in genes:
            genes.add(gene_id)
            yield gene, RDF.type, IGKG.Gene
            if len(resolver) and not resolver.resolve(gene_id, "entrez").ok:
                report.unmapped_id("ncbigene", gene_id)
            if label_genes and row.symbol and row.symbol != "-":
                yield gene, RDFS.label, Literal(row.symbol)
        if disease not in diseases:
            diseases.add(disease)
            yield disease, RDF.type, IGKG.Disease
        node = context.mint("gene-disease", "hpo", gene_id, row.disease)
        if (gene_id, row.disease) not in pairs:
            pairs.add((gene_id, row.disease))
            yield node, RDF.type, IGKG.GeneDiseaseAssociation
            yield node, IGKG.gene, gene
            yield node, IGKG.disease, disease
            symbol = row.symbol if row.symbol and row.symbol != "-" else f"NCBIGene:{gene_id}"
            yield node, RDFS.label, Literal(f"{symbol} - {row.disease}")
            yield gene, IGKG.associatedWithDisease, disease
        source = Literal("HPO genes_to_disease" + (f": {row.source}" if row.source else ""))
        if (node, source) not in stated:
            stated.add((node, source))
            yield node, DCT.source, source
        if row.association_type:
            evidence = Literal(f"HPO association type {row.association_type}")
            if (node, evidence) not in stated:
                stated.add((node, evidence))
                yield node, IGKG.evidence, evidence
    report.note(f"{len(pairs)} gene-disease pairs, {len(genes)} genes, {len(diseases)} diseases")
    if "ncbigene" in report.unmapped:
        report.note(f"{len(report.unmapped['ncbigene'])} NCBI Gene ids are not among the loaded genes "
                    "(linked by their NCBI Gene IRI all the same)")


# ---------------------------------------------------------------------------- phenotype.hpoa
def _normalise(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


_ANNOTATION_KEYS = {_normalise(c): c for c in ANNOTATION_COLUMNS}


def parse_annotations(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield disease labels and ``RO:0002200`` links to HP terms from a ``phenotype.hpoa`` file."""
    header: list[str] | None = None
    labelled: set[URIRef] = set()
    linked: set[tuple[URIRef, URIRef]] = set()
    negated = other_aspect = 0
    last = 0
    for lineno, text in iter_lines(path, context):
        last = lineno
        if not text.strip():
            continue
        if header is None:
            cells = [c.strip() for c in text.lstrip("#").split("\t")]
            names = [_ANNOTATION_KEYS.get(_normalise(c), c) for c in cells]
            if len(cells) > 1 and "database_id" in names and "hpo_id" in names:
                missing = [c for c in _ANNOTATION_REQUIRED if c not in names]
                if missing:
                    raise LoadError(path, f"missing column(s) {', '.join(map(repr, missing))}; columns found: {', '.join(cells)}",
                                    line=lineno, hint="expected HPO's phenotype.hpoa header: " + " ".join(ANNOTATION_COLUMNS))
                header = names
                continue
            if text.startswith("#"):
                key, _, value = text[1:].partition(":")
                if key.strip().lower() in ("version", "date"):
                    report.note(f"HPO annotation release {value.strip()}")
                continue
            shown = ", ".join(cells[:8]) + (" ..." if len(cells) > 8 else "")
            raise LoadError(path, f"not an HPO phenotype.hpoa file; first line after the metadata: {shown}", line=lineno,
                            hint="expected the tab-separated header " + " ".join(ANNOTATION_COLUMNS))
        cells = [c.strip() for c in text.split("\t")]
        if len(cells) != len(header):
            raise LoadError(path, f"{len(cells)} tab-separated cells but the header has {len(header)} columns", line=lineno,
                            hint="phenotype.hpoa rows are tab-separated; check the file is not truncated or re-saved")
        row = dict(zip(header, cells, strict=True))
        report.records_read += 1
        disease = _disease(path, row["database_id"], lineno, "database_id", report)
        hpo = _HPO_ID.match(row["hpo_id"])
        if hpo is None:
            raise LoadError(path, f"HPO id {row['hpo_id']!r} is not HP: followed by seven digits", line=lineno, field="hpo_id",
                            hint="check the columns and the separator of this line")
        if disease is None:
            continue
        if disease not in labelled:
            labelled.add(disease)
            yield disease, RDF.type, IGKG.Disease
            if row["disease_name"]:
                yield disease, RDFS.label, Literal(row["disease_name"])
        if row["qualifier"].upper() == "NOT":
            negated += 1
            continue
        if row["aspect"] != "P":
            other_aspect += 1
            continue
        phenotype = HP[hpo.group(1)]
        if (disease, phenotype) not in linked:
            linked.add((disease, phenotype))
            yield disease, HAS_PHENOTYPE, phenotype
    if header is None:
        raise LoadError(path, "no phenotype.hpoa header line", line=max(last, 1), hint="expected the tab-separated header " + " ".join(ANNOTATION_COLUMNS))
    if report.records_read == 0:
        raise _no_rows(path, last + 1)
    report.note(f"{len(labelled)} diseases, {len(linked)} disease-phenotype links (RO:0002200)")
    if negated:
        report.note(f"{negated} negated (NOT) annotations not stated")
    if other_aspect:
        report.note(f"{other_aspect} inheritance, onset/clinical-course and modifier annotations (aspects I, C, M, H) not stated")


ANNOTATIONS_LOADER = Loader(
    kind="hpo-annotations",
    description="HPO phenotype.hpoa: disease names and disease -> HP phenotype links (RO:0002200), negations left out",
    parse=parse_annotations,
    patterns=("*.hpoa", "*.hpoa.gz"),
    version="1",
)
GENES_TO_DISEASE_LOADER = Loader(
    kind="hpo-genes-to-disease",
    description="HPO genes_to_disease.txt (or the older diseases_to_genes.txt): NCBI genes -> OMIM / Orphanet diseases, reified with the association type",
    parse=parse_genes_to_disease,
    patterns=("*genes_to_disease.txt", "*genes_to_disease.txt.gz", "*diseases_to_genes.txt", "*diseases_to_genes.txt.gz"),
    version="1",
    options=("label_genes",),
)
LOADERS = [ANNOTATIONS_LOADER, GENES_TO_DISEASE_LOADER]
"""The two HPO kinds (a module may declare ``LOADERS`` instead of one ``LOADER``)."""
