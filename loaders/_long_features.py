"""Long-format radiomics tables: one row per subject, feature and value (read by kind ``radiomics-csv``).

A long table has a subject column (``find_subject_column``), a feature-name column
(``feature``, ``feature_name``, ``Feature_name`` ...), a value column (``value``,
``feature_value`` ...) and optionally image / mask columns (``image``, ``mask``,
``ImageSpace_name``, ``ROImask_name`` ...) and further setting columns (the FAIR-radiomics
tables' ``FeatureParameterSpace_name``, ``CalculationRunSpace_name``). ``long_layout``
tells such a header from a wide one. Feature names may be pyradiomics names or IBSI names
(``Fstat.mean``, ``stat_mean``: ``loaders._ibsi.resolve_feature``); a name that is neither is
reported unmapped (namespace ``feature``) and its rows are not loaded.

Each row becomes an ``igkg:FeatureMeasurement`` of the shared feature node. The image /
mask columns name an ``igkg:Segmentation`` of the subject (one per distinct value set);
the setting columns name an ``igkg:ExtractionRun`` (``igkg:parameters`` lists them), so
the same feature of the same subject on two delineations, or with two settings, stays two
measurements. The same subject, feature, image and settings on several rows is ambiguous
(the FAIR-radiomics tables map two pyradiomics features to ``Frlm.lgre`` and ``Frlm.rl.var``):
with equal values one is kept, with different values none is, and each such row is a
reported rejection naming the other lines; the table is read twice for that (two passes,
memory for the keys only). Values of a long table are kept in the graph whatever the load's ``values`` mode;
with a replicate column (option ``replicate_column``: the scan, delineation or reader of a row) the
values also go to the data plane as a ``features`` matrix keyed by subject and replicate.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg.core.errors import LoadError
from kg.core.namespaces import IGKG
from kg.core.values import MISSING_TOKENS, normalise_token
from loaders._matrices import ReplicateCodes
from loaders._contract import LoadContext, LoadReport, Triple
from loaders._ibsi import any_feature_node, resolve_feature
from loaders._shapes import cohort, measurement, subject
from loaders._tables import TableRow, find_subject_column, finite_number

__all__ = ["LongColumns", "long_columns", "long_layout", "parse_long"]

_FEATURE = ("feature", "feature_name", "featurename", "feature name", "feature_id", "features")
_VALUE = ("value", "feature_value", "featurevalue", "feature value", "values")
_IMAGE = re.compile(r"^(image|mask|roi|segmentation|imagespace(_name)?|roimask(_name)?|image[ _]?(id|file|path)|mask[ _]?(id|file|path)|series(uid)?)$", re.IGNORECASE)
_IGNORED = re.compile(r"^(unit|units|patient_label)$", re.IGNORECASE)
_MISSING = MISSING_TOKENS


@dataclass(frozen=True)
class LongColumns:
    """The roles of a long table's columns."""

    subject: str
    feature: str
    value: str
    image: tuple[str, ...]
    settings: tuple[str, ...]
    ignored: tuple[str, ...]


