"""ComBat against the reference implementation's outputs, and on the two-site NSCLC cohort.

The shared folder holds R and Python outputs of Fortin's ComBatHarmonization on its test data
(features x scans; we hold subjects x features, hence the transposes); ``data/combat_neurocombat``
holds neuroCombat 0.2.12 outputs for the settings the shared folder lacks (see its SOURCE.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from kg.analysis.stats.combat import combat, fit_combat
from kg.analysis.stats.errors import HarmonisationError

HERE = Path(__file__).resolve().parent / "data" / "combat_neurocombat"
RTOL = 1e-9  # the contract is 1e-6; the reference outputs are reproduced to ~1e-12


@pytest.fixture(scope="module")
def testdata(shared_data: Path):
    folder = shared_data / "harmonisation" / "combat"
    raw = pd.read_csv(folder / "testdata.csv")  # 200 features x 10 scans
    data = raw.T
    data.columns = [f"feature_{i + 1}" for i in range(data.shape[1])]
    batch = pd.Series([1] * 5 + [2] * 5, index=data.index, name="batch")
    gender = pd.DataFrame({"gender": [1, 2] * 5}, index=data.index)
    return folder / "expected", data, batch, gender


SHARED_SETTINGS = {
    "parametric_adjusted": {"adjusted": True},
    "parametric_unadjusted": {"adjusted": False},
    "parametric_adjusted_noeb": {"adjusted": True, "eb": False},
    "parametric_unadjusted_noeb": {"adjusted": False, "eb": False},
}


def _run(data, batch, gender, *, adjusted, **settings):
    covariates = {"covariates": gender, "categorical": ["gender"]} if adjusted else {}
    return combat(data, batch, **covariates, **settings)


@pytest.mark.parametrize("implementation", ["r", "python"])
@pytest.mark.parametrize("setting", sorted(SHARED_SETTINGS))
def test_reproduces_the_shared_reference_outputs(testdata, setting, implementation):
    expected_dir, data, batch, gender = testdata
    path = expected_dir / f"testdata_combat_{setting}_{implementation}.csv"
    expected = pd.read_csv(path).to_numpy() if implementation == "r" else np.loadtxt(path, delimiter=",")
    result = _run(data, batch, gender, **SHARED_SETTINGS[setting])
    np.testing.assert_allclose(result.data.to_numpy().T, expected, rtol=RTOL, atol=0)
    assert result.data.index.equals(data.index) and list(result.data.columns) == list(data.columns)


NEUROCOMBAT_SETTINGS = {
    "nonparametric_adjusted": {"adjusted": True, "parametric": False},
    "nonparametric_unadjusted": {"adjusted": False, "parametric": False},
    "parametric_adjusted_batchref": {"adjusted": True, "ref_batch": 1},
    "parametric_adjusted_meanonly": {"adjusted": True, "mean_only": True},
    "nonparametric_adjusted_meanonly_batchref": {
        "adjusted": True,
        "parametric": False,
        "mean_only": True,
        "ref_batch": 1,
    },
}


@pytest.mark.parametrize("setting", sorted(NEUROCOMBAT_SETTINGS))
def test_reproduces_neurocombat_in_the_other_settings(testdata, setting):
    _, data, batch, gender = testdata
    expected = np.loadtxt(HERE / f"testdata_combat_{setting}_neurocombat.csv", delimiter=",")
    result = _run(data, batch, gender, **NEUROCOMBAT_SETTINGS[setting])
    np.testing.assert_allclose(result.data.to_numpy().T, expected, rtol=RTOL, atol=0)
    if "batchref" in setting:  # the reference batch comes back untouched
        pd.testing.assert_frame_equal(result.data.iloc[:5], data.iloc[:5].astype(float))
        assert (result.model.gamma_star.loc[1] == 0).all() and (result.model.delta_star.loc[1] == 1).all()


def test_estimates_are_returned(testdata):
    _, data, batch, gender = testdata
    model = _run(data, batch, gender, adjusted=True).model
    assert model.n_per_batch == {1: 5, 2: 5}
    assert model.gamma_star.shape == model.delta_star.shape == (2, 200)
    assert model.grand_mean.index.tolist() == list(data.columns)
    assert model.covariate_effects.index.tolist() == ["gender[T.2]"]
    assert set(model.iterations) == {1, 2} and all(v > 1 for v in model.iterations.values())
    settings = model.settings()
    assert settings["n_per_batch"] == {"1": 5, "2": 5} and settings["covariates"] == ["gender"]
    assert "parametric empirical Bayes" in settings["method"]
    params = model.batch_parameters()
    assert list(params.columns) == ["batch", "feature", "gamma_hat", "delta_hat", "gamma_star", "delta_star"]
    assert len(params) == 400
    # empirical Bayes shrinks the batch locations towards their mean across features
    hat, star = model.gamma_hat.loc[2], model.gamma_star.loc[2]
    assert ((star - model.gamma_bar[2]).abs() <= (hat - model.gamma_bar[2]).abs() + 1e-12).all()


def test_fit_on_training_scans_apply_to_new_scans_equals_neurocombat(testdata):
    _, data, batch, _ = testdata
    train = data.index[[0, 1, 2, 3, 5, 6, 7, 8]]
    test = data.index[[4, 9]]
    model = fit_combat(data.loc[train], batch.loc[train])
    applied = model.apply(data.loc[test], batch.loc[test])
    expected = np.loadtxt(
        HERE / "testdata_combat_train_apply_parametric_unadjusted_neurocombat.csv", delimiter=","
    )
    np.testing.assert_allclose(applied.to_numpy().T, expected, rtol=RTOL, atol=0)


def test_apply_on_the_training_subjects_is_the_harmonised_table(testdata):
    _, data, batch, gender = testdata
    result = _run(data, batch, gender, adjusted=True, parametric=False)
    again = result.model.apply(data, batch, covariates=gender)
    np.testing.assert_allclose(again.to_numpy(), result.data.to_numpy(), rtol=1e-12)


def test_errors_say_what_is_wrong(testdata):
    _, data, batch, _ = testdata
    with pytest.raises(HarmonisationError, match="batch '3' of 'batch' has one subject"):
        combat(data, batch.where(batch.index != "V10", 3))
    with pytest.raises(HarmonisationError, match="'gender' is confounded with 'batch'"):
        combat(
            data,
            batch,
            covariates=pd.DataFrame({"gender": batch.to_numpy()}, index=data.index),
            categorical=["gender"],
        )
    with pytest.raises(HarmonisationError, match="feature 'feature_3' is missing for subject 'V2'"):
        combat(data.mask((data.index == "V2")[:, None] & (data.columns == "feature_3")[None, :]), batch)
    with pytest.raises(HarmonisationError, match="reference batch 7 is not one of"):
        combat(data, batch, ref_batch=7)
    model = fit_combat(data, batch)
    with pytest.raises(HarmonisationError, match="batch '5' was not among the fitted batches"):
        model.apply(data.iloc[:2], pd.Series([1, 5], index=data.index[:2]))


def test_two_site_nsclc_cohort(nsclc):
    """VA vs Stanford, keeping sex and smoking: location-only ComBat without EB removes the site term exactly."""
    clinical = nsclc.clinical
    site = clinical["Patient affiliation"]
    covariates = clinical[["Gender", "Smoking status"]]
    features = nsclc.features.iloc[:, :40]
    result = combat(features, site, covariates=covariates, eb=False, mean_only=True)
    assert result.model.n_per_batch == {"Stanford": 45, "VA": 72}
    frame = pd.concat(
        [
            clinical[["Patient affiliation", "Gender", "Smoking status"]].set_axis(
                ["site", "sex", "smoking"], axis=1
            )
        ],
        axis=1,
    )
    raw_site, harmonised_site = [], []
    for name in features.columns:
        for table, store in ((features, raw_site), (result.data, harmonised_site)):
            fit = smf.ols("y ~ C(site) + C(sex) + C(smoking)", frame.assign(y=table[name])).fit()
            store.append(abs(fit.params["C(site)[T.VA]"]) / fit.bse["C(site)[T.VA]"])
    assert max(harmonised_site) < 1e-8 < max(raw_site)
    # the default (parametric EB, location and scale) runs on the same table and keeps the covariate effects
    default = combat(features, site, covariates=covariates)
    assert np.isfinite(default.data.to_numpy()).all()
    assert default.model.covariate_effects.index.tolist() == [
        "Gender[T.Male]",
        "Smoking status[T.Former]",
        "Smoking status[T.Nonsmoker]",
    ]
