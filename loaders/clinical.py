"""Clinical tables -> subjects with sex, diagnosis, stage, outcome and molecular marker statuses.

One row per subject. Two published layouts are read as their publishers write them:

- TCIA's NSCLC Radiogenomics clinical table (CSV: ``Patient ID``, ``Gender``,
  ``Histology``, ``Pathological T/N/M stage``, ``EGFR mutation status`` ... ``Survival
  Status``, ``Time to Death (days)``), where marker columns hold Mutant / Wildtype /
  Translocated / Unknown / Not collected;
- TCGA Biotab clinical files (``nationwidechildrens.org_clinical_patient_<study>.txt``,
  tab-separated): a header row, a second header row of alternative names and a row of
  ``CDE_ID:`` codes before the data, ``[Not Available]``-style missing values.

Any other table works by naming its columns with options (``id_column``, ``sex_column``,
``diagnosis_column``, ``stage_columns``, ``vital_status_column``, ``survival_days_column``,
``follow_up_days_column``, ``age_column``, ``marker_columns``); the defaults recognise the
two layouts above. Columns named like ``<GENE> mutation status`` (or translocation,
fusion, amplification, deletion, methylation) are marker columns: each non-empty cell
becomes a ``MarkerStatus`` (``model.marker_status``, keyed by this file's name so that
another source's statement about the same subject stays beside it), with value 1/0 for a
positive/negative status; a status that is neither positive, negative nor "unknown" is a
reported rejection, never a guessed value.

A diagnosis written as a CURIE of MeSH, UMLS, NCIt or MONDO (``MESH:D002289``,
``UMLS:C0007131``, ``NCIT:C3512``, ``MONDO:0005233``) links the subject to that disease
node with ``igkg:diagnosis``; the text is always kept as ``igkg:diagnosisText``, and text
without a code is reported as unmapped (namespace ``diagnosis``).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.files import delimiter_for
from kg.core.namespaces import IGKG, expand
from kg.core.values import MISSING_TOKENS, normalise_token
from loaders import _shapes as model
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import TableRow, finite_number, iter_lines, iter_table
from loaders._genes import resolver_for
from loaders._matrices import CategoryBuffer

__all__ = ["LOADER", "diagnosis_iri", "is_missing", "variable_iri", "variable_triples"]

logger = logging.getLogger(__name__)

_DEFAULTS: dict[str, tuple[str, ...]] = {
    "id": ("Patient ID", "bcr_patient_barcode", "Case ID", "Subject ID", "subject_id", "subject", "patient", "IID"),
    "sex": ("Gender", "gender", "Sex", "sex"),
    "diagnosis": ("Histology", "histological_type", "Diagnosis", "diagnosis", "primary_diagnosis"),
    "vital_status": ("Survival Status", "vital_status", "Vital Status"),
    "survival_days": ("Time to Death (days)", "death_days_to", "days_to_death"),
    "follow_up_days": ("last_contact_days_to", "days_to_last_followup"),
    "age": ("Age at Histological Diagnosis", "age_at_initial_pathologic_diagnosis", "age_at_diagnosis"),
}
_STAGE_DEFAULT = (
    ("Pathological T stage", "Pathological N stage", "Pathological M stage"),
    ("ajcc_pathologic_tumor_stage",),
    ("clinical_stage",),
)
_MISSING = MISSING_TOKENS
_MAX_LEVELS = 50
"""A categorical column with more distinct values is free text: no levels in the graph."""
_CODE = re.compile(r"^\s*(?P<prefix>MESH|MeSH|MSH|UMLS|NCIT|NCIt|NCI|MONDO)\s*:\s*(?P<local>[A-Za-z0-9_.]+)\s*$")
_BIOTAB = re.compile(r"^nationwidechildrens\.org_clinical_.*\.txt(\.gz)?$", re.IGNORECASE)


def is_missing(value: str) -> bool:
    """True for the many ways clinical tables write "no value".

    >>> is_missing("[Not Available]"), is_missing("Not Collected"), is_missing("T2a")
    (True, True, False)
    """
    return normalise_token(value) in _MISSING


def diagnosis_iri(text: str) -> URIRef | None:
    """The disease IRI of a diagnosis written as a MeSH / UMLS / NCIt / MONDO CURIE, else ``None``.

    >>> diagnosis_iri("MESH:D002289")
    rdflib.term.URIRef('http://id.nlm.nih.gov/mesh/D002289')
    >>> diagnosis_iri("MONDO:0005233")
    rdflib.term.URIRef('http://purl.obolibrary.org/obo/MONDO_0005233')
    >>> diagnosis_iri("Adenocarcinoma") is None
    True
    """
    match = _CODE.match(text)
    if not match:
        return None
    iri = expand(f"{match['prefix']}:{match['local']}")
    return URIRef(iri) if iri else None


def _header_rows(path: Path, context: LoadContext, delimiter: str) -> int:
    """How many rows precede the data: 1, or 3 in a TCGA Biotab file (names, alt names, CDE_ID)."""
    given = context.option("header_rows")
    if given is not None:
        return int(given)
    if _BIOTAB.match(path.name):
        return 3
    # A Biotab file renamed: its third line starts with the CDE_ID marker the format documents.
    for lineno, text in iter_lines(path, context):
        if lineno == 3:
            return 3 if text.split(delimiter, 1)[0].strip().startswith("CDE_ID") else 1
        if lineno > 3:
            break
    return 1


def _rows(path: Path, context: LoadContext, delimiter: str, skip: int) -> Iterator[TableRow]:
    rows = iter_table(path, context, delimiter=delimiter)
    for row in rows:
        if row.line <= skip:
            continue
        yield row


def _pick(header: list[str], context: LoadContext, option: str, field: str, path: Path) -> str | None:
    given = context.option(option)
    if given:
        if given not in header:
            raise LoadError(path, f"no column {given!r} (option {option}); columns: {', '.join(header[:12])} ...", line=1, hint=f"check --{option.replace('_', '-')}")
        return str(given)
    stripped = {h.strip(): h for h in header}
    for name in _DEFAULTS[field]:
        if name in stripped:
            return stripped[name]
    return None


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Yield the subjects of a clinical table with their clinical facts and marker statuses."""
    delimiter = delimiter_for(path, context.option("sep"))
    skip = _header_rows(path, context, delimiter)
    rows = _rows(path, context, delimiter, skip)
    first = next(rows, None)
    if first is None:
        raise LoadError(path, "no data rows", line=skip + 1, hint="a clinical table has a header and one row per subject")
    header = list(first.cells)
    id_column = _pick(header, context, "id_column", "id", path)
    if id_column is None:
        raise LoadError(
            path, f"cannot tell which column holds subject ids; columns: {', '.join(header[:12])} ...",
            line=1, hint="give --id-column",
        )
    columns = {field: _pick(header, context, f"{field}_column", field, path) for field in _DEFAULTS if field != "id"}
    stage_option = context.option("stage_columns")
    if stage_option:
        stage_columns = tuple(c.strip() for c in str(stage_option).split(","))
        missing = [c for c in stage_columns if c not in header]
        if missing:
            raise LoadError(path, f"no stage column(s) {missing}", line=1, hint="check --stage-columns")
    else:
        stage_columns = next((group for group in _STAGE_DEFAULT if all(c in header for c in group)), ())
    marker_option = context.option("marker_columns")
    if marker_option:
        marker_columns = [c.strip() for c in str(marker_option).split(",")]
        unknown = [c for c in marker_columns if c not in header]
        if unknown:
            raise LoadError(path, f"no marker column(s) {unknown}", line=1, hint="check --marker-columns")
    else:
        marker_columns = [c for c in header if model.marker_gene_symbol(c)]
    report.note(
        f"subject ids from {id_column!r}; "
        + ", ".join(f"{k} from {v!r}" for k, v in columns.items() if v)
        + (f"; stage from {', '.join(stage_columns)}" if stage_columns else "")
        + (f"; markers {', '.join(marker_columns)}" if marker_columns else "")
    )
    resolver = resolver_for(context, report) if marker_columns else None
    shared: list[Triple] = []
    cohort_name = context.option("cohort")
    cohort_node = model.cohort(context, str(cohort_name), shared) if cohort_name else None
    markers: dict[str, URIRef] = {}
    for column in marker_columns:
        symbol = model.marker_gene_symbol(column)
        gene = None
        if symbol and resolver is not None:
            result = resolver.resolve(symbol)
            if result.ok:
                gene = result.gene
            else:
                report.unmapped_id("gene" if result.status == "unmapped" else f"gene-{result.status}", symbol)
        markers[column] = model.marker(context, column, shared, gene=gene)
    yield from shared

    variable_columns = [h for h in header if h != id_column and h not in markers and h.strip()]
    clinical = CategoryBuffer(
        context, "clinical", kind="clinical", missing=_MISSING,
        variables={h: str(variable_iri(context, h)) for h in variable_columns},
    )
    seen_values: dict[str, set[str]] = {h: set() for h in variable_columns}
    marker_rows: list[dict[str, object]] = []
    seen: dict[str, int] = {}
    for row in _chain(first, rows):
        report.records_read += 1
        subject_id = row.cells.get(id_column, "").strip()
        if not subject_id or is_missing(subject_id):
            report.reject("no subject id", line=row.line, field=id_column)
            continue
        if subject_id in seen:
            raise LoadError(
                path, f"subject {subject_id!r} appears again (first on line {seen[subject_id]})",
                line=row.line, field=id_column, hint="a clinical table has one row per subject",
            )
        seen[subject_id] = row.line
        triples: list[Triple] = []
        node = model.subject(context, subject_id, triples, cohort_node=cohort_node)
        triples += _facts(path, row, node, columns, stage_columns, report)
        cells = {h: " ".join(v.split()) for h, v in row.cells.items()}
        clinical.add(str(node), cells)
        for h, values in seen_values.items():
            value = cells.get(h, "")
            if len(values) <= _MAX_LEVELS and not is_missing(value):
                values.add(value)
        marker_row: dict[str, object] = {"subject": str(node)}
        if markers and context.columnar:
            marker_rows.append(marker_row)
        for column, marker_node in markers.items():
            status = row.cells.get(column, "").strip()
            if not status:
                continue
            try:
                value = model.marker_value(status)
                marker_row[column] = value
            except ValueError:
                report.reject(
                    f"marker status {status!r} is neither positive, negative nor unknown; not loaded",
                    line=row.line, record=subject_id, field=column,
                )
                continue
            model.marker_status(
                context, triples, source_key=path.name, subject_node=node, subject_id=subject_id,
                marker_node=marker_node, status=status, value=value,
            )
        yield from triples
    clinical.close(report)
    _write_markers(context, report, markers, marker_rows)
    yield from variable_triples(context, seen_values)


