"""Shapes several loaders share, so that their triples meet on the same nodes.

A subject named ``R01-003`` by the radiomics table and by the TCIA clinical table is one
``igkg:Subject``; a feature ``original_glcm_Contrast`` is one ``igkg:RadiomicFeature``
whichever file it came from; the EGFR mutation marker is one ``igkg:Marker``. Each function
returns the node and yields (into a list it is given) the triples that describe it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG, PROV
from kg.core.values import MISSING_TOKENS, normalise_token
from loaders._contract import LoadContext, Triple
from loaders._tables import TableRow

__all__ = [
    "FeatureName",
    "MARKER_COLUMN",
    "cohort",
    "feature_name",
    "marker",
    "marker_gene_symbol",
    "marker_status",
    "marker_value",
    "measurement",
    "subject",
    "subject_rows",
]

# pyradiomics image types: original, wavelet-LLH, log-sigma-2-0-mm-3D, square, squareroot,
# logarithm, exponential, gradient, lbp-2D, lbp-3D-m1, lbp-3D-k ...
_CLASSES = ("shape2D", "shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
_NAME = re.compile(r"^(?P<image>.+?)_(?P<cls>" + "|".join(_CLASSES) + r")_(?P<feature>[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class FeatureName:
    """A pyradiomics feature column name split into image type, class and feature."""

    image_type: str
    feature_class: str
    feature: str

    @property
    def full(self) -> str:
        """The pyradiomics column name ``<imageType>_<class>_<feature>``."""
        return f"{self.image_type}_{self.feature_class}_{self.feature}"


def feature_name(column: str) -> FeatureName | None:
    """Split a pyradiomics column name, or ``None`` if the column is not a feature.

    >>> feature_name("original_glcm_Contrast")
    FeatureName(image_type='original', feature_class='glcm', feature='Contrast')
    >>> feature_name("wavelet-LLH_firstorder_Mean").image_type
    'wavelet-LLH'
    >>> feature_name("diagnostics_Versions_PyRadiomics") is None
    True
    """
    match = _NAME.match(column.strip())
    if not match or column.startswith("diagnostics_"):
        return None
    return FeatureName(match["image"], match["cls"], match["feature"])


def subject(context: LoadContext, identifier: str, triples: list[Triple], *, cohort_node: URIRef | None = None) -> URIRef:
    """The Subject node for a subject id as the source writes it (trimmed)."""
    identifier = identifier.strip()
    node = context.mint("subject", identifier)
    triples += [
        (node, RDF.type, IGKG.Subject),
        (node, IGKG.identifier, Literal(identifier)),
        (node, RDFS.label, Literal(identifier)),
    ]
    if cohort_node is not None:
        triples.append((node, IGKG.inCohort, cohort_node))
    return node


def cohort(context: LoadContext, name: str, triples: list[Triple]) -> URIRef:
    """The Cohort node for a cohort name (e.g. ``NSCLC-Radiogenomics``)."""
    node = context.mint("cohort", name.strip())
    triples += [(node, RDF.type, IGKG.Cohort), (node, RDFS.label, Literal(name.strip()))]
    return node


def measurement(
    context: LoadContext,
    triples: list[Triple],
    *,
    key: tuple[object, ...],
    feature: URIRef,
    subject_node: URIRef,
    value: float | None,
    roi: URIRef | None = None,
    run: URIRef | None = None,
) -> URIRef:
    """A FeatureMeasurement: one value of one feature on one ROI of one subject.

    ``key`` identifies it deterministically (e.g. run id, ROI id, feature name). ``value``
    is ``None`` only for a nominal semantic trait, whose measurement carries a category.
    """
    node = context.mint("measurement", *key)
    triples += [
        (node, RDF.type, IGKG.FeatureMeasurement),
        (node, IGKG.feature, feature),
        (node, IGKG.subject, subject_node),
    ]
    if value is not None:
        triples.append((node, IGKG.value, Literal(repr(float(value)), datatype=XSD.double)))
    if roi is not None:
        triples.append((node, IGKG.roi, roi))
    if run is not None:
        triples.append((node, PROV.wasGeneratedBy, run))
    return node


MARKER_COLUMN = re.compile(
    r"^\s*(?P<gene>[A-Za-z0-9-]+)\s+(?P<what>mutation|translocation|fusion|amplification|deletion|methylation)"
    r"(?:\s+status)?\s*$",
    re.IGNORECASE,
)


def marker_gene_symbol(column: str) -> str | None:
    """The gene symbol a marker column names (``EGFR mutation status`` -> ``EGFR``), else ``None``.

    >>> marker_gene_symbol("EGFR mutation status")
    'EGFR'
    >>> marker_gene_symbol("ALK translocation status")
    'ALK'
    >>> marker_gene_symbol("Smoking status") is None
    True
    """
    match = MARKER_COLUMN.match(column)
    return match["gene"].upper() if match else None


def marker(context: LoadContext, name: str, triples: list[Triple], *, gene: URIRef | None = None) -> URIRef:
    """The Marker node for a marker column (``EGFR mutation status``), linked to its gene if known.

    The IRI is minted from the normalised name (``egfr-mutation-status``) so that every
    source naming the same marker meets on it.
    """
    match = MARKER_COLUMN.match(name)
    label = f"{match['gene'].upper()} {match['what'].lower()} status" if match else name.strip()
    node = context.mint("marker", re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-"))
    triples += [(node, RDF.type, IGKG.Marker), (node, RDFS.label, Literal(label))]
    if gene is not None:
        triples.append((node, IGKG.gene, gene))
    return node


def marker_status(
    context: LoadContext,
    triples: list[Triple],
    *,
    source_key: str,
    subject_node: URIRef,
    subject_id: str,
    marker_node: URIRef,
    status: str,
    value: float | None = None,
) -> URIRef:
    """A MarkerStatus: what one source says of one marker in one subject.

    ``source_key`` (e.g. the file name) is part of the IRI, so two sources that disagree
    make two nodes, each in its own named graph, and nothing is overwritten.
    """
    node = context.mint("marker-status", source_key, subject_id, str(marker_node).rsplit("/", 1)[-1])
    triples += [
        (node, RDF.type, IGKG.MarkerStatus),
        (node, IGKG.subject, subject_node),
        (node, IGKG.marker, marker_node),
        (node, IGKG.status, Literal(status)),
    ]
    if value is not None:
        triples.append((node, IGKG.value, Literal(repr(float(value)), datatype=XSD.double)))
    return node


_POSITIVE = {"mutant", "mutated", "mutation", "positive", "translocated", "translocation", "fusion",
             "amplified", "amplification", "deleted", "deletion", "methylated", "present", "yes", "true", "1", "1.0"}
_NEGATIVE = {"wildtype", "wild type", "wild-type", "wt", "negative", "not translocated", "not amplified",
             "not deleted", "unmethylated", "absent", "no", "false", "0", "0.0"}
_NOT_KNOWN = MISSING_TOKENS | {"not tested", "indeterminate", "equivocal"}
"""A marker status that says nothing: every missing token, and the statuses of an assay without a call."""


def marker_value(status: str) -> float | None:
    """1.0 for a positive marker status (Mutant, Translocated ...), 0.0 for a negative one
    (Wildtype ...), ``None`` for one that says nothing (Unknown, Not collected, empty);
    ``ValueError`` for anything else, so that a third kind of value is never guessed.

    >>> marker_value("Mutant"), marker_value("Wildtype"), marker_value("Not collected")
    (1.0, 0.0, None)
    """
    text = normalise_token(status)
    if text in _POSITIVE:
        return 1.0
    if text in _NEGATIVE:
        return 0.0
    if text in _NOT_KNOWN:
        return None
    raise ValueError(f"not a binary marker status: {status!r}")


def subject_rows(
    path: Path,
    rows: Iterable[TableRow],
    id_column: str,
    *,
    normalise: Callable[[str], str] | None = None,
    hint: str = "one row per subject; merge or rename the duplicates",
) -> Iterator[tuple[TableRow, str]]:
    """The rows of a one-row-per-subject table with their subject ids.

    An empty id, or a subject met twice (after ``normalise``, e.g. a TCGA sample barcode
    cut to its patient), is a ``LoadError`` naming the line and the id column.
    """
    seen: dict[str, int] = {}
    for row in rows:
        written = row.cells[id_column].strip()
        if not written:
            raise LoadError(path, "empty subject id", line=row.line, field=id_column or None, hint="every row names its subject")
        subject_id = normalise(written) if normalise else written
        if subject_id in seen:
            raise LoadError(
                path, f"subject {subject_id!r} appears twice (first on line {seen[subject_id]})",
                line=row.line, field=id_column or None, hint=hint,
            )
        seen[subject_id] = row.line
        yield row, subject_id