def _find(headers: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {h.strip().lower(): h for h in headers}
    return next((lowered[n] for n in names if n in lowered), None)


def long_layout(headers: list[str]) -> bool:
    """True when a header is a long table's: a feature-name and a value column, no pyradiomics / IBSI feature columns.

    >>> long_layout(["PatientID", "Feature_name", "Value", "ImageSpace_name"])
    True
    >>> long_layout(["Case ID", "original_firstorder_Mean"])
    False
    """
    if _find(headers, _FEATURE) is None or _find(headers, _VALUE) is None:
        return False
    return not any(resolve_feature(h) is not None for h in headers)


def long_columns(headers: list[str], path: Path, id_column: str | None, replicate: str | None = None) -> LongColumns:
    """The column roles of a long table (``LoadError`` naming the columns found when one is missing)."""
    feature, value = _find(headers, _FEATURE), _find(headers, _VALUE)
    if feature is None or value is None:
        raise LoadError(
            path, f"a long table needs a feature-name and a value column; columns: {', '.join(headers[:10])}",
            line=1, hint="name them 'feature' and 'value', or load a wide table (one column per feature)",
        )
    subject_column = find_subject_column(headers, id_column, path, exclude=())
    assert subject_column is not None
    if replicate is not None and replicate not in headers:
        raise LoadError(path, f"no replicate column {replicate!r}; columns: {', '.join(headers[:10])}", line=1,
                        hint="give --replicate-column the header of the column naming the scan, delineation or reader")
    rest = [h for h in headers if h not in (subject_column, feature, value, replicate)]
    return LongColumns(
        subject=subject_column, feature=feature, value=value,
        image=tuple(h for h in rest if _IMAGE.match(h.strip())),
        settings=tuple(h for h in rest if not _IMAGE.match(h.strip()) and not _IGNORED.match(h.strip())),
        ignored=tuple(h for h in rest if _IGNORED.match(h.strip())),
    )


def _ambiguous(columns: LongColumns, rows: Iterator[TableRow], replicate: str | None = None) -> dict[tuple[str, ...], list[tuple[int, str]]]:
    """Keys met on more than one row -> their (line, value) pairs."""
    first: dict[tuple[str, ...], tuple[int, str]] = {}
    repeated: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for row in rows:
        key = _key(columns, row, replicate)
        here = (row.line, row.cells[columns.value].strip())
        if key in first:
            repeated.setdefault(key, [first[key]]).append(here)
        else:
            first[key] = here
    return repeated


def _key(columns: LongColumns, row: TableRow, replicate: str | None = None) -> tuple[str, ...]:
    return (
        row.cells[columns.subject].strip(), row.cells[columns.feature].strip(),
        *(row.cells[c].strip() for c in columns.image), *(row.cells[c].strip() for c in columns.settings),
        *((row.cells[replicate].strip(),) if replicate else ()),
    )


def parse_long(
    path: Path, context: LoadContext, report: LoadReport, open_rows: Callable[[], Iterator[TableRow]], headers: list[str],
) -> Iterator[Triple]:
    """Yield the measurements of a long table (see the module docstring); ``open_rows`` reads its data rows afresh."""
    replicate_column = context.option("replicate_column")
    columns = long_columns(headers, path, context.option("id_column"), replicate_column)
    repeated = _ambiguous(columns, open_rows(), replicate_column)
    conflicting = {k for k, seen in repeated.items() if len({v for _, v in seen}) > 1}
    kept_once: set[tuple[str, ...]] = set()
    if repeated:
        report.note(
            f"{len(repeated)} subject/feature/image/settings combinations appear on several rows: "
            f"{len(conflicting)} with different values (not loaded), {len(repeated) - len(conflicting)} with equal values (loaded once)"
        )
    rows = open_rows()
    report.note(
        f"long layout: subject {columns.subject!r}, feature {columns.feature!r}, value {columns.value!r}"
        + (f", image/mask {', '.join(map(repr, columns.image))}" if columns.image else "")
        + (f", settings {', '.join(map(repr, columns.settings))}" if columns.settings else "")
        + (f"; not loaded: {', '.join(map(repr, columns.ignored))}" if columns.ignored else "")
    )
    shared: list[Triple] = []
    cohort_name = context.option("cohort")
    cohort_node = cohort(context, str(cohort_name), shared) if cohort_name else None
    yield from shared
    source_key = path.name
    features: dict[str, URIRef | None] = {}
    subjects: dict[str, URIRef] = {}
    rois: dict[tuple[str, ...], URIRef] = {}
    runs: dict[tuple[str, ...], URIRef] = {}
    missing = skipped = duplicates = 0
    values: dict[tuple[str, int], dict[tuple[str, tuple[str, ...]], float]] = {}
    iris: dict[tuple[str, tuple[str, ...]], str] = {}
    replicate_codes = ReplicateCodes()
    for row in rows:
        report.records_read += 1
        triples: list[Triple] = []
        subject_id = row.cells[columns.subject].strip()
        if not subject_id:
            raise LoadError(path, "empty subject id", line=row.line, field=columns.subject, hint="every row names its subject")
        written = row.cells[columns.feature].strip()
        if written not in features:
            resolved = resolve_feature(written) if written else None
            if resolved is None:
                report.unmapped_id("feature", written)
                features[written] = None
            else:
                features[written] = any_feature_node(context, resolved, triples, written)
        feature = features[written]
        if feature is None:
            skipped += 1
            yield from triples
            continue
        image = tuple(row.cells[c].strip() for c in columns.image)
        settings = tuple(row.cells[c].strip() for c in columns.settings)
        replicate = row.cells[replicate_column].strip() if replicate_column else None
        key = (subject_id, written, *image, *settings, *((replicate,) if replicate_column else ()))
        if key in conflicting:
            others = ", ".join(str(line) for line, _ in repeated[key] if line != row.line)
            report.reject(
                f"subject {subject_id!r}, feature {written!r}: another value for the same image and settings on line(s) {others}; none loaded",
                line=row.line, record=subject_id, field=columns.feature,
            )
            yield from triples
            continue
        if key in repeated:
            if key in kept_once:
                yield from triples
                continue
            kept_once.add(key)
        text = row.cells[columns.value].strip()
        if normalise_token(text) in _MISSING:
            missing += 1
            yield from triples
            continue
        value = finite_number(text, path, line=row.line, field=columns.value)
        if value is None:
            raise LoadError(path, f"feature value {text!r} is not a number", line=row.line, field=columns.value,
                            hint="values are numbers; leave a missing value empty")
        if math.isnan(value):
            missing += 1
            yield from triples
            continue
        if subject_id not in subjects:
            subjects[subject_id] = subject(context, subject_id, triples, cohort_node=cohort_node)
        node = subjects[subject_id]
        roi = None
        if columns.image and (subject_id, *image) not in rois:
            roi = context.mint("roi", source_key, subject_id, *image)
            rois[(subject_id, *image)] = roi
            triples += [
                (roi, RDF.type, IGKG.Segmentation),
                (roi, RDFS.label, Literal(", ".join(f"{c} {v}" for c, v in zip(columns.image, image, strict=True)))),
                (roi, IGKG.subject, node),
            ]
        roi = rois.get((subject_id, *image))
        run = None
        if columns.settings:
            if settings not in runs:
                runs[settings] = context.mint("extraction-run", source_key, *settings)
                triples += [
                    (runs[settings], RDF.type, IGKG.ExtractionRun),
                    (runs[settings], IGKG.parameters, Literal("; ".join(f"{c}={v}" for c, v in zip(columns.settings, settings, strict=True)))),
                ]
            run = runs[settings]
        measurement(context, triples, key=("long", source_key, *key), feature=feature, subject_node=node, value=value, roi=roi, run=run)
        if replicate_column and context.columnar:
            cell = (str(node), replicate_codes.code(replicate or ""))
            slot = values.setdefault(cell, {})
            if (written, settings) in slot:
                duplicates += 1
            else:
                slot[written, settings] = value
                iris.setdefault((written, settings), str(feature))
        yield from triples
    mapped = sum(1 for f in features.values() if f is not None)
    report.note(f"{mapped} of {len(features)} feature names map to a feature (pyradiomics or IBSI name); {len(subjects)} subjects")
    if skipped:
        report.note(f"{skipped} rows of feature names that map to no feature were not loaded (see unmapped 'feature')")
    if missing:
        report.note(f"{missing} empty or NaN values (missing, no measurement)")
    if values:
        _write_replicates(context, report, values, iris, str(replicate_column), duplicates)
        report.note(f"replicates of {replicate_column!r} as numbers in the data plane: {replicate_codes.describe()}")


def _write_replicates(
    context: LoadContext, report: LoadReport, values: dict[tuple[str, int], dict[tuple[str, tuple[str, ...]], float]],
    iris: dict[tuple[str, tuple[str, ...]], str], replicate_column: str, duplicates: int,
) -> None:
    """The ``features`` matrix of a long table with a replicate column: one row per subject and
    replicate, one column per feature as written (``name @settings`` when it has several settings)."""
    settings_of: dict[str, set[tuple[str, ...]]] = {}
    for name, settings in iris:
        settings_of.setdefault(name, set()).add(settings)
    names = {key: key[0] if len(settings_of[key[0]]) == 1 else f"{key[0]} @{','.join(key[1])}" for key in iris}
    columns = list(dict.fromkeys(names.values()))
    sink = context.matrix("features", kind="radiomics", variables={names[k]: iri for k, iri in iris.items()})
    rows = [{"subject": s, "replicate": r, **{names[k]: v for k, v in slot.items()}} for (s, r), slot in values.items()]
    frame = pd.DataFrame(rows).reindex(columns=["subject", "replicate", *columns])
    sink.write(frame.astype({c: "float64" for c in columns}))
    report.note(f"radiomics matrix by subject and replicate ({replicate_column!r}): {len(frame)} rows x {len(columns)} features")
    if duplicates:
        report.note(f"{duplicates} values of a subject, replicate and feature already given by another image (first kept in the matrix)")
