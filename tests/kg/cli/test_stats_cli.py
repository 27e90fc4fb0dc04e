"""``igkg associate --method linear|logistic --covariates``, ``igkg harmonise`` and ``igkg predict``,
run as a user would on the NSCLC Radiogenomics features joined to the TCIA clinical table; the
numbers against statsmodels and kg.analysis.stats.combat on the same matrices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kg import KnowledgeGraph
from kg.analysis.stats.combat import combat

FEATURES = ["original_shape_Sphericity", "original_firstorder_Mean", "original_glcm_Contrast", "original_firstorder_Minimum"]


def igkg(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IGKG_STORE": str(store)}
    env.pop("IGKG_DASK_SCHEDULER", None)
    result = subprocess.run([sys.executable, "-m", "kg.cli", *args], check=False, capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"igkg {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def tables(shared_data: Path) -> tuple[Path, Path]:
    folder = shared_data / "radiogenomics"
    return folder / "nsclc_radiogenomics_original_features.csv", folder / "nsclc_clinical_tcia.csv"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tables: tuple[Path, Path]) -> Path:
    folder = tmp_path_factory.mktemp("cli-stats") / "store"
    igkg("load", str(tables[1]), "--kind", "clinical", store=folder)
    igkg("load", str(tables[0]), "--kind", "radiomics-csv", "--values", "columnar", store=folder)
    return folder


def _reference(tables: tuple[Path, Path]) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Features, EGFR (1/0, both sources; the subject they disagree on left out) and age + sex, by pandas."""
    features = pd.read_csv(tables[0]).set_index("Case ID").rename_axis("subject")
    clinical = pd.read_csv(tables[1]).set_index("Patient ID")
    code = {"Mutant": 1.0, "Wildtype": 0.0}
    a = clinical["EGFR mutation status"].map(code)
    b = features["EGFR mutation status"].astype(float)  # this table writes 1 / 0
    both = pd.concat([a, b], axis=1).reindex(features.index)
    disagree = both.notna().all(axis=1) & (both.iloc[:, 0] != both.iloc[:, 1])
    egfr = both.iloc[:, 0].combine_first(both.iloc[:, 1]).where(~disagree)
    age = pd.to_numeric(clinical["Age at Histological Diagnosis"], errors="coerce")
    covariates = pd.DataFrame({"age": age, "male": (clinical["Gender"] == "Male").astype(float)}).reindex(features.index)
    return features, egfr, covariates


def test_adjusted_logistic_and_linear_equal_statsmodels(store: Path, tables: tuple[Path, Path], tmp_path: Path) -> None:
    features, egfr, covariates = _reference(tables)
    for method in ("logistic", "linear"):
        out = tmp_path / f"{method}.csv"
        done = igkg("associate", "--marker", "EGFR", "--method", method, "--covariates",
                    "Age at Histological Diagnosis,Gender", "--q-max", "1", "--output", str(out), store=store)
        assert f"{method} over" in done.stdout + done.stderr
        results = pd.read_csv(out).set_index("feature")
        assert {"model", "test", "correction", "note"} <= set(results.columns)
        if method == "logistic":
            assert results.loc[~results["converged"].astype(bool), "p"].isna().all()
        for name in FEATURES:
            frame = pd.concat([features[name], egfr.rename("egfr"), covariates], axis=1).dropna()
            if method == "logistic":
                fit = sm.Logit(frame["egfr"], sm.add_constant(frame[[name, "age", "male"]])).fit(disp=0)
                stat, p = fit.tvalues[name], fit.pvalues[name]
            else:
                fit = sm.OLS(frame[name], sm.add_constant(frame[["egfr", "age", "male"]])).fit()
                stat, p = fit.tvalues["egfr"], fit.pvalues["egfr"]
            row = results.loc[name]
            assert row["n"] == len(frame) == fit.nobs
            assert row["statistic"] == pytest.approx(stat, rel=1e-6)
            assert row["p"] == pytest.approx(p, rel=1e-6)
    with KnowledgeGraph(store, read_only=True) as kg:
        runs = kg.query("SELECT ?p WHERE { ?run a igkg:AnalysisRun, prov:Activity ; igkg:parameters ?p }")
        texts = [json.loads(t) for t in runs["p"]]
        logistic = next(t for t in texts if t.get("method") == "logistic")
        assert logistic["covariates"] == ["Age at Histological Diagnosis", "Gender"]
        assert "Wald" in logistic["test"] and "Benjamini-Hochberg" in logistic["correction"] and logistic["model"]


