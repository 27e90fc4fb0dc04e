"""Kind ``pyradiomics-csv``: the CSV that pyradiomics' batch mode writes (``pyradiomics batch.csv -f csv``).

Layout, as ``radiomics/scripts/__init__.py`` (``_processOutput``) and ``segment.py`` of
pyradiomics 3.0.1 write it: one row per case; first the columns of the input batch file
(``Image`` and ``Mask`` required, ``Label``, ``Label_channel`` and any others such as ``ID``
optional), then the ``diagnostics_*`` columns (when ``additionalInfo`` is on, the default),
then the ``<imageType>_<class>_<feature>`` feature columns. Settings and enabled image types
are written as Python ``dict`` text (``str(dict)``), read here with ``ast.literal_eval``. A
case whose extraction failed is written with its input cells only: it is rejected (with its
line), and the others load.

Each row becomes the case's ``igkg:Subject`` (from ``--id-column`` or a column with a common id
name, ``ID``, ``Subject``, ``Patient`` ...; else from the image file name, and a note says so),
its ``igkg:Image`` (the ``Image`` path, with pyradiomics' voxel hash
``diagnostics_Image-original_Hash`` as ``igkg:voxelHash``), its ``igkg:Segmentation`` (mask and
label, the mask's voxel hash on the mask entity), and one ``igkg:FeatureMeasurement`` per
feature (``loaders._shapes.measurement``, feature nodes from ``loaders._ibsi.feature_node``).
Cases extracted with the same settings share one ``igkg:ExtractionRun`` whose provenance comes
from the diagnostics: the ``diagnostics_Versions_*`` columns as ``igkg:softwareVersion``
(named as the ``pyradiomics`` loader names them), and ``igkg:parameters`` / ``igkg:settingsHash``
from ``diagnostics_Configuration_Settings`` and ``_EnabledImageTypes`` through
``loaders.pyradiomics.Settings``, so the same settings give the same hash whichever
loader made the run. The batch output does not record the enabled feature classes; they are
read off the feature columns (a class with all its non-deprecated features present counts
as "all", ``[]``, as pyradiomics' parameter files write it; else the sorted feature names).
When a row has its own ``Label``, pyradiomics writes it into the row's settings; it is an
input of the case (kept on the ROI), so the run's settings carry pyradiomics' default label
``1`` instead and cases with different labels stay one run.

A non-numeric feature value, the same case (image, mask, label) twice, or a file without
``Image``/``Mask`` columns is a ``LoadError`` naming line and column; nothing is loaded.
``nan`` / empty feature cells (pyradiomics' NaN, or ``--skip-nans``) are missing values.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.files import sha256
from kg.core.namespaces import IGKG, PROV
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import TableRow, find_subject_column, finite_number, iter_table
from loaders._ibsi import feature_node
from loaders._shapes import FeatureName, cohort, feature_name, measurement, subject
from loaders.pyradiomics import Settings, file_node, image_stem

__all__ = ["LOADER", "VERSION_COLUMNS", "BatchCase", "parse", "run_settings"]

logger = logging.getLogger(__name__)

VERSION_COLUMNS: dict[str, str] = {
    "diagnostics_Versions_PyRadiomics": "pyradiomics",
    "diagnostics_Versions_Numpy": "numpy",
    "diagnostics_Versions_SimpleITK": "SimpleITK",
    "diagnostics_Versions_PyWavelet": "PyWavelets",
    "diagnostics_Versions_Python": "Python",
}
"""pyradiomics' version diagnostics -> the software name the ``pyradiomics`` loader uses."""

SETTINGS_COLUMN = "diagnostics_Configuration_Settings"
IMAGE_TYPES_COLUMN = "diagnostics_Configuration_EnabledImageTypes"
IMAGE_HASH_COLUMN = "diagnostics_Image-original_Hash"
MASK_HASH_COLUMN = "diagnostics_Mask-original_Hash"

_MISSING = {"", "nan", "-nan"}
_INPUT_COLUMNS = {"image", "mask", "label", "label_channel"}
_EXTRA = {"cohort": "cohort", "modality": "modality"}


@dataclass
class BatchCase:
    """One row of the batch output: the case's inputs, diagnostics and feature values."""

    line: int
    subject: str
    image: str
    mask: str
    label: int | None
    label_channel: int | None
    diagnostics: dict[str, str]
    features: dict[FeatureName, float] = field(default_factory=dict)
    missing: int = 0
    extras: dict[str, str] = field(default_factory=dict)


