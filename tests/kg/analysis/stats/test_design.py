"""Subject variables and designs on TCIA's NSCLC clinical table, checked against patsy's coding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import pytest

from kg.analysis.stats.design import (
    MISSING_TOKENS,
    binary_marker,
    check_not_confounded,
    confounded_terms,
    design_matrix,
    missing_mask,
    subject_variable,
    subject_variables,
)
from kg.analysis.stats.errors import DesignError


def test_missing_tokens_are_never_levels(nsclc):
    clinical = nsclc.clinical_all
    egfr = subject_variable(clinical["EGFR mutation status"])
    assert list(egfr.cat.categories) == ["Mutant", "Wildtype"]
    raw = clinical["EGFR mutation status"]
    assert egfr.isna().sum() == raw.isin(["Unknown", "Not collected"]).sum() > 0
    pack_years = subject_variable(clinical["Pack Years"])
    assert pack_years.dtype == "float64"
    assert (
        pack_years.isna().sum()
        == (
            raw_missing := clinical["Pack Years"].isna()
            | clinical["Pack Years"].isin(["Not Collected", "N/A"])
        ).sum()
    )
    assert raw_missing.any()
    assert pack_years[~raw_missing].tolist() == pd.to_numeric(clinical["Pack Years"][~raw_missing]).tolist()
    assert {"n/a", "not collected", "unknown", ""} <= MISSING_TOKENS
    assert missing_mask(pd.Series(["N/A", "Not Collected", "Unknown", "", np.nan, "Mutant"])).tolist() == [
        True
    ] * 5 + [False]


def test_subject_variables_type_every_column(nsclc):
    typed = subject_variables(
        nsclc.clinical[["Age at Histological Diagnosis", "Weight (lbs)", "%GG", "Patient affiliation"]]
    )
    assert typed["Age at Histological Diagnosis"].dtype == "float64"
    assert typed["Weight (lbs)"].dtype == "float64"  # '152.145' and 'Not Collected'
    assert typed["%GG"].cat.categories[0] == "0%"
    assert list(typed["Patient affiliation"].cat.categories) == ["Stanford", "VA"]
    forced = subject_variables(
        nsclc.clinical[["Age at Histological Diagnosis"]], categorical=["Age at Histological Diagnosis"]
    )
    levels = list(forced["Age at Histological Diagnosis"].cat.categories)
    assert levels == sorted(levels) and isinstance(levels[0], int)


def test_binary_marker(nsclc):
    raw = nsclc.clinical_all["EGFR mutation status"]
    egfr = binary_marker(raw)
    assert egfr.sum() == (raw == "Mutant").sum()
    assert (egfr == 0).sum() == (raw == "Wildtype").sum()
    assert egfr.isna().sum() == (~raw.isin(["Mutant", "Wildtype"])).sum() > 0
    alk = binary_marker(nsclc.clinical["ALK translocation status"])
    assert alk.sum() == (nsclc.clinical["ALK translocation status"] == "Translocated").sum()
    with pytest.raises(DesignError, match="Smoking status.*3 levels"):
        binary_marker(nsclc.clinical["Smoking status"])
    with pytest.raises(DesignError, match="name the positive level"):
        binary_marker(nsclc.clinical["Gender"])
    male = binary_marker(nsclc.clinical["Gender"], positive="Male")
    assert male.sum() == (nsclc.clinical["Gender"] == "Male").sum()


def test_design_equals_patsy_treatment_coding(nsclc):
    covariates = nsclc.clinical_all[
        ["Age at Histological Diagnosis", "Gender", "Smoking status", "Weight (lbs)"]
    ]
    design = design_matrix(covariates, intercept=True)
    typed = covariates.assign(**{"Weight (lbs)": subject_variable(covariates["Weight (lbs)"])}).dropna()
    assert len(design.dropped) == len(covariates) - len(typed) > 0
    assert design.matrix.index.equals(typed.index)
    data = typed.set_axis(["age", "sex", "smoking", "weight"], axis=1)
    reference = patsy.dmatrix("age + C(sex) + C(smoking) + weight", data, return_type="dataframe")
    assert design.columns == [
        "const",
        "Age at Histological Diagnosis",
        "Gender[T.Male]",
        "Smoking status[T.Former]",
        "Smoking status[T.Nonsmoker]",
        "Weight (lbs)",
    ]
    np.testing.assert_array_equal(
        design.matrix.to_numpy(),
        reference[
            [
                "Intercept",
                "age",
                "C(sex)[T.Male]",
                "C(smoking)[T.Former]",
                "C(smoking)[T.Nonsmoker]",
                "weight",
            ]
        ].to_numpy(),
    )
    assert design.describe().startswith(
        "Age at Histological Diagnosis (numeric) + Gender (categorical; reference Female)"
    )
    # the same coding applied to other subjects
    again = design.encode(covariates)
    pd.testing.assert_frame_equal(again, design.matrix)
    with pytest.raises(DesignError, match="level 'Unreported' of subject"):
        design.encode(covariates.assign(Gender="Unreported"))


def test_confounding_with_batch(nsclc):
    clinical = nsclc.clinical_all
    batch = clinical["Patient affiliation"]
    usual = design_matrix(clinical[["Gender", "Smoking status", "Age at Histological Diagnosis"]])
    assert confounded_terms(usual, batch) == []
    check_not_confounded(usual, batch)
    # among AMC-* (all Stanford) and VA subjects, the id prefix fixes the site
    subset = clinical[clinical.index.str.startswith("AMC") | (batch == "VA")]
    prefix = pd.DataFrame({"id prefix": subset.index.str[:3]}, index=subset.index).join(subset[["Gender"]])
    design = design_matrix(prefix)
    assert confounded_terms(design, subset["Patient affiliation"]) == ["id prefix"]
    with pytest.raises(DesignError, match="'id prefix' is confounded with 'Patient affiliation'"):
        check_not_confounded(design, subset["Patient affiliation"])
