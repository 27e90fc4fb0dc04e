"""The ``pyradiomics-csv`` loader on output of pyradiomics' own batch command line, and bad files."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import SimpleITK as sitk
import yaml

from kg import KnowledgeGraph
from loaders.pyradiomics import load_settings

BAD = Path(__file__).resolve().parents[1] / "data" / "pyradiomics_csv" / "bad"
CASES = ("brain1", "breast1")
PARAMS = {
    # an original and a filtered image type, a full class, a partial class (sorted names) and shape
    "imageType": {"Original": {}, "Square": {}},
    "featureClass": {"shape": None, "firstorder": ["Energy", "Mean", "Median"], "glcm": None},
    "setting": {"binWidth": 25, "label": 1},
}


def _pyradiomics_cli() -> Path:
    script = Path(sys.executable).parent / "pyradiomics"
    if not script.exists():
        pytest.fail(f"pyradiomics' command line {script} is missing (pip install pyradiomics into this venv)")
    return script


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict[str, Path]:
    """pyradiomics' batch output for brain1 and breast1, written by pyradiomics' own CLI (segment mode, CSV)."""
    folder = tmp_path_factory.mktemp("pyradiomics_batch")
    data = shared_data / "pyradiomics" / "data"
    params = folder / "params.yaml"
    params.write_text(yaml.safe_dump(PARAMS))
    made: dict[str, Path] = {"params": params}
    for name, with_id in (("with_id", True), ("no_id", False)):
        rows = [
            {**({"ID": case} if with_id else {}), "Image": data / f"{case}_image.nrrd", "Mask": data / f"{case}_label.nrrd", "Label": 1}
            for case in CASES
        ]
        manifest = folder / f"batch_{name}.csv"
        pd.DataFrame(rows).to_csv(manifest, index=False)
        out = folder / f"features_{name}.csv"
        subprocess.run(
            [str(_pyradiomics_cli()), str(manifest), "-o", str(out), "-f", "csv", "--param", str(params), "-j", "1"],
            check=True, capture_output=True, timeout=600,
        )
        made[name] = out
        made[f"manifest_{name}"] = manifest
    return made


def _raw(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"diagnostics_Versions_Python": str})


def test_values_in_the_graph_equal_the_csv_cells(kg: KnowledgeGraph, batch: dict[str, Path]) -> None:
    raw = _raw(batch["with_id"])
    report = kg.load(batch["with_id"], kind="pyradiomics-csv")
    assert report.records_read == 2 and not report.rejected
    got = kg.query(
        """SELECT ?id ?name ?value ?roi WHERE {
             ?m a igkg:FeatureMeasurement ; igkg:value ?value ; igkg:roi ?roi ;
                igkg:subject/igkg:identifier ?id ; igkg:feature/igkg:pyradiomicsName ?name }"""
    )
    features = [c for c in raw.columns if not c.startswith("diagnostics_") and c not in ("ID", "Image", "Mask", "Label")]
    assert any(c.startswith("square_") for c in features) and "original_firstorder_Mean" in features
    assert len(got) == raw[features].notna().sum().sum() == 2 * len(features)
    table = got.set_index(["id", "name"])["value"].astype(float)
    for _, row in raw.iterrows():
        for column in features:
            assert table[(row["ID"], column)] == float(row[column]), (row["ID"], column)
    assert got.groupby("id")["roi"].nunique().to_dict() == {"brain1": 1, "breast1": 1}
    # the features are the shared IBSI-coded nodes: first-order mean by its IBSI code
    mean = kg.query("SELECT ?id ?v WHERE { ?m igkg:feature/skos:notation 'Q4LE' ; igkg:value ?v ; igkg:subject/igkg:identifier ?id }")
    assert dict(zip(mean["id"], mean["v"].astype(float), strict=True)) == dict(zip(raw["ID"], raw["original_firstorder_Mean"], strict=True))


def test_provenance_comes_from_the_diagnostics(kg: KnowledgeGraph, batch: dict[str, Path]) -> None:
    raw = _raw(batch["with_id"])
    kg.load(batch["with_id"], kind="pyradiomics-csv")
    runs = kg.query("SELECT ?run ?params ?hash WHERE { ?run a igkg:ExtractionRun , prov:Activity ; igkg:parameters ?params ; igkg:settingsHash ?hash }")
    assert len(runs) == 1
    first = raw.iloc[0]
    params = json.loads(runs["params"].iloc[0])
    assert params["setting"] == ast.literal_eval(first["diagnostics_Configuration_Settings"])
    assert params["imageType"] == ast.literal_eval(first["diagnostics_Configuration_EnabledImageTypes"])
    # the same settings hash the pyradiomics extraction loader gives the parameter file
    assert runs["hash"].iloc[0] == load_settings(batch["params"]).sha256
    versions = set(kg.query("SELECT ?v WHERE { ?run a igkg:ExtractionRun ; igkg:softwareVersion ?v }")["v"])
    assert versions == {
        f"pyradiomics {first['diagnostics_Versions_PyRadiomics'].lstrip('v')}",
        f"numpy {first['diagnostics_Versions_Numpy']}",
        f"SimpleITK {first['diagnostics_Versions_SimpleITK']}",
        f"PyWavelets {first['diagnostics_Versions_PyWavelet']}",
        f"Python {first['diagnostics_Versions_Python']}",
    }
    images = kg.query(
        """SELECT ?id ?ihash ?isource ?mhash ?label WHERE {
             ?roi a igkg:Segmentation ; igkg:subject/igkg:identifier ?id ; igkg:label ?label ;
                  igkg:image ?img ; prov:wasDerivedFrom ?mask .
             ?img igkg:voxelHash ?ihash ; dct:source ?isource . ?mask igkg:voxelHash ?mhash .
             ?run a igkg:ExtractionRun ; prov:used ?img , ?mask .
             ?m igkg:roi ?roi ; prov:wasGeneratedBy ?run }
           GROUP BY ?id ?ihash ?isource ?mhash ?label"""
    ).set_index("id")
    for _, row in raw.iterrows():
        mine = images.loc[row["ID"]]
        assert mine["ihash"] == row["diagnostics_Image-original_Hash"] == sitk.Hash(sitk.ReadImage(row["Image"]))
        assert mine["mhash"] == row["diagnostics_Mask-original_Hash"]  # pyradiomics hashes the mask after its own label selection
        assert mine["isource"] == Path(row["Image"]).as_uri() and int(mine["label"]) == row["Label"]


def test_same_settings_meet_the_extraction_loader(kg: KnowledgeGraph, batch: dict[str, Path], tmp_path: Path) -> None:
    """The batch CSV and igkg's own extraction of the same cases and parameters: one settings hash, equal values."""
    kg.load(batch["with_id"], kind="pyradiomics-csv")
    manifest = tmp_path / "manifest.csv"
    pd.read_csv(batch["manifest_with_id"]).rename(columns={"ID": "subject"}).to_csv(manifest, index=False)
    kg.load(manifest, kind="pyradiomics", params=batch["params"], workers=1)
    got = kg.query(
        """SELECT ?hash ?run ?id ?name ?value WHERE {
             ?run igkg:settingsHash ?hash . ?m prov:wasGeneratedBy ?run ; igkg:value ?value ;
             igkg:subject/igkg:identifier ?id ; igkg:feature/igkg:pyradiomicsName ?name }"""
    )
    assert got["hash"].nunique() == 1 and got["run"].nunique() == 2
    wide = got.pivot_table(index=["id", "name"], columns="run", values="value", aggfunc="first").astype(float)
    assert wide.notna().all().all()
    assert ((wide.iloc[:, 0] - wide.iloc[:, 1]).abs() <= 1e-12 * wide.abs().max(axis=1)).all()