def test_harmonise_is_combat_and_a_new_version(store: Path, tables: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "harmonised.csv"
    done = igkg("harmonise", "--batch", "Patient affiliation", "--covariates", "Gender", "--output", str(out), store=store)
    assert "harmonisation run" in done.stdout + done.stderr
    harmonised = pd.read_csv(out).set_index("subject")
    features, _, _ = _reference(tables)
    clinical = pd.read_csv(tables[1]).set_index("Patient ID")
    data = features.loc[harmonised.index, harmonised.columns]
    batch = clinical.loc[harmonised.index, "Patient affiliation"]
    sex = clinical.loc[harmonised.index, ["Gender"]]
    expected = combat(data, batch, covariates=sex).data
    np.testing.assert_allclose(harmonised.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9)
    with KnowledgeGraph(store, read_only=True) as kg:
        files = kg.matrix_files(kind="radiomics-harmonised")
        assert len(files) == 1 and files[0].source_key.startswith("harmonisation/")
        runs = kg.query("SELECT ?run ?batch WHERE { ?run a igkg:HarmonisationRun ; igkg:batchVariable ?batch ; prov:used ?g }")
        assert set(runs["batch"]) == {"Patient affiliation"}
    igkg("harmonise", "--batch", "Patient affiliation", "--no-eb", store=store)
    with KnowledgeGraph(store, read_only=True) as kg:
        assert len(kg.matrix_files(kind="radiomics-harmonised")) == 2  # another setting adds a run


def test_predict_json_seed_and_n(store: Path, tables: tuple[Path, Path], tmp_path: Path) -> None:
    _, egfr, _ = _reference(tables)
    outputs = []
    for i in range(2):
        out = tmp_path / f"p{i}.json"
        igkg("predict", "--marker", "EGFR", "--folds", "3", "--repeats", "2", "--permutations", "4", "--seed", "7",
             "--output", str(out), store=store)
        outputs.append(json.loads(out.read_text()))
    first, second = outputs
    for key in ("auc", "auc_ci_low", "auc_ci_high", "permutation_p", "n", "settings"):
        assert key in first
    assert {k: first[k] for k in ("auc", "auc_ci_low", "auc_ci_high", "permutation_p")} == {
        k: second[k] for k in ("auc", "auc_ci_low", "auc_ci_high", "permutation_p")}
    assert first["n"] == int(egfr.notna().sum())
    assert first["auc_ci_low"] <= first["auc"] <= first["auc_ci_high"]


def test_predict_harmonises_inside_folds_and_records_settings(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    igkg("predict", "--marker", "EGFR", "--model", "random-forest", "--covariates", "Gender", "--harmonise-batch", "Patient affiliation",
         "--folds", "3", "--repeats", "1", "--permutations", "2", "--seed", "3", "--output", str(out), store=store)
    result = json.loads(out.read_text())
    assert result["settings"]["harmonise_batch"] == "Patient affiliation" and result["settings"]["model"] == "random-forest"
    assert result["harmonisation"] and result["covariates"] == ["Gender"]
    with KnowledgeGraph(store, read_only=True) as kg:
        found = kg.query(
            "SELECT ?auc ?n ?marker (COUNT(?f) AS ?features) WHERE { ?r a igkg:PredictionResult ; igkg:auc ?auc ; igkg:sampleSize ?n ; "
            "igkg:predictedMarker ?marker ; igkg:modelFeature ?f ; prov:wasGeneratedBy ?run . ?run a prov:Activity ; igkg:settingsHash ?id . "
            f"FILTER(?id = '{result['run_id']}') }} GROUP BY ?auc ?n ?marker"
        )
        assert len(found) == 1 and float(found["auc"].iloc[0]) == pytest.approx(result["auc"]) and int(found["n"].iloc[0]) == result["n"]
        assert int(found["features"].iloc[0]) >= 1


def test_icc_cli_on_the_maastricht_replicates(shared_data: Path, tmp_path: Path) -> None:
    import zipfile

    from kg.analysis.stats.icc import icc

    archive = shared_data / "radiomics" / "maastricht_interobserver" / "Interobserver-Radiomics_IBSI_tables.zip"
    with zipfile.ZipFile(archive) as zf:
        with zf.open("Feature_table.csv") as fh:
            features = pd.read_csv(fh)
        with zf.open("ImageSpace_table.csv") as fh:
            spaces = pd.read_csv(fh)
    table = features.merge(spaces[["ImageSpace_name", "ROImask_name"]], on="ImageSpace_name")
    table = table[table["FeatureParameterSpace_name"] == "FeatureParameterSpace_1"].drop(columns=["ImageSpace_name"])
    path = tmp_path / "interobserver_features.csv"
    table.to_csv(path, index=False)
    folder = tmp_path / "store"
    igkg("load", str(path), "--kind", "radiomics-csv", "--replicate-column", "ROImask_name", "--cohort", "interobserver", store=folder)
    out = tmp_path / "icc.csv"
    igkg("icc", "--replicate-column", "ROImask_name", "--type", "consistency", "--cohort", "interobserver", "--output", str(out), store=folder)
    got = pd.read_csv(out)
    assert list(got.columns) == ["feature", "icc", "ci_low", "ci_high", "n"]
    expected = icc(table[table["Feature_name"].isin(got["feature"])], subject="PatientID", replicate="ROImask_name",
                   feature="Feature_name", value="Value", kind="consistency").set_index("feature")
    merged = got.set_index("feature").join(expected, rsuffix="_ref")
    np.testing.assert_allclose(merged[["icc", "ci_low", "ci_high"]].to_numpy(), merged[["icc_ref", "ci_low_ref", "ci_high_ref"]].to_numpy(), rtol=1e-9)
    assert (merged["n"] == 20).all() and len(merged) >= 9
