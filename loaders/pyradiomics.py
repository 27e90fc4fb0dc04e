"""Kind ``pyradiomics``: extract radiomic features with pyradiomics from a manifest of cases.

The manifest is a CSV with a header, one case per row: ``subject,image,mask`` and the
optional ``label``, ``roi`` (RTSTRUCT ROI / SEG segment name), ``study``, ``modality`` and
``cohort`` columns; pyradiomics' own batch headers ``Image,Mask`` (with ``Label``, ``ID``
...) are accepted too. Paths are relative to the manifest's folder. Images are NRRD, NIfTI,
MHA ... or a DICOM series (folder); masks a label image, a DICOM RTSTRUCT or a DICOM SEG
(see ``loaders._dicom_masks``). The pyradiomics parameter file (YAML or JSON) comes from
``--params``; without one pyradiomics' defaults apply.

Cases run in worker processes (all cores unless ``--option workers=N``). A case that fails
(missing or unreadable file, image/mask geometry mismatch, empty label ...) is rejected with
its reason and nothing of it enters the graph; if every case fails the load fails.

Each load is one ``igkg:ExtractionRun`` (a ``prov:Activity``) with the software versions,
the full settings as canonical JSON and their SHA-256 (``igkg:settingsHash``), and
``prov:used`` links to every input file with its SHA-256. The settings hash is part of the
run, ROI-measurement and source-key IRIs, so two runs with other settings on the same
images coexist and are told apart.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kg.core.errors import LoadError
from kg.core.files import sha256, utc_now
from kg.core.namespaces import IGKG, PROV
from loaders._contract import LoadContext, Loader, LoadReport, Triple
from loaders._tables import iter_table
from loaders._ibsi import feature_node
from loaders._shapes import cohort as cohort_shape
from loaders._shapes import feature_name, measurement
from loaders._shapes import subject as subject_shape

__all__ = [
    "LOADER",
    "Case",
    "CaseResult",
    "Settings",
    "extract_case",
    "extract_cases",
    "file_node",
    "image_stem",
    "load_settings",
    "read_manifest",
    "run_triples",
    "software_versions",
]

logger = logging.getLogger(__name__)

_COLUMNS: dict[str, tuple[str, ...]] = {
    "subject": ("subject", "subject_id", "patient", "patientid", "patient_id", "id", "case", "case_id", "caseid"),
    "image": ("image",),
    "mask": ("mask",),
    "label": ("label",),
    "roi": ("roi", "roi_name", "segment"),
    "study": ("study", "study_id", "studyinstanceuid"),
    "modality": ("modality",),
    "cohort": ("cohort",),
}
"""Manifest field -> accepted header names (compared case-insensitively, spaces as ``_``)."""


# ---------------------------------------------------------------------- records
@dataclass(frozen=True)
class Case:
    """One manifest row: which image and mask to extract from, for which subject."""

    line: int
    subject: str
    image: Path
    mask: Path
    label: int | None = None
    roi: str | None = None
    study: str | None = None
    modality: str | None = None
    cohort: str | None = None


@dataclass
class CaseResult:
    """What extracting one case gave: features and diagnostics, or the error that stopped it."""

    case: Case
    features: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, str] = field(default_factory=dict)
    image_sha256: str = ""
    mask_sha256: str = ""
    image_voxel_hash: str = ""
    mask_voxel_hash: str = ""
    roi_name: str | None = None
    label: int = 1
    dicom: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the case gave features."""
        return self.error is None


