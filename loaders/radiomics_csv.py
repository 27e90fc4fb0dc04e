"""Kind ``radiomics-csv``: a wide subject-by-feature table (one row per subject, one column per feature).

Feature columns are pyradiomics names (``original_firstorder_Mean``, ``wavelet-LLH_glcm_
Contrast`` ...) or IBSI names (current tags ``stat_mean``, ``morph_volume``, as MIRP writes
them, or the dotted ``Fstat.mean``: ``loaders._ibsi.resolve_feature``, the same node as the
pyradiomics feature where IBSI defines the same feature); every value becomes an
``igkg:FeatureMeasurement`` of the shared ``igkg:RadiomicFeature`` node (IBSI-coded, see
``loaders._ibsi``). A long table (subject, feature, value and image / mask columns) is
detected from its header, or chosen with option ``layout=long`` (``wide`` forces the other
way); the decision is a note of the report (``loaders._long_features``). The subject column is
``--id-column`` or found by its name (``Case ID``, ``PatientID``, ``subject``, ``ID`` ...).
The other columns are kept, never dropped:

- marker columns (``EGFR mutation status``, ``ALK translocation status`` ...) become
  ``igkg:MarkerStatus`` nodes of the shared ``igkg:Marker``, linked to the gene when the store
  offers the gene resolver (``context.lookup("genes")``) and the symbol resolves;
- sex / gender, smoking and age columns become subject properties (``igkg:sex`` lower case,
  ``igkg:smokingStatus``, ``igkg:ageAtDiagnosis``);
- any other column becomes an ``igkg:ClinicalObservation`` of the subject (``igkg:attribute`` =
  the header, the value as ``igkg:value`` or ``igkg:textValue``).

A non-numeric feature value, an unknown marker value or a subject listed twice is a
``LoadError`` naming the line and column; empty / ``NaN`` cells are missing values.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.core.errors import ConfigError, LoadError
from kg.core.files import delimiter_for
from kg.core.namespaces import IGKG
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._ibsi import any_feature_node, resolve_feature
from loaders._long_features import long_layout, parse_long
from loaders._matrices import CategoryBuffer, ReplicateCodes, open_buffer, parse_block
from loaders._shapes import (
    cohort,
    marker,
    marker_gene_symbol,
    marker_status,
    marker_value,
    measurement,
    subject,
    subject_rows,
)
from loaders._tables import TableRow, find_subject_column, finite_number, iter_table

__all__ = ["LOADER", "parse"]

_MISSING = {"", "nan", "na", "n/a", "none", "null", "#n/a", "-"}
_SEX = re.compile(r"^\s*(sex|gender)\s*$", re.IGNORECASE)
_SMOKING = re.compile(r"^\s*(smoking(\s+(status|history))?|smoker|tobacco\s+use)\s*$", re.IGNORECASE)
_AGE = re.compile(r"^\s*age(\s+at\s+(diagnosis|histological diagnosis|scan))?(\s*\(years\))?\s*$", re.IGNORECASE)
_SEX_VALUES = {"m": "male", "male": "male", "man": "male", "f": "female", "female": "female", "woman": "female"}


def _gene_resolver(context: LoadContext, report: LoadReport) -> object | None:
    try:
        return context.lookup("genes")
    except KeyError:
        report.note("no gene resolver offered: marker columns are not linked to genes")
    except Exception as exc:  # noqa: BLE001 - a broken lookup must not stop the table load
        report.note(f"the gene resolver failed ({exc}); marker columns are not linked to genes")
    return None


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Read the table and yield its triples (see the module docstring); atomic on error."""
    rows = iter_table(path, context, delimiter=delimiter_for(path))
    first = next(rows, None)
    if first is None:
        raise LoadError(path, "the table has a header but no rows", line=2, hint="a cut download? get the file again")
    headers = list(first.cells)
    layout = str(context.option("layout") or "auto").lower()
    if layout not in ("auto", "wide", "long"):
        raise ConfigError(f"option layout must be auto, wide or long, not {layout!r}")
    if layout == "long" or (layout == "auto" and long_layout(headers)):
        report.note("layout long " + ("(option layout)" if layout == "long" else "detected: a feature-name and a value column, no feature columns"))
        yield from parse_long(path, context, report, lambda: iter_table(path, context, delimiter=delimiter_for(path)), headers)
        return
    id_column = find_subject_column(headers, context.option("id_column"), path)
    replicate_column = _replicate_column(context, headers, path)
    resolved = {h: resolve_feature(h) for h in headers if h not in (id_column, replicate_column)}
    features = {h: r for h, r in resolved.items() if r is not None}
    markers = {h: marker_gene_symbol(h) for h in headers if h not in (id_column, replicate_column) and h not in features and marker_gene_symbol(h)}
    others = [h for h in headers if h not in (id_column, replicate_column) and h not in features and h not in markers]
    if not features:
        raise LoadError(
            path, "no feature columns: neither pyradiomics (<imageType>_<class>_<feature>) nor IBSI names (stat_mean, Fstat.mean)", line=1,
            hint="a long table (subject, feature, value columns) loads with --layout long",
        )
    report.note(
        f"subject column {id_column!r}; {len(features)} feature columns, {len(markers)} marker columns, "
        f"{len(others)} other columns ({', '.join(others) or 'none'})"
    )
    triples: list[Triple] = []
    cohort_name = context.option("cohort")
    cohort_node = cohort(context, cohort_name, triples) if cohort_name else None
    described: set[URIRef] = set()  # one description per feature node (the base of 14 image types too)
    feature_nodes = {h: any_feature_node(context, name, triples, h, described) for h, name in features.items()}
    marker_nodes: dict[str, URIRef] = {}
    resolver = _gene_resolver(context, report) if markers else None
    for header, symbol in markers.items():
        gene = None
        if resolver is not None and symbol:
            result = resolver.resolve(symbol)  # type: ignore[attr-defined]
            if result.ok:
                gene = result.gene
            else:
                report.unmapped_id("gene", symbol)
        marker_nodes[header] = marker(context, header, triples, gene=gene)
    yield from triples
    feature_matrix = open_buffer(
        context, path, "features", kind="radiomics", what="feature value",
        variables={features[h].full: str(node) for h, node in feature_nodes.items()}, fields=list(feature_nodes),
        with_roi=replicate_column is not None, key="replicate",
    )
    marker_matrix = open_buffer(
        context, path, "markers", kind="markers", what="marker value",
        variables={h: str(node) for h, node in marker_nodes.items()},
        convert=lambda text: marker_value(text) if text.strip() else None,
    )
    clinical_matrix = CategoryBuffer(context, "clinical", kind="clinical", variables={h: "" for h in others})
    feature_cells = _cells(list(feature_nodes))
    source_key = path.name
    missing = 0
    # Values only into the data plane: the table is parsed by Arrow (C++, vectorised), the
    # row loop sees the few other columns and each row's parsed feature values.
    fast = feature_matrix.active and not context.values_in_graph and replicate_column is None and _arrow_readable(path)
    if fast:
        rows.close()
        all_rows = _arrow_rows(path, context, headers, list(feature_nodes))
    else:
        all_rows = itertools.chain([first], rows)
    pairs = _replicate_rows(path, all_rows, id_column, replicate_column) if replicate_column else subject_rows(path, all_rows, id_column)
    seen_subjects: set[str] = set()
    replicate_codes = ReplicateCodes()
    for row, subject_id in pairs:
        triples = []
        report.records_read += 1
        replicate = row.cells[replicate_column].strip() if replicate_column else None
        node = subject(context, subject_id, triples, cohort_node=cohort_node)
        cells = row.values if fast else feature_cells(row.cells)  # type: ignore[attr-defined]
        feature_matrix.add(str(node), cells, row.line, roi=replicate_codes.code(replicate) if replicate is not None else None)  # type: ignore[arg-type]
        if subject_id not in seen_subjects:  # one row of markers and clinical values per subject
            marker_matrix.add(str(node), [row.cells[h] for h in marker_nodes], row.line)
            seen_subjects.add(subject_id)
        clinical_matrix.add(str(node), {h: row.cells[h] for h in others})
        for header, feature in (feature_nodes.items() if context.values_in_graph else ()):
            text = row.cells[header].strip()
            if text.lower() in _MISSING:
                missing += 1
                continue
            value = finite_number(text, path, line=row.line, field=header)
            if value is None:
                raise LoadError(
                    path, f"feature value {text!r} is not a number", line=row.line, field=header,
                    hint="feature cells hold numbers; leave a missing value empty",
                )
            if math.isnan(value):
                missing += 1
                continue
            measurement(
                context, triples, key=("table", source_key, subject_id, header, *((replicate,) if replicate_column else ())),
                feature=feature, subject_node=node, value=value,
            )
        for header, marker_node in marker_nodes.items():
            text = row.cells[header].strip()
            if not text:
                continue
            try:
                value = marker_value(text)
            except ValueError:
                raise LoadError(
                    path, f"marker value {text!r} is neither positive, negative nor unknown", line=row.line, field=header,
                    hint="use Mutant/Wildtype, 1/0 or Unknown",
                ) from None
            status = {1.0: "Mutant", 0.0: "Wildtype"}.get(value, text) if value is not None else text
            marker_status(
                context, triples, source_key=source_key, subject_node=node, subject_id=subject_id,
                marker_node=marker_node, status=status, value=value,
            )
        for header in others:
            text = row.cells[header].strip()
            if text.lower() in _MISSING:
                continue
            triples += _subject_fact(context, node, subject_id, source_key, header, text, (path, row.line))
        yield from triples
    feature_matrix.close()
    if replicate_column:
        report.note(f"replicates of {replicate_column!r} as numbers in the data plane: {replicate_codes.describe()}")
    marker_matrix.close()
    clinical_matrix.close(report)
    if missing:
        report.note(f"{missing} empty or NaN feature cells (missing values, no measurement)")