def variable_iri(context: LoadContext, column: str) -> URIRef:
    """The node of a subject variable: a clinical column as loaded (one per column name)."""
    return context.mint("subject-variable", column)


def variable_triples(context: LoadContext, values: dict[str, set[str]]) -> list[Triple]:
    """One ``igkg:SubjectVariable`` per column with a value: its label (the column name), its
    type (``numeric`` when every value is a finite number, else ``categorical``) and, for a
    categorical one with at most ``_MAX_LEVELS`` values, its levels (missing tokens are never levels)."""
    triples: list[Triple] = []
    for column, seen in values.items():
        if not seen:
            continue
        node = variable_iri(context, column)
        numeric = all(_is_number(v) for v in seen)
        triples += [
            (node, RDF.type, IGKG.SubjectVariable),
            (node, RDFS.label, Literal(column)),
            (node, IGKG.variableType, Literal("numeric" if numeric else "categorical")),
        ]
        if not numeric and len(seen) <= _MAX_LEVELS:
            triples += [(node, IGKG.level, Literal(level)) for level in sorted(seen)]
    return triples


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _write_markers(context: LoadContext, report: LoadReport, markers: dict[str, URIRef], rows: list[dict[str, object]]) -> None:
    """The markers matrix: 1 positive, 0 negative, missing otherwise (markers with no status left out)."""
    if not rows:
        return
    frame = pd.DataFrame(rows).reindex(columns=["subject", *markers])
    kept = {c: str(markers[c]) for c in markers if frame[c].notna().any()}
    if len(kept) < len(markers):
        report.note(f"markers matrix: no status for {', '.join(c for c in markers if c not in kept)} (left out)")
    if kept:
        sink = context.matrix("markers", kind="markers", variables=kept)
        sink.write(frame[["subject", *kept]].astype({c: "float64" for c in kept}))