@dataclass(frozen=True)
class Settings:
    """Validated pyradiomics parameters: the effective settings, image types and feature classes."""

    params: dict[str, Any]
    """``{"setting": ..., "imageType": ..., "featureClass": ...}`` with every default filled in."""
    source: Path | None = None

    @property
    def canonical(self) -> str:
        """Canonical JSON (sorted keys, no spaces): what ``igkg:parameters`` holds."""
        return json.dumps(self.params, sort_keys=True, separators=(",", ":"), default=str)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON: the ``igkg:settingsHash``."""
        return hashlib.sha256(self.canonical.encode()).hexdigest()


# ---------------------------------------------------------------------- settings
def _read_param_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise LoadError(path, "parameter file not found", hint="give a pyradiomics YAML or JSON file with --params")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (ValueError, ImportError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise LoadError(path, f"not valid YAML/JSON: {exc}".splitlines()[0], line=line + 1 if line is not None else None) from None
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and its subclasses
        mark = getattr(exc, "problem_mark", None)
        raise LoadError(
            path, f"not valid YAML: {getattr(exc, 'problem', exc)}", line=mark.line + 1 if mark is not None else None
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LoadError(path, "a pyradiomics parameter file is a mapping (setting, imageType, featureClass)")
    return data


def load_settings(path: Path | None = None, params: Mapping[str, Any] | None = None) -> Settings:
    """Validate pyradiomics parameters (a file, or a dict) with pyradiomics' own schema.

    >>> settings = load_settings(params={"setting": {"binWidth": 1}})
    >>> settings.params["setting"]["binWidth"], settings.params["imageType"]
    (1, {'Original': {}})
    >>> len(settings.sha256)
    64
    """
    from radiomics import featureextractor

    data = dict(params) if params is not None else (_read_param_file(path) if path is not None else {})
    _quiet_radiomics()
    try:
        extractor = featureextractor.RadiomicsFeatureExtractor(data)
    except Exception as exc:  # noqa: BLE001 - pykwalify raises SchemaError, ValueError, KeyError ...
        message = " ".join(str(getattr(exc, "msg", exc)).split())
        raise LoadError(path or "params", f"invalid pyradiomics parameters: {message}", hint="see pyradiomics' parameter file docs") from None
    effective = {
        "setting": dict(extractor.settings),
        "imageType": {k: dict(v or {}) for k, v in extractor.enabledImagetypes.items()},
        "featureClass": {k: (list(v) if v else []) for k, v in extractor.enabledFeatures.items()},
    }
    return Settings(json.loads(json.dumps(effective, default=str)), path)


def _quiet_radiomics() -> None:
    logging.getLogger("radiomics").setLevel(logging.ERROR)


# ---------------------------------------------------------------------- manifest
def _normalise(header: str) -> str:
    return header.strip().lower().replace(" ", "_").replace("-", "_")


def read_manifest(path: Path, context: LoadContext | None = None, report: LoadReport | None = None) -> list[Case]:
    """The cases of a manifest CSV; a bad row is a ``LoadError`` naming its line and column."""
    rows = list(iter_table(path, context, delimiter=","))
    if not rows:
        raise LoadError(path, "the manifest has no cases", line=2, hint="one row per image and mask")
    headers = list(rows[0].cells)
    found: dict[str, str] = {}
    for name, accepted in _COLUMNS.items():
        for header in headers:
            if _normalise(header) in accepted and name not in found:
                found[name] = header
    missing = [c for c in ("image", "mask") if c not in found]
    if missing:
        raise LoadError(
            path,
            f"missing column(s) {', '.join(missing)}; columns found: {', '.join(headers)}",
            line=1,
            hint="a manifest has subject,image,mask (or pyradiomics' Image,Mask) columns",
        )
    base = path.resolve().parent
    cases: list[Case] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for row in rows:
        def cell(name: str, row: Any = row) -> str | None:
            header = found.get(name)
            value = row.cells.get(header, "").strip() if header else ""
            return value or None

        image_text, mask_text = cell("image"), cell("mask")
        for what, text in (("image", image_text), ("mask", mask_text)):
            if not text:
                raise LoadError(path, f"empty {what} path", line=row.line, field=found[what])
        assert image_text and mask_text
        image = Path(image_text).expanduser()
        mask = Path(mask_text).expanduser()
        image = image if image.is_absolute() else base / image
        mask = mask if mask.is_absolute() else base / mask
        subject = cell("subject")
        if subject is None:
            subject = image_stem(image)
            if report is not None and "subject" not in found:
                report.note(f"no subject column: line {row.line} uses the image name {subject!r} as subject id")
        label_text = cell("label")
        label = None
        if label_text is not None:
            try:
                label = int(float(label_text))
            except ValueError:
                raise LoadError(path, f"label {label_text!r} is not an integer", line=row.line, field=found["label"]) from None
        key = (subject, str(image), str(mask), f"{label}/{cell('roi')}")
        if key in seen:
            raise LoadError(path, f"the same case is listed twice (first on line {seen[key]})", line=row.line)
        seen[key] = row.line
        cases.append(
            Case(
                line=row.line,
                subject=subject,
                image=image,
                mask=mask,
                label=label,
                roi=cell("roi"),
                study=cell("study"),
                modality=cell("modality"),
                cohort=cell("cohort"),
            )
        )
    return cases


def image_stem(path: Path) -> str:
    """An image file name without its image suffix (``case1.nii.gz`` -> ``case1``): the default subject id."""
    name = path.name
    for suffix in (".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


# ---------------------------------------------------------------------- one case
_EXTRACTORS: dict[str, Any] = {}


def _extractor(params: Mapping[str, Any]) -> Any:
    from radiomics import featureextractor

    key = json.dumps(params, sort_keys=True, default=str)
    if key not in _EXTRACTORS:
        _quiet_radiomics()
        _EXTRACTORS[key] = featureextractor.RadiomicsFeatureExtractor(dict(params))
    return _EXTRACTORS[key]


def _dicom_info(path: Path) -> dict[str, str]:
    from loaders._dicom_masks import is_dicom

    if not is_dicom(path):
        return {}
    import pydicom

    first = path if path.is_file() else next(p for p in sorted(path.iterdir()) if p.is_file() and is_dicom(p))
    header = pydicom.dcmread(str(first), stop_before_pixels=True)
    return {
        k: str(header.get(k))
        for k in ("StudyInstanceUID", "SeriesInstanceUID", "Modality", "PatientID")
        if header.get(k) is not None
    }


def extract_case(case: Case, params: Mapping[str, Any]) -> CaseResult:
    """Extract the features of one case (runs in a worker process; never raises).

    Every failure becomes ``CaseResult.error`` with a one-line reason, so one bad case
    cannot stop the others.
    """
    import SimpleITK as sitk

    from loaders._dicom_masks import MaskError, read_image, read_mask

    started = time.perf_counter()
    result = CaseResult(case=case)
    try:
        for what, path in (("image", case.image), ("mask", case.mask)):
            if not path.exists():
                raise MaskError(f"{what} file {path} not found")
        result.image_sha256 = sha256(case.image)
        result.mask_sha256 = sha256(case.mask)
        image = read_image(case.image)
        mask = read_mask(case.mask, image, label=case.label, roi=case.roi)
        result.dicom = _dicom_info(case.image)
        result.roi_name = mask.name
        result.label = mask.label
        result.notes += mask.notes
        if image.GetSize() != mask.mask.GetSize() and not params.get("setting", {}).get("correctMask"):
            raise MaskError(
                f"image/mask geometry mismatch: image size {image.GetSize()}, mask size {mask.mask.GetSize()} "
                "(set correctMask to resample the mask onto the image grid)"
            )
        result.image_voxel_hash = sitk.Hash(image)
        result.mask_voxel_hash = sitk.Hash(mask.mask)
        output = _extractor(params).execute(image, mask.mask, label=mask.label)
        for key, value in output.items():
            if key.startswith("diagnostics_"):
                result.diagnostics[key] = str(value)
            else:
                result.features[key] = float(value)
        if not result.features:
            raise MaskError("pyradiomics computed no features (check the enabled feature classes)")
    except Exception as exc:  # noqa: BLE001 - any failure of one case is reported, the others go on
        result.error = _reason(exc)
        result.features = {}
    result.seconds = time.perf_counter() - started
    return result


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "geometry mismatch" in text.lower():
        return "image/mask geometry mismatch: " + text
    if "not present in mask" in text or "No labels found" in text:
        return "empty label: " + text
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def extract_cases(
    cases: Sequence[Case],
    settings: Settings,
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[CaseResult]:
    """Extract every case, in ``workers`` processes (default: all cores); results in manifest order.

    ``progress(done, total)`` is called after each case.
    """
    workers = max(1, workers or os.cpu_count() or 1)
    total = len(cases)
    results: list[CaseResult] = []
    if workers == 1 or total <= 1:
        for case in cases:
            results.append(extract_case(case, settings.params))
            if progress is not None:
                progress(len(results), total)
        return results
    remaining = list(cases)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=_mp_context()) as pool:
            futures: dict[Future[CaseResult], Case] = {pool.submit(extract_case, c, settings.params): c for c in cases}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    results.append(result)
                    remaining.remove(futures[future])
                    if progress is not None:
                        progress(len(results), total)
    except BrokenProcessPool:
        # A worker died (e.g. a crash inside ITK on a corrupt file): isolate the cases left,
        # one process each, so only the culprit fails.
        for case in remaining:
            results.append(_isolated(case, settings))
            if progress is not None:
                progress(len(results), total)
    return sorted(results, key=lambda r: r.case.line)


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers at once and does not re-import the caller's __main__ (spawn would,
    # breaking scripts without a main guard); workers only read files and never touch a store.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and platform.system() == "Linux" else "spawn")


def _isolated(case: Case, settings: Settings) -> CaseResult:
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=_mp_context()) as pool:
            return pool.submit(extract_case, case, settings.params).result()
    except BrokenProcessPool:
        return CaseResult(case=case, error="the extraction process crashed on this case (corrupt or unsupported file?)")


# ---------------------------------------------------------------------- triples
def software_versions() -> dict[str, str]:
    """The versions of the software an extraction uses (name -> version)."""
    import numpy
    import pydicom
    import pywt
    import radiomics
    import SimpleITK as sitk

    from kg.core.version import __version__

    return {
        "igkg": __version__,
        "pyradiomics": str(radiomics.__version__).lstrip("v"),
        "SimpleITK": sitk.Version.VersionString(),
        "numpy": numpy.__version__,
        "PyWavelets": pywt.__version__,
        "pydicom": pydicom.__version__,
        "Python": platform.python_version(),
    }


def _now() -> Literal:
    return Literal(utc_now(), datatype=XSD.dateTime)


def file_node(context: LoadContext, path: Path, sha: str, triples: list[Triple]) -> URIRef:
    """The ``prov:Entity`` node of an input file, minted from its SHA-256 (with its name and location)."""
    node = context.mint("file", sha)
    triples += [
        (node, RDF.type, PROV.Entity),
        (node, IGKG.sha256, Literal(sha)),
        (node, RDFS.label, Literal(path.name)),
        (node, DCTERMS.source, URIRef(path.resolve().as_uri())),
    ]
    return node


def run_triples(
    context: LoadContext,
    results: Iterable[CaseResult],
    settings: Settings,
    *,
    run_key: str,
    label: str,
    used: Sequence[tuple[Path, str]] = (),
    started: Literal | None = None,
    report: LoadReport | None = None,
) -> Iterator[Triple]:
    """The triples of one extraction run: the run, subjects, studies, images, ROIs and measurements.

    Only successful results make triples. ``run_key`` identifies the run's inputs (e.g. the
    manifest checksum); the run IRI is minted from the settings hash and it.
    """
    triples: list[Triple] = []
    settings_hash = settings.sha256
    run = context.mint("extraction-run", settings_hash[:16], run_key)
    triples += [
        (run, RDF.type, IGKG.ExtractionRun),
        (run, RDF.type, PROV.Activity),
        (run, RDFS.label, Literal(label)),
        (run, IGKG.parameters, Literal(settings.canonical)),
        (run, IGKG.settingsHash, Literal(settings_hash)),
        (run, PROV.startedAtTime, started or _now()),
        (run, PROV.endedAtTime, _now()),
    ]
    for name, version in software_versions().items():
        triples.append((run, IGKG.softwareVersion, Literal(f"{name} {version}")))
    for path, sha in used:
        triples.append((run, PROV.used, file_node(context, path, sha, triples)))
    yield from triples
    option_cohort = context.option("cohort")
    skipped_nan = 0
    feature_nodes: dict[str, URIRef] = {}
    matrix: list[dict[str, object]] = []
    for result in results:
        if not result.ok:
            continue
        triples = []
        case = result.case
        cohort_name = case.cohort or option_cohort
        cohort_node = cohort_shape(context, cohort_name, triples) if cohort_name else None
        subject_node = subject_shape(context, case.subject, triples, cohort_node=cohort_node)
        image = context.mint("image", result.image_sha256[:32])
        triples += [
            (image, RDF.type, IGKG.Image),
            (image, RDF.type, PROV.Entity),
            (image, RDFS.label, Literal(case.image.name)),
            (image, IGKG.subject, subject_node),
            (image, IGKG.sha256, Literal(result.image_sha256)),
            (image, IGKG.voxelHash, Literal(result.image_voxel_hash)),
            (image, DCTERMS.source, URIRef(case.image.resolve().as_uri())),
            (run, PROV.used, image),
        ]
        modality = case.modality or result.dicom.get("Modality")
        if modality:
            triples.append((image, IGKG.modality, Literal(modality)))
        if "SeriesInstanceUID" in result.dicom:
            triples.append((image, IGKG.identifier, Literal(result.dicom["SeriesInstanceUID"])))
        study_id = case.study or result.dicom.get("StudyInstanceUID")
        if study_id:
            study = context.mint("study", case.subject, study_id)
            triples += [
                (study, RDF.type, IGKG.ImagingStudy),
                (study, IGKG.identifier, Literal(study_id)),
                (study, RDFS.label, Literal(f"{case.subject} {study_id}")),
                (study, IGKG.subject, subject_node),
                (image, IGKG.study, study),
            ]
        mask_file = file_node(context, case.mask, result.mask_sha256, triples)
        triples += [(mask_file, IGKG.voxelHash, Literal(result.mask_voxel_hash)), (run, PROV.used, mask_file)]
        roi_part = f"{result.image_sha256[:12]}-{result.mask_sha256[:12]}-{result.roi_name or result.label}"
        roi = context.mint("roi", case.subject, roi_part)
        triples += [
            (roi, RDF.type, IGKG.Segmentation),
            (roi, RDFS.label, Literal(result.roi_name or f"{case.mask.name} label {result.label}")),
            (roi, IGKG.image, image),
            (roi, IGKG.subject, subject_node),
            (roi, IGKG.label, Literal(result.label, datatype=XSD.integer)),
            (roi, PROV.wasDerivedFrom, mask_file),
        ]
        row: dict[str, object] = {"subject": str(subject_node), "roi": str(roi)}
        if context.columnar:
            matrix.append(row)
        for column, value in result.features.items():
            name = feature_name(column)
            if name is None:
                continue
            if not math.isfinite(value):
                skipped_nan += 1
                continue
            if name.full not in feature_nodes:  # describe each feature once per run, not once per case
                feature_nodes[name.full] = feature_node(context, name, triples)
            feature = feature_nodes[name.full]
            row[name.full] = float(value)
            if not context.values_in_graph:
                continue
            measurement(
                context,
                triples,
                key=(settings_hash[:16], run_key, case.subject, roi_part, name.full),
                feature=feature,
                subject_node=subject_node,
                value=value,
                roi=roi,
                run=run,
            )
        yield from triples
    if skipped_nan and report is not None:
        report.note(f"{skipped_nan} feature values were NaN or infinite and are not in the graph")
    if matrix and feature_nodes:
        sink = context.matrix("features", kind="radiomics", variables={n: str(node) for n, node in feature_nodes.items()})
        sink.write(pd.DataFrame(matrix).reindex(columns=["subject", "roi", *feature_nodes]))


# ---------------------------------------------------------------------- the loader
def _settings_for(options: Mapping[str, Any]) -> Settings:
    params = options.get("params")
    return load_settings(Path(str(params)) if params else None)


def _variant(source: Path, options: Mapping[str, Any]) -> str:
    return _settings_for(options).sha256[:12]


def _inputs_digest(source: Path, options: Mapping[str, Any]) -> str:
    """SHA-256 over the contents of the images and masks the manifest lists, each named relative to
    the manifest's folder: the same data gives the same graph version on any machine or clone."""
    digest = hashlib.sha256()
    try:
        cases = read_manifest(source)
    except LoadError:
        return ""
    folder = source.resolve().parent
    for case in cases:
        for path in (case.image, case.mask):
            resolved = path.resolve()
            name = str(resolved.relative_to(folder)) if resolved.is_relative_to(folder) else resolved.name
            content = sha256(resolved) if resolved.exists() else "missing"
            digest.update(f"{name}|{content}\n".encode())
    return digest.hexdigest()