@dataclass(frozen=True)
class _ParsedRow(TableRow):
    """A row read by Arrow: the cells of the columns that are not features, the features' values."""

    values: np.ndarray


def _arrow_readable(path: Path) -> bool:
    """Whether Arrow's CSV reader takes this file as it is (a plain, uncompressed table with one
    separator character between cells: not blank-separated, where a run of blanks is one)."""
    return path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt") and delimiter_for(path) != " "


_ARROW_BLOCK = 1 << 26
"""Bytes of the file Arrow parses per batch (64 MiB: a few hundred rows of a wide table)."""


def _arrow_rows(path: Path, context: LoadContext, headers: list[str], features: list[str]) -> Iterator[_ParsedRow]:
    """The data rows of a wide table, parsed by Arrow: cells as text, features as float64.

    A batch whose feature cells are not all plain numbers (missing tokens, padding, text) is
    parsed cell by cell as the row-by-row reader does (``parse_block``: the same values, the
    same error naming line and column). A file Arrow cannot split into rows is read by the
    row-by-row reader, whose error names the line; line numbers assume one line per row.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    wanted = set(features)
    others = [h for h in headers if h not in wanted]
    reader_options = pacsv.ReadOptions(column_names=headers, skip_rows=1, block_size=_ARROW_BLOCK)
    parse_options = pacsv.ParseOptions(delimiter=delimiter_for(path), newlines_in_values=True)
    convert_options = pacsv.ConvertOptions(
        column_types={h: pa.string() for h in headers}, strings_can_be_null=False, quoted_strings_can_be_null=False,
    )
    line = 2
    try:
        reader = pacsv.open_csv(path, read_options=reader_options, parse_options=parse_options, convert_options=convert_options)
        batches = iter(reader)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            n = batch.num_rows
            lines = range(line, line + n)
            values = _arrow_values(batch, features, lines, path)
            columns = {h: batch.column(h).to_pylist() for h in others}
            for i in range(n):
                cells = {h: columns[h][i] for h in others}
                if not any(c.strip() for c in cells.values()) and np.isnan(values[i]).all():
                    continue  # an empty row (separators only), skipped as the row-by-row reader does
                yield _ParsedRow(lines[i], cells, values[i])
            line += n
    except pa.ArrowInvalid as exc:
        for _ in iter_table(path, context, delimiter=delimiter_for(path)):  # its error names the line
            pass
        raise LoadError(path, f"unreadable table ({exc})", line=line, hint="check the separator and quoting") from None


def _arrow_values(batch: Any, features: list[str], lines: Sequence[int], path: Path) -> np.ndarray:
    """The feature columns of an Arrow batch as float64 (missing -> NaN), checked as ``parse_block`` does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.empty((batch.num_rows, len(features)))
    try:
        for j, header in enumerate(features):
            values[:, j] = pc.cast(batch.column(header), pa.float64()).to_numpy(zero_copy_only=False)
        if (np.isfinite(values) | np.isnan(values)).all():  # "nan" cells are missing values, as in parse_block
            return values
    except (pa.ArrowInvalid, ValueError):
        pass
    cells = list(zip(*(batch.column(h).to_pylist() for h in features)))
    return parse_block(cells, list(lines), features, path, "feature value")