def _chain(first: TableRow, rest: Iterator[TableRow]) -> Iterator[TableRow]:
    yield first
    yield from rest


def _facts(
    path: Path,
    row: TableRow,
    node: URIRef,
    columns: dict[str, str | None],
    stage_columns: tuple[str, ...],
    report: LoadReport,
) -> list[Triple]:
    triples: list[Triple] = []

    def cell(field: str) -> str | None:
        column = columns.get(field)
        if column is None:
            return None
        value = row.cells.get(column, "").strip()
        return None if is_missing(value) else value

    sex = cell("sex")
    if sex:
        triples.append((node, IGKG.sex, Literal(sex.lower())))
    diagnosis = cell("diagnosis")
    if diagnosis:
        triples.append((node, IGKG.diagnosisText, Literal(diagnosis)))
        disease = diagnosis_iri(diagnosis)
        if disease is not None:
            triples.append((node, IGKG.diagnosis, disease))
        else:
            report.unmapped_id("diagnosis", diagnosis)
    stage = " ".join(v for v in (row.cells.get(c, "").strip() for c in stage_columns) if v and not is_missing(v))
    if stage:
        triples.append((node, IGKG.stage, Literal(stage)))
    vital = cell("vital_status")
    if vital:
        triples.append((node, IGKG.vitalStatus, Literal(vital.lower())))
    for field, predicate in (("survival_days", IGKG.survivalDays), ("follow_up_days", IGKG.followUpDays), ("age", IGKG.ageAtDiagnosis)):
        value = cell(field)
        if value is None:
            continue
        number = finite_number(value, path, line=row.line, field=columns[field])
        if number is None:
            report.reject(f"not a number: {value!r}", line=row.line, field=columns[field])
            continue
        if math.isnan(number):  # NaN: missing
            continue
        triples.append((node, predicate, Literal(repr(number), datatype=XSD.double)))
    return triples


LOADER = Loader(
    kind="clinical",
    description="Clinical tables (TCIA NSCLC Radiogenomics CSV, TCGA Biotab): subjects, sex, diagnosis, stage, outcome, marker statuses",
    parse=parse,
    patterns=("nationwidechildrens.org_clinical_*.txt", "*clinical*.csv", "*clinical*.tsv"),
    version="1",
    options=(
        "id_column", "sex_column", "diagnosis_column", "stage_columns", "vital_status_column", "survival_days_column",
        "follow_up_days_column", "age_column", "marker_columns", "cohort", "sep", "header_rows",
    ),
)