def parse(path: Path, context: LoadContext, report: LoadReport) -> Iterator[Triple]:
    """Extract every case of the manifest and yield the run's triples (see the module docstring)."""
    started = _now()
    params_option = context.option("params")
    settings = load_settings(Path(str(params_option)) if params_option else None)
    if not params_option:
        report.note("no --params given: pyradiomics' default settings were used")
    cases = read_manifest(path, context, report)
    report.records_read = len(cases)
    workers = int(context.option("workers", 0) or 0) or None
    size = path.stat().st_size
    sent = 0

    def progress(done: int, total: int) -> None:
        nonlocal sent
        if context.progress is not None:
            target = size * done // total
            context.progress(target - sent)
            sent = target

    results = extract_cases(cases, settings, workers=workers, progress=progress)
    failed = [r for r in results if not r.ok]
    for result in failed:
        report.reject(result.error or "failed", line=result.case.line, record=result.case.subject)
    if failed and len(failed) == len(results):
        first = failed[0]
        raise LoadError(
            path,
            f"every case failed ({len(failed)}); first: {first.error}",
            line=first.case.line,
            record=first.case.subject,
            hint="check the image and mask paths and the label",
        )
    for result in results:
        for note in result.notes:
            report.note(f"line {result.case.line} ({result.case.subject}): {note}")
    used = [(path, sha256(path))]
    if settings.source is not None:
        used.append((settings.source, sha256(settings.source)))
    yield from run_triples(
        context,
        results,
        settings,
        run_key=used[0][1][:16],
        label=f"pyradiomics extraction of {path.name} (settings {settings.sha256[:12]})",
        used=used,
        started=started,
        report=report,
    )


LOADER = Loader(
    kind="pyradiomics",
    description="extract features with pyradiomics from a manifest CSV (subject,image,mask[,label,roi,study,modality,cohort]) and --params",
    parse=parse,
    patterns=(),
    version="1",
    options=("params", "cohort", "workers"),
    variant=_variant,
    inputs_digest=_inputs_digest,
)