def _replicate_column(context: LoadContext, headers: list[str], path: Path) -> str | None:
    """The ``replicate_column`` option, checked against the header (``None`` when not given)."""
    name = context.option("replicate_column")
    if not name:
        return None
    if name not in headers:
        raise LoadError(path, f"no replicate column {name!r}; columns: {', '.join(headers[:12])} ...", line=1,
                        hint="give --replicate-column the header of the column naming the scan, delineation or reader")
    return str(name)


def _replicate_rows(path: Path, rows: Iterator[TableRow], id_column: str, replicate_column: str) -> Iterator[tuple[TableRow, str]]:
    """The rows of a table with several rows per subject, one per replicate (subject + replicate unique)."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        subject_id = row.cells[id_column].strip()
        replicate = row.cells[replicate_column].strip()
        if not subject_id:
            raise LoadError(path, "empty subject id", line=row.line, field=id_column, hint="every row names its subject")
        if not replicate:
            raise LoadError(path, "empty replicate", line=row.line, field=replicate_column, hint="every row names its replicate")
        if (subject_id, replicate) in seen:
            raise LoadError(path, f"subject {subject_id!r}, replicate {replicate!r} appears twice (first on line {seen[subject_id, replicate]})",
                            line=row.line, field=replicate_column, hint="one row per subject and replicate")
        seen[subject_id, replicate] = row.line
        yield row, subject_id


def _cells(headers: list[str]) -> Callable[[dict[str, str]], Sequence[str]]:
    """The cells of ``headers`` from a row, in that order (one C call per row: wide tables)."""
    if len(headers) == 1:
        return lambda cells: [cells[headers[0]]]
    return operator.itemgetter(*headers)  # type: ignore[return-value]


def _subject_fact(
    context: LoadContext, node: URIRef, subject_id: str, source_key: str, header: str, text: str, where: tuple[Path, int],
) -> list[Triple]:
    if _SEX.match(header):
        return [(node, IGKG.sex, Literal(_SEX_VALUES.get(text.lower(), text.lower())))]
    if _SMOKING.match(header):
        return [(node, IGKG.smokingStatus, Literal(text))]
    number = _number(text, where[0], where[1], header)
    if _AGE.match(header) and number is not None:
        return [(node, IGKG.ageAtDiagnosis, Literal(repr(number), datatype=XSD.double))]
    observation = context.mint("clinical-observation", source_key, subject_id, header)
    out: list[Triple] = [
        (observation, RDF.type, IGKG.ClinicalObservation),
        (observation, IGKG.subject, node),
        (observation, IGKG.attribute, Literal(header)),
    ]
    if number is not None:
        out.append((observation, IGKG.value, Literal(repr(number), datatype=XSD.double)))
    else:
        out.append((observation, IGKG.textValue, Literal(text)))
    return out


def _number(text: str, path: Path, line: int, header: str) -> float | None:
    value = finite_number(text, path, line=line, field=header)
    return None if value is None or math.isnan(value) else value


LOADER = Loader(
    kind="radiomics-csv",
    description="wide subject-by-feature table (pyradiomics feature columns; marker, sex, smoking ... columns kept)",
    parse=parse,
    patterns=("*radiomic*features*.csv", "*radiomic*features*.tsv"),
    version="2",
    options=("id_column", "cohort", "layout", "replicate_column"),
)