def _python_literal(path: Path, row: TableRow, column: str) -> Any:
    text = row.cells.get(column, "").strip()
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise LoadError(
            path, f"cannot read {text[:60]!r} as the Python dict text pyradiomics writes", line=row.line, field=column,
            hint="the file must be pyradiomics' own batch output, unchanged",
        ) from None


def _integer(path: Path, row: TableRow, column: str | None) -> int | None:
    if column is None:
        return None
    text = row.cells.get(column, "").strip()
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        raise LoadError(path, f"{text!r} is not an integer label", line=row.line, field=column, hint="label columns hold integers") from None


def _complete_classes() -> dict[str, set[str]]:
    """pyradiomics' feature class -> its non-deprecated feature names (what ``[]`` enables)."""
    from radiomics import getFeatureClasses

    return {
        cls: {name for name, deprecated in klass.getFeatureNames().items() if not deprecated}
        for cls, klass in getFeatureClasses().items()
    }


def run_settings(settings: Mapping[str, Any], image_types: Mapping[str, Any], features: set[FeatureName]) -> Settings:
    """The run's ``Settings`` from a row's diagnostics and the features it has.

    The result hashes like ``loaders.pyradiomics.load_settings`` for the same
    pyradiomics parameters (``{"setting", "imageType", "featureClass"}``).
    """
    complete = _complete_classes()
    present: dict[str, set[str]] = {}
    for name in features:
        present.setdefault(name.feature_class, set()).add(name.feature)
    feature_class = {
        cls: ([] if names == complete.get(cls) else sorted(names)) for cls, names in sorted(present.items())
    }
    params = {
        "setting": dict(settings),
        "imageType": {str(k): dict(v or {}) for k, v in dict(image_types).items()},
        "featureClass": feature_class,
    }
    return Settings(json.loads(json.dumps(params, default=str)))


def _find(headers: list[str], name: str) -> str | None:
    for header in headers:
        if header.strip().lower() == name:
            return header
    return None


def _subject_column(headers: list[str], wanted: str | None, path: Path) -> str | None:
    candidates = [h for h in headers if not h.startswith("diagnostics_") and feature_name(h) is None]
    return find_subject_column(headers, wanted, path, candidates=candidates, exclude=_INPUT_COLUMNS, hint="")


def _read_cases(path: Path, context: LoadContext, report: LoadReport) -> list[BatchCase]:
    rows = iter_table(path, context, delimiter=",", required=("Image", "Mask"), ragged=False)
    cases: list[BatchCase] = []
    headers: list[str] = []
    id_column: str | None = None
    label_column = label_channel_column = None
    features: dict[str, FeatureName] = {}
    extras: dict[str, str] = {}
    seen: dict[tuple[str, str, int | None, int | None], int] = {}
    for row in rows:
        if not headers:
            headers = list(row.cells)
            id_column = _subject_column(headers, context.option("id_column"), path)
            label_column, label_channel_column = _find(headers, "label"), _find(headers, "label_channel")
            features = {h: n for h in headers if (n := feature_name(h)) is not None}
            extras = {h: _EXTRA[h.strip().lower()] for h in headers if h.strip().lower() in _EXTRA}
            used = {"Image", "Mask", id_column, label_column, label_channel_column, *features, *extras}
            ignored = [h for h in headers if h not in used and not h.startswith("diagnostics_")]
            if ignored:
                report.note(f"input columns not loaded: {', '.join(ignored)}")
            if id_column is None:
                report.note("no subject id column: each case's subject id is its image file name without extension")
        report.records_read += 1
        image, mask = row.cells["Image"].strip(), row.cells["Mask"].strip()
        for column, text in (("Image", image), ("Mask", mask)):
            if not text:
                raise LoadError(path, f"empty {column} path", line=row.line, field=column, hint="every case names its image and mask")
        label = _integer(path, row, label_column)
        label_channel = _integer(path, row, label_channel_column)
        key = (image, mask, label, label_channel)
        if key in seen:
            raise LoadError(
                path, f"the same case (image, mask, label) appears twice (first on line {seen[key]})", line=row.line,
                field="Image", hint="one row per image, mask and label",
            )
        seen[key] = row.line
        subject_id = row.cells[id_column].strip() if id_column else ""
        if id_column and not subject_id:
            raise LoadError(path, "empty subject id", line=row.line, field=id_column, hint="every row names its subject")
        case = BatchCase(
            line=row.line,
            subject=subject_id or image_stem(Path(image.replace("\\", "/"))),
            image=image,
            mask=mask,
            label=label,
            label_channel=label_channel,
            diagnostics={h: v.strip() for h, v in row.cells.items() if h.startswith("diagnostics_") and v.strip()},
            extras={what: row.cells[h].strip() for h, what in extras.items() if row.cells[h].strip()},
        )
        for column, name in features.items():
            text = row.cells[column].strip()
            if text.lower() in _MISSING:
                case.missing += 1
                continue
            value = finite_number(text, path, line=row.line, field=column)
            if value is None:
                raise LoadError(
                    path, f"feature value {text!r} is not a number", line=row.line, field=column,
                    hint="feature cells hold numbers; pyradiomics writes a missing value as nan or an empty cell",
                )
            if math.isnan(value):
                case.missing += 1
                continue
            case.features[name] = value
        cases.append(case)
    if not cases:
        raise LoadError(path, "the batch output has a header but no cases", line=2, hint="a cut file? run the extraction again")
    return cases


