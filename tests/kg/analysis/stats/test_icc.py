"""ICC(A,1) and ICC(C,1) on the Maastricht inter-observer study, against pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin
import pytest

from kg.analysis.stats.errors import StatsError
from kg.analysis.stats.icc import ICC_COLUMNS, icc

PINGOUIN_ROW = {"agreement": "ICC(A,1)", "consistency": "ICC(C,1)"}


@pytest.fixture(scope="module")
def unfiltered(interobserver) -> pd.DataFrame:
    """Features of the unfiltered image (FeatureParameterSpace 1-3), one name per feature and setting."""
    table = interobserver.features
    table = table[
        table["FeatureParameterSpace_name"].isin(
            ["FeatureParameterSpace_1", "FeatureParameterSpace_2", "FeatureParameterSpace_3"]
        )
    ]
    return table.assign(
        feature=table["Feature_name"] + " @" + table["FeatureParameterSpace_name"].str.rsplit("_").str[-1]
    )


@pytest.fixture(autouse=True)
def unrounded_pingouin(monkeypatch):
    monkeypatch.setitem(pingouin.options, "round.column.CI95", None)


@pytest.mark.parametrize("kind", ["agreement", "consistency"])
def test_equals_pingouin_on_every_feature(unfiltered, kind):
    result = icc(
        unfiltered, subject="PatientID", replicate="ROImask_name", feature="feature", value="Value", kind=kind
    )
    assert list(result.columns) == ICC_COLUMNS
    assert result["feature"].tolist() == list(dict.fromkeys(unfiltered["feature"]))
    assert len(result) > 40
    for row in result.itertuples():
        rows = unfiltered[unfiltered["feature"] == row.feature]
        ref = pingouin.intraclass_corr(
            rows, targets="PatientID", raters="ROImask_name", ratings="Value", nan_policy="omit"
        )
        ref = ref.set_index("Type").loc[PINGOUIN_ROW[kind]]
        np.testing.assert_allclose(
            [row.icc, row.ci_low, row.ci_high], [ref["ICC"], *ref["CI95"]], rtol=1e-6, err_msg=row.feature
        )
        # the patient with only the 5 visual delineations is dropped: 20 of 21 remain
        assert row.n == ref["df1"] + 1 == 20
    assert result.attrs["kind"] == kind and result.attrs["method"].startswith(PINGOUIN_ROW[kind])


def test_ibsi_mean_intensity_is_reproducible(unfiltered):
    mean = unfiltered[unfiltered["Feature_name"] == "Fstat.mean"]
    result = icc(mean, subject="PatientID", replicate="ROImask_name", feature="Feature_name", value="Value")
    row = result.set_index("feature").loc["Fstat.mean"]
    assert row.ci_low < row.icc < row.ci_high and row.n == 20


def test_wide_table_and_unequal_replicates(unfiltered):
    """The same numbers from a wide table; a subject missing a delineation of one feature leaves that feature only."""
    wide = unfiltered.pivot_table(
        index=["PatientID", "ROImask_name"], columns="feature", values="Value"
    ).reset_index()
    names = [c for c in wide.columns if c not in ("PatientID", "ROImask_name")][:10]
    long_result = icc(
        unfiltered[unfiltered["feature"].isin(names)],
        subject="PatientID",
        replicate="ROImask_name",
        feature="feature",
        value="Value",
    )
    wide_result = icc(wide, subject="PatientID", replicate="ROImask_name", features=names)
    merged = long_result.merge(wide_result, on="feature", suffixes=("_long", "_wide"))
    np.testing.assert_allclose(merged["icc_long"], merged["icc_wide"], rtol=1e-12)
    # remove one patient's GTV-1auto-3 value of the first feature: that feature has 19 complete subjects
    hole = wide.copy()
    target = hole.index[(hole["PatientID"] == "interobs06") & (hole["ROImask_name"] == "GTV-1auto-3")]
    hole.loc[target, names[0]] = np.nan
    result = icc(hole, subject="PatientID", replicate="ROImask_name", features=names).set_index("feature")
    assert result.loc[names[0], "n"] == 19 and (result.loc[names[1:], "n"] == 20).all()
    long_hole = hole.melt(id_vars=["PatientID", "ROImask_name"], value_vars=[names[0]])
    ref = pingouin.intraclass_corr(
        long_hole, targets="PatientID", raters="ROImask_name", ratings="value", nan_policy="omit"
    )
    assert result.loc[names[0], "icc"] == pytest.approx(
        ref.set_index("Type").loc["ICC(A,1)", "ICC"], rel=1e-6
    )


def test_repeated_measurements_are_an_error(interobserver):
    """O-RAW maps two pyradiomics features each onto Frlm.lgre and Frlm.rl.var in the 3Davg setting: same feature, subject and delineation twice."""
    table = interobserver.features
    table = table[table["FeatureParameterSpace_name"] == "FeatureParameterSpace_4"]
    with pytest.raises(
        StatsError, match=r"feature 'Frlm\.[\w.]+', subject '\w+', replicate 'GTV-1\w+-\d' has 2 values"
    ):
        icc(table, subject="PatientID", replicate="ROImask_name", feature="Feature_name", value="Value")