def test_subject_from_the_image_name_without_an_id_column(kg: KnowledgeGraph, batch: dict[str, Path]) -> None:
    report = kg.load(batch["no_id"], kind="pyradiomics-csv")
    assert any("image file name" in note for note in report.notes)
    ids = set(kg.query("SELECT ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")["id"])
    assert ids == {f"{case}_image" for case in CASES}


def test_a_failed_case_is_rejected_and_the_others_load(kg: KnowledgeGraph, batch: dict[str, Path], tmp_path: Path) -> None:
    raw = pd.read_csv(batch["with_id"], dtype=str, keep_default_na=False)
    failed = raw.iloc[[0]].copy()
    failed.loc[:, [c for c in raw.columns if c not in ("ID", "Image", "Mask", "Label")]] = ""  # what pyradiomics writes for a failed case
    failed["Mask"] = "/no/such/mask.nrrd"
    failed["ID"] = "broken"
    path = tmp_path / "with_failure.csv"
    pd.concat([raw, failed]).to_csv(path, index=False)
    report = kg.load(path, kind="pyradiomics-csv")
    assert [(r.line, r.record) for r in report.rejected] == [(4, "broken")]
    assert set(kg.query("SELECT ?id WHERE { ?s a igkg:Subject ; igkg:identifier ?id }")["id"]) == set(CASES)