def _versions(case: BatchCase) -> tuple[tuple[str, str], ...]:
    found = []
    for column, name in VERSION_COLUMNS.items():
        version = case.diagnostics.get(column)
        if version:
            found.append((name, version.lstrip("v") if name == "pyradiomics" else version))
    return tuple(found)


def _case_settings(path: Path, case: BatchCase) -> Settings | None:
    if SETTINGS_COLUMN not in case.diagnostics:
        return None
    row = TableRow(case.line, case.diagnostics)
    settings = _python_literal(path, row, SETTINGS_COLUMN)
    types = _python_literal(path, row, IMAGE_TYPES_COLUMN) if IMAGE_TYPES_COLUMN in case.diagnostics else {}
    for column, value in ((SETTINGS_COLUMN, settings), (IMAGE_TYPES_COLUMN, types)):
        if not isinstance(value, dict):
            raise LoadError(path, "expected a Python dict", line=case.line, field=column)
    if case.label is not None:
        settings["label"] = 1
    if case.label_channel is not None:
        settings.pop("label_channel", None)
    return run_settings(settings, types, set(case.features))


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Read pyradiomics' batch output and yield its triples (see the module docstring); atomic on error."""
    cases = _read_cases(path, context, report)
    file_sha = sha256(path)
    run_key = file_sha[:16]
    base = path.resolve().parent
    triples: list[Triple] = []
    csv_node = file_node(context, path, file_sha, triples)
    option_cohort = context.option("cohort")
    runs: dict[tuple[str, tuple[tuple[str, str], ...]], URIRef] = {}
    feature_nodes: dict[FeatureName, URIRef] = {}
    matrix: list[dict[str, object]] = []
    failed = 0
    missing = 0
    for case in cases:
        if not case.features:
            failed += 1
            report.reject(
                "no feature values: pyradiomics' extraction failed for this case (see pyradiomics' log)",
                line=case.line, record=case.subject,
            )
            continue
        missing += case.missing
        settings = _case_settings(path, case)
        versions = _versions(case)
        settings_hash = settings.sha256 if settings is not None else "unknown-settings"
        run_id = (settings_hash, versions)
        if run_id not in runs:
            parts = [settings_hash[:16], run_key]
            if len({v for s, v in runs if s == settings_hash} | {versions}) > 1:
                parts.append(hashlib.sha256(repr(versions).encode()).hexdigest()[:8])
            run = context.mint("extraction-run", *parts)
            runs[run_id] = run
            triples += [
                (run, RDF.type, IGKG.ExtractionRun),
                (run, RDF.type, PROV.Activity),
                (run, RDFS.label, Literal(f"pyradiomics batch extraction recorded in {path.name} (settings {settings_hash[:12]})")),
                (run, PROV.used, csv_node),
            ]
            if settings is not None:
                triples += [
                    (run, IGKG.parameters, Literal(settings.canonical)),
                    (run, IGKG.settingsHash, Literal(settings_hash)),
                ]
            else:
                report.note(f"line {case.line}: no {SETTINGS_COLUMN} column (additionalInfo off): the run's settings are unknown")
            triples += [(run, IGKG.softwareVersion, Literal(f"{name} {version}")) for name, version in versions]
        run = runs[run_id]
        cohort_name = case.extras.get("cohort") or option_cohort
        cohort_node = cohort(context, cohort_name, triples) if cohort_name else None
        subject_node = subject(context, case.subject, triples, cohort_node=cohort_node)
        image_hash = case.diagnostics.get(IMAGE_HASH_COLUMN)
        mask_hash = case.diagnostics.get(MASK_HASH_COLUMN)
        image_path, mask_path = Path(case.image).expanduser(), Path(case.mask).expanduser()
        image_path = image_path if image_path.is_absolute() else base / image_path
        mask_path = mask_path if mask_path.is_absolute() else base / mask_path
        image = context.mint("image", "voxel-hash", image_hash) if image_hash else context.mint("image", "path", str(image_path))
        triples += [
            (image, RDF.type, IGKG.Image),
            (image, RDF.type, PROV.Entity),
            (image, RDFS.label, Literal(image_path.name)),
            (image, IGKG.subject, subject_node),
            (image, DCTERMS.source, URIRef(image_path.as_uri())),
            (run, PROV.used, image),
        ]
        if image_hash:
            triples.append((image, IGKG.voxelHash, Literal(image_hash)))
        if "modality" in case.extras:
            triples.append((image, IGKG.modality, Literal(case.extras["modality"])))
        mask = context.mint("mask", "voxel-hash", mask_hash) if mask_hash else context.mint("mask", "path", str(mask_path))
        triples += [
            (mask, RDF.type, PROV.Entity),
            (mask, RDFS.label, Literal(mask_path.name)),
            (mask, DCTERMS.source, URIRef(mask_path.as_uri())),
            (run, PROV.used, mask),
        ]
        if mask_hash:
            triples.append((mask, IGKG.voxelHash, Literal(mask_hash)))
        label = case.label if case.label is not None else int((settings.params["setting"].get("label") if settings else None) or 1)
        roi_part = f"{(image_hash or str(image_path))[:12]}-{(mask_hash or str(mask_path))[:12]}-{label}"
        if case.label_channel is not None:
            roi_part += f"-channel{case.label_channel}"
        roi = context.mint("roi", case.subject, roi_part)
        triples += [
            (roi, RDF.type, IGKG.Segmentation),
            (roi, RDFS.label, Literal(f"{mask_path.name} label {label}")),
            (roi, IGKG.image, image),
            (roi, IGKG.subject, subject_node),
            (roi, IGKG.label, Literal(label, datatype=XSD.integer)),
            (roi, PROV.wasDerivedFrom, mask),
        ]
        if context.columnar:
            matrix.append({"subject": str(subject_node), "roi": str(roi), **{n.full: v for n, v in case.features.items()}})
        for name, value in case.features.items():
            if name not in feature_nodes:  # describe each feature once, not once per case
                feature_nodes[name] = feature_node(context, name, triples)
            if not context.values_in_graph:
                continue
            measurement(
                context, triples, key=(settings_hash[:16], run_key, case.subject, roi_part, name.full),
                feature=feature_nodes[name], subject_node=subject_node, value=value, roi=roi, run=run,
            )
        yield from triples
        triples = []
    yield from triples
    if failed == len(cases):
        first = cases[0]
        raise LoadError(
            path, f"no case has feature values ({failed} cases): pyradiomics' extraction failed for all",
            line=first.line, record=first.subject, hint="check pyradiomics' log of the batch run",
        )
    if missing:
        report.note(f"{missing} feature cells were nan, infinite or empty (missing values, no measurement)")
    report.note(f"{len(runs)} extraction run(s) by distinct settings; {len(feature_nodes)} features")
    if matrix:
        variables = {name.full: str(node) for name, node in feature_nodes.items()}
        sink = context.matrix("features", kind="radiomics", variables=variables, first_line=2)
        sink.write(pd.DataFrame(matrix).reindex(columns=["subject", "roi", *variables]))


LOADER = Loader(
    kind="pyradiomics-csv",
    description="pyradiomics batch-mode output CSV (Image, Mask, diagnostics_*, <imageType>_<class>_<feature>; provenance from the diagnostics)",
    parse=parse,
    patterns=(),
    version="1",
    options=("id_column", "cohort"),
)
