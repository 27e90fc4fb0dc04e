"""DICOM series + RTSTRUCT rasterisation, checked on the IBSI CT phantom against its NIfTI mask."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from loaders._dicom_masks import MaskError, read_image, read_mask
from loaders.pyradiomics import Case, extract_case, load_settings

# Stated tolerances: voxel agreement with the phantom's NIfTI mask must be exact (Dice 1,
# 0 differing voxels, measured); features through DICOM + RTSTRUCT equal those through NIfTI to 1e-9 relative.
FEATURE_RTOL = 1e-9


@pytest.fixture(scope="module")
def phantom(shared_data: Path) -> Path:
    return shared_data / "ibsi" / "ct_phantom"


def _dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


def test_rtstruct_matches_the_nifti_mask(phantom: Path) -> None:
    image = read_image(phantom / "dicom" / "image")
    nifti_image = sitk.ReadImage(str(phantom / "nifti" / "image" / "phantom.nii.gz"))
    assert image.GetSize() == nifti_image.GetSize() == (204, 201, 60)
    assert np.array_equal(sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(nifti_image))
    result = read_mask(phantom / "dicom" / "mask" / "DCM_RS_00060.dcm", image)
    assert result.name == "GTV-1" and not result.notes
    ours = sitk.GetArrayFromImage(result.mask).astype(bool)
    reference = sitk.GetArrayFromImage(sitk.ReadImage(str(phantom / "nifti" / "mask" / "mask.nii.gz"))).astype(bool)
    assert reference.sum() == 125256
    assert _dice(ours, reference) == 1.0 and int((ours != reference).sum()) == 0


@pytest.mark.slow
def test_features_through_dicom_equal_features_through_nifti(phantom: Path) -> None:
    settings = load_settings(params={"setting": {"binWidth": 25}, "featureClass": {"shape": [], "firstorder": [], "glcm": [], "glszm": []}})
    dicom = extract_case(Case(0, "ct", phantom / "dicom" / "image", phantom / "dicom" / "mask" / "DCM_RS_00060.dcm"), settings.params)
    nifti = extract_case(Case(0, "ct", phantom / "nifti" / "image" / "phantom.nii.gz", phantom / "nifti" / "mask" / "mask.nii.gz"), settings.params)
    assert dicom.ok and nifti.ok, (dicom.error, nifti.error)
    assert dicom.roi_name == "GTV-1" and dicom.dicom["Modality"] == "CT"
    assert set(dicom.features) == set(nifti.features) and len(dicom.features) > 60
    for name, value in nifti.features.items():
        assert dicom.features[name] == pytest.approx(value, rel=FEATURE_RTOL, abs=1e-12), name


def test_cropped_series_still_converts(phantom: Path, tmp_path: Path) -> None:
    """Drop slices so that contours reference images that are not in the series."""
    folder = tmp_path / "cropped"
    folder.mkdir()
    files = sorted((phantom / "dicom" / "image").glob("*.dcm"))
    positions = {f: float(pydicom.dcmread(str(f), stop_before_pixels=True).ImagePositionPatient[2]) for f in files}
    ordered = sorted(files, key=positions.get)
    reference = sitk.GetArrayFromImage(sitk.ReadImage(str(phantom / "nifti" / "mask" / "mask.nii.gz"))).astype(bool)
    contoured = np.nonzero(reference.any(axis=(1, 2)))[0]
    keep = ordered[: contoured[len(contoured) // 2]]  # cut the series in the middle of the ROI
    for f in keep:
        shutil.copy(f, folder / f.name)
    image = read_image(folder)
    assert image.GetSize()[2] == len(keep)
    result = read_mask(phantom / "dicom" / "mask" / "DCM_RS_00060.dcm", image)
    assert result.notes and "outside the image series" in result.notes[0]
    ours = sitk.GetArrayFromImage(result.mask).astype(bool)
    assert np.array_equal(ours, reference[: len(keep)])


def test_rtstruct_roi_not_found_and_non_mask_dicom(phantom: Path) -> None:
    image = read_image(phantom / "dicom" / "image")
    with pytest.raises(MaskError, match="no ROI 'GTV-2'; it has: GTV-1"):
        read_mask(phantom / "dicom" / "mask" / "DCM_RS_00060.dcm", image, roi="GTV-2")
    with pytest.raises(MaskError, match="not an RTSTRUCT or SEG"):
        read_mask(sorted((phantom / "dicom" / "image").glob("*.dcm"))[0], image)


def test_seg_round_trip(phantom: Path, tmp_path: Path) -> None:
    """A DICOM SEG written from the NIfTI mask (PS3.3 C.8.20 frame layout) reads back to the same mask."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    image = read_image(phantom / "dicom" / "image")
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(phantom / "nifti" / "mask" / "mask.nii.gz"))).astype(np.uint8)
    slices = [k for k in range(mask.shape[0]) if mask[k].any()]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.2.840.10008.5.1.4.1.1.66.4", ds.file_meta.MediaStorageSOPInstanceUID, "SEG"
    ds.SegmentationType = "BINARY"
    ds.Rows, ds.Columns, ds.NumberOfFrames = mask.shape[1], mask.shape[2], len(slices)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    segment = Dataset()
    segment.SegmentNumber, segment.SegmentLabel = 1, "GTV"
    ds.SegmentSequence = Sequence([segment])
    shared = Dataset()
    orientation, measures = Dataset(), Dataset()
    direction = image.GetDirection()
    orientation.ImageOrientationPatient = [direction[0], direction[3], direction[6], direction[1], direction[4], direction[7]]
    measures.PixelSpacing = [image.GetSpacing()[1], image.GetSpacing()[0]]
    measures.SliceThickness = image.GetSpacing()[2]
    shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([orientation]), Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    frames = []
    for k in slices:
        group, position, ident = Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient = list(image.TransformIndexToPhysicalPoint((0, 0, k)))
        ident.ReferencedSegmentNumber = 1
        group.PlanePositionSequence, group.SegmentIdentificationSequence = Sequence([position]), Sequence([ident])
        frames.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = np.packbits(mask[slices].ravel(), bitorder="little").tobytes()
    path = tmp_path / "seg.dcm"
    ds.save_as(str(path), enforce_file_format=True)
    result = read_mask(path, image)
    assert result.name == "GTV"
    assert np.array_equal(sitk.GetArrayFromImage(result.mask), mask)
