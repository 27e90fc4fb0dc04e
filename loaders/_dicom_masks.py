"""Images and masks from files: NRRD / NIfTI / MHA, DICOM series, DICOM RTSTRUCT and DICOM SEG.

``read_image`` reads an image file or a DICOM series (a folder, or one file of the series).
``read_mask`` reads a label image, or turns a DICOM RTSTRUCT ROI or a DICOM SEG segment into
a label mask on the image's voxel grid:

- RTSTRUCT contours are rasterised from their patient-space coordinates (DICOM PS3.3
  C.8.8.6: ``ContourData`` is x/y/z in mm, ``CLOSED_PLANAR`` polygons). Every point is mapped
  to a continuous voxel index of the image, so contour-to-image references
  (``ContourImageSequence``) are not needed; a voxel is inside when its centre is inside the
  polygon (even-odd rule, so a second contour on the same slice cuts a hole). Contours on
  planes the image does not have (a cropped series) are skipped and counted.
- SEG segments (PS3.3 C.8.20) are placed frame by frame: every set pixel's centre is mapped
  from the frame's plane position and orientation to the nearest image voxel, so a SEG on the
  same grid maps one-to-one and a SEG on another grid is resampled by nearest neighbour.

Errors are ``MaskError`` (a ``ValueError``) with a message the extraction report shows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

__all__ = [
    "MaskError",
    "MaskResult",
    "is_dicom",
    "rasterise_polygon",
    "read_image",
    "read_mask",
    "rtstruct_roi_names",
]

logger = logging.getLogger(__name__)

_PLANE_TOLERANCE = 0.25
"""How far (in slices) a contour may lie from an image plane and still belong to it."""


class MaskError(ValueError):
    """An image or mask cannot be read or converted; the message says why."""


@dataclass
class MaskResult:
    """A label mask on the image grid, the label of the ROI in it, and what happened."""

    mask: sitk.Image
    label: int
    name: str | None = None
    notes: list[str] = field(default_factory=list)


def is_dicom(path: Path) -> bool:
    """True for a file that starts with the DICOM preamble (``DICM`` at byte 128), or a folder of them."""
    if path.is_dir():
        return any(is_dicom(p) for p in sorted(path.iterdir())[:5] if p.is_file())
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def read_image(path: Path) -> sitk.Image:
    """Read an image file or a DICOM series (a folder, or any file of the series).

    A folder holding several series is refused (name the series' own folder).
    """
    if not path.exists():
        raise MaskError(f"image {path} not found")
    if path.is_dir() or is_dicom(path):
        folder = path if path.is_dir() else path.parent
        series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(folder))
        if not series:
            raise MaskError(f"no DICOM image series in {folder}")
        if path.is_file():
            import pydicom

            uid = str(pydicom.dcmread(str(path), stop_before_pixels=True).get("SeriesInstanceUID", ""))
            series = [s for s in series if s == uid] or series
        if len(series) > 1:
            raise MaskError(f"{folder} holds {len(series)} DICOM series; give the folder or a file of one series")
        files = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder), series[0])
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(files)
        try:
            return reader.Execute()
        except RuntimeError as exc:
            raise MaskError(f"cannot read the DICOM series in {folder}: {_first_line(exc)}") from None
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise MaskError(f"cannot read image {path}: {_first_line(exc)}") from None


def read_mask(path: Path, image: sitk.Image, *, label: int | None = None, roi: str | None = None) -> MaskResult:
    """The mask for ``image``: a label image file, or an RTSTRUCT ROI / SEG segment rasterised onto it.

    ``roi`` names the RTSTRUCT ROI or SEG segment (by label or number); without it a file
    with exactly one ROI/segment is taken, and several are an error listing their names.
    """
    if not path.exists():
        raise MaskError(f"mask {path} not found")
    if path.is_file() and is_dicom(path):
        import pydicom

        try:
            dataset = pydicom.dcmread(str(path))
        except Exception as exc:  # noqa: BLE001 - pydicom raises many types for broken files
            raise MaskError(f"cannot read DICOM mask {path}: {exc}") from None
        modality = str(dataset.get("Modality", ""))
        if modality == "RTSTRUCT":
            return _rtstruct_mask(dataset, image, roi, path)
        if modality == "SEG":
            return _seg_mask(dataset, image, roi, path)
        raise MaskError(f"{path} is a DICOM {modality or 'file'}, not an RTSTRUCT or SEG mask")
    try:
        mask = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise MaskError(f"cannot read mask {path}: {_first_line(exc)}") from None
    return MaskResult(mask=mask, label=label if label is not None else 1, name=roi)


# ---------------------------------------------------------------------- RTSTRUCT
def rtstruct_roi_names(path: Path) -> dict[int, str]:
    """ROI number -> ROI name of an RTSTRUCT file."""
    import pydicom

    dataset = pydicom.dcmread(str(path), stop_before_pixels=True)
    return {int(r.ROINumber): str(r.ROIName) for r in dataset.get("StructureSetROISequence", [])}


def _pick(named: dict[int, str], wanted: str | None, what: str, path: Path) -> int:
    if wanted is None:
        if len(named) == 1:
            return next(iter(named))
        raise MaskError(
            f"{path} holds {len(named)} {what}s ({', '.join(named.values()) or 'none'}); name one in the 'roi' column"
        )
    for number, name in named.items():
        if name == wanted or str(number) == str(wanted).strip():
            return number
    folded = [n for n, name in named.items() if name.strip().lower() == wanted.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise MaskError(f"{path} has no {what} {wanted!r}; it has: {', '.join(named.values()) or 'none'}")


def _rtstruct_mask(dataset: object, image: sitk.Image, roi: str | None, path: Path) -> MaskResult:
    named = {int(r.ROINumber): str(r.ROIName) for r in getattr(dataset, "StructureSetROISequence", [])}
    number = _pick(named, roi, "ROI", path)
    contours = None
    for item in getattr(dataset, "ROIContourSequence", []):
        if int(item.ReferencedROINumber) == number:
            contours = item.get("ContourSequence", [])
    if not contours:
        raise MaskError(f"ROI {named[number]!r} in {path} has no contours")
    size = image.GetSize()
    array = np.zeros((size[2], size[1], size[0]), dtype=np.uint8)  # z, y, x
    skipped = 0
    used = 0
    for contour in contours:
        kind = str(contour.get("ContourGeometricType", "CLOSED_PLANAR"))
        points = np.asarray(contour.ContourData, dtype=float).reshape(-1, 3)
        if kind == "POINT" or len(points) < 3:
            continue
        index = np.array([image.TransformPhysicalPointToContinuousIndex(tuple(p)) for p in points])
        planes = index[:, 2]
        k = round(float(np.mean(planes)))
        if np.ptp(planes) > 2 * _PLANE_TOLERANCE or abs(float(np.mean(planes)) - k) > _PLANE_TOLERANCE:
            if 0 <= k < size[2]:
                raise MaskError(
                    f"a contour of ROI {named[number]!r} does not lie on an image plane "
                    f"(slice index {float(np.mean(planes)):.2f}); the RTSTRUCT does not fit this series"
                )
            skipped += 1
            continue
        if not 0 <= k < size[2]:
            skipped += 1
            continue
        filled = rasterise_polygon(index[:, 0], index[:, 1], (size[1], size[0]))
        array[k] ^= filled
        used += 1
    notes = []
    if skipped:
        notes.append(f"{skipped} of {len(contours)} contours of {named[number]!r} lie outside the image series and were skipped")
    if not used or not array.any():
        raise MaskError(f"ROI {named[number]!r} of {path} covers no voxel of the image series")
    mask = sitk.GetImageFromArray(array)
    mask.CopyInformation(image)
    return MaskResult(mask=mask, label=1, name=named[number], notes=notes)


def rasterise_polygon(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Fill a closed polygon given in continuous pixel indices (x = column, y = row).

    Returns a ``uint8`` array of ``shape`` (rows, columns) with 1 where the pixel centre is
    inside the polygon by the even-odd rule.

    >>> rasterise_polygon(np.array([0.5, 3.5, 3.5, 0.5]), np.array([0.5, 0.5, 2.5, 2.5]), (4, 5))
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]], dtype=uint8)
    """
    out = np.zeros(shape, dtype=np.uint8)
    x0 = max(int(np.floor(xs.min())), 0)
    x1 = min(int(np.ceil(xs.max())), shape[1] - 1)
    y0 = max(int(np.floor(ys.min())), 0)
    y1 = min(int(np.ceil(ys.max())), shape[0] - 1)
    if x1 < x0 or y1 < y0:
        return out
    px, py = np.meshgrid(np.arange(x0, x1 + 1, dtype=float), np.arange(y0, y1 + 1, dtype=float))
    inside = np.zeros(px.shape, dtype=bool)
    xa, ya = xs, ys
    xb, yb = np.roll(xs, -1), np.roll(ys, -1)
    for ax, ay, bx, by in zip(xa, ya, xb, yb, strict=True):
        if ay == by:
            continue
        crosses = (ay > py) != (by > py)
        x_at = ax + (py - ay) * (bx - ax) / (by - ay)
        inside ^= crosses & (px < x_at)
    out[y0 : y1 + 1, x0 : x1 + 1] = inside
    return out


# ---------------------------------------------------------------------- SEG
def _seg_mask(dataset: object, image: sitk.Image, roi: str | None, path: Path) -> MaskResult:
    segments = {
        int(s.SegmentNumber): str(s.get("SegmentLabel", s.SegmentNumber)) for s in getattr(dataset, "SegmentSequence", [])
    }
    number = _pick(segments, roi, "segment", path)
    try:
        frames = dataset.pixel_array  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - pydicom pixel handlers raise many types
        raise MaskError(f"cannot decode the pixel data of {path}: {exc}") from None
    frames = frames.reshape((-1, int(dataset.Rows), int(dataset.Columns)))  # type: ignore[attr-defined]
    threshold = 0
    if str(dataset.get("SegmentationType", "BINARY")) == "FRACTIONAL":  # type: ignore[attr-defined]
        threshold = int(dataset.get("MaximumFractionalValue", 255)) / 2  # type: ignore[attr-defined]
    shared = dataset.get("SharedFunctionalGroupsSequence", [None])[0]  # type: ignore[attr-defined]
    per_frame = dataset.get("PerFrameFunctionalGroupsSequence", [])  # type: ignore[attr-defined]
    if len(per_frame) != len(frames):
        raise MaskError(f"{path}: {len(frames)} frames but {len(per_frame)} per-frame functional groups")
    size = image.GetSize()
    array = np.zeros((size[2], size[1], size[0]), dtype=np.uint8)
    origin = np.asarray(image.GetOrigin())
    direction = np.asarray(image.GetDirection()).reshape(3, 3)
    spacing = np.asarray(image.GetSpacing())
    to_index = np.linalg.inv(direction * spacing)
    outside = 0
    for frame, group in zip(frames, per_frame, strict=True):
        seg_id = _functional(group, shared, "SegmentIdentificationSequence")
        if seg_id is None or int(seg_id.ReferencedSegmentNumber) != number:
            continue
        rows, cols = np.nonzero(frame > threshold)
        if not len(rows):
            continue
        position = _functional(group, shared, "PlanePositionSequence")
        orientation = _functional(group, shared, "PlaneOrientationSequence")
        measures = _functional(group, shared, "PixelMeasuresSequence")
        if position is None or orientation is None or measures is None:
            raise MaskError(f"{path}: a frame lacks its plane position, orientation or pixel spacing")
        ipp = np.asarray(position.ImagePositionPatient, dtype=float)
        iop = np.asarray(orientation.ImageOrientationPatient, dtype=float)
        row_spacing, col_spacing = (float(v) for v in measures.PixelSpacing)
        points = ipp + np.outer(cols * col_spacing, iop[:3]) + np.outer(rows * row_spacing, iop[3:])
        index = np.rint((points - origin) @ to_index.T).astype(int)
        ok = np.all((index >= 0) & (index < np.asarray(size)), axis=1)
        outside += int((~ok).sum())
        index = index[ok]
        array[index[:, 2], index[:, 1], index[:, 0]] = 1
    if not array.any():
        raise MaskError(f"segment {segments[number]!r} of {path} covers no voxel of the image")
    notes = [f"{outside} pixels of segment {segments[number]!r} lie outside the image and were skipped"] if outside else []
    mask = sitk.GetImageFromArray(array)
    mask.CopyInformation(image)
    return MaskResult(mask=mask, label=1, name=segments[number], notes=notes)


def _functional(group: object, shared: object, name: str) -> object | None:
    for holder in (group, shared):
        if holder is not None and name in holder:  # type: ignore[operator]
            return getattr(holder, name)[0]
    return None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if "Exception" in line and ":" in line:
            continue
        return line
    return lines[-1] if lines else type(exc).__name__
