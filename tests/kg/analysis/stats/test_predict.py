"""Validated prediction: chance on a random label, a real marker (EGFR), selection inside the folds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from kg.analysis.stats.combat import fit_combat
from kg.analysis.stats.errors import StatsError
from kg.analysis.stats.predict import (
    ComBatTransformer,
    UnivariateFilter,
    build_pipeline,
    delong_auc,
    predict_marker,
)


def _random_label(index: pd.Index, positives: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.r_[np.ones(positives), np.zeros(len(index) - positives)])
    return pd.Series(labels, index=index, name="random label")


@pytest.fixture(scope="module")
def random_result(imagene):
    label = _random_label(imagene.index, 22)
    return predict_marker(imagene, label, folds=5, repeats=10, permutations=20, seed=11)


def test_random_label_scores_chance(random_result, imagene):
    r = random_result
    assert (r.n, r.n_positive) == (44, 22)
    assert r.auc < 0.62
    assert r.auc_ci_low < 0.5 < r.auc_ci_high
    assert r.permutation_p > 0.05
    assert r.permutation_p == pytest.approx((1 + round(r.permutation_p * 21 - 1)) / 21)
    assert len(r.auc_per_repeat) == 10 and r.auc == pytest.approx(np.mean(r.auc_per_repeat))
    assert "DeLong" in r.ci_method and "permutation" in r.test
    assert len(r.features_used) <= 10 and set(r.features_used) <= set(imagene.columns)


def test_selection_before_the_folds_leaks(random_result, imagene):
    """The same pipeline with the 10 features chosen on all 44 subjects first: optimistic on a random label."""
    label = _random_label(imagene.index, 22)
    chosen = UnivariateFilter(k=10).fit(imagene.to_numpy(), label.to_numpy()).selected_
    leaky = predict_marker(
        imagene.iloc[:, chosen], label, select_k=None, folds=5, repeats=10, permutations=0, seed=11
    )
    assert leaky.auc > 0.62 > random_result.auc
    assert leaky.auc - random_result.auc > 0.15


def test_egfr_from_ct_radiomics(nsclc):
    marker = nsclc.table["EGFR mutation status"]
    first = predict_marker(nsclc.features, marker, repeats=5, permutations=20, seed=5)
    assert (first.n, first.n_positive) == (117, int(marker.sum()))
    assert first.auc_ci_low < first.auc < first.auc_ci_high
    assert 0 < first.permutation_p <= 1
    again = predict_marker(nsclc.features, marker, repeats=5, permutations=20, seed=5)
    assert again.to_dict() == first.to_dict()
    json.dumps(first.to_dict())  # serialisable for --output FILE.json
    other = predict_marker(nsclc.features, marker, repeats=5, permutations=0, seed=6)
    assert other.auc_per_repeat != first.auc_per_repeat
    # known status only: the TCIA marker with its 'Unknown' rows is reduced to subjects with a status
    clinical = nsclc.clinical_all
    tcia = clinical["KRAS mutation status"].reindex(nsclc.features.index)
    known = tcia.isin(["Mutant", "Wildtype"]).sum()
    kras = predict_marker(nsclc.features, tcia, permutations=0, repeats=2, seed=5)
    assert kras.n == known < len(nsclc.features) and kras.n_positive == (tcia == "Mutant").sum()


def test_external_validation_and_in_fold_harmonisation(nsclc):
    site = nsclc.clinical["Patient affiliation"]
    marker = nsclc.table["EGFR mutation status"]
    stanford, va = site.index[site == "Stanford"], site.index[site == "VA"]
    result = predict_marker(
        nsclc.features.loc[stanford],
        marker.loc[stanford],
        permutations=0,
        repeats=3,
        seed=2,
        external=(nsclc.features.loc[va], marker.loc[va]),
    )
    ext = result.external
    assert (result.n, ext.n, ext.n_positive) == (45, 72, int(marker.loc[va].sum()))
    assert ext.auc_ci_low <= ext.auc <= ext.auc_ci_high and "DeLong" in ext.ci_method
    harmonised = predict_marker(
        nsclc.features,
        marker,
        harmonise_batch=site,
        covariates=nsclc.clinical[["Gender", "Smoking status"]],
        permutations=0,
        repeats=2,
        seed=2,
    )
    assert harmonised.harmonisation["n_per_batch"] == {"Stanford": 45, "VA": 72}
    assert "ComBat" in harmonised.model
    assert {"covariate: Gender[T.Male]", "covariate: Smoking status[T.Nonsmoker]"} <= set(
        harmonised.features_used
    )


def test_combat_step_is_fitted_on_the_training_fold_only(nsclc):
    site = nsclc.clinical["Patient affiliation"]
    x = nsclc.features.iloc[:, :20]
    train, test = x.index[::2], x.index[1::2]
    step = clone(ComBatTransformer(batch=site)).fit(x.loc[train])
    assert step.model_.n_per_batch == {
        "Stanford": int((site.loc[train] == "Stanford").sum()),
        "VA": int((site.loc[train] == "VA").sum()),
    }
    expected = fit_combat(x.loc[train], site.loc[train]).apply(x.loc[test], site.loc[test])
    np.testing.assert_allclose(step.transform(x.loc[test]), expected.to_numpy(), rtol=1e-12)
    pipeline = build_pipeline(harmonise=ComBatTransformer(batch=site), select_k=5)
    fitted = pipeline.fit(x.loc[train], nsclc.table["EGFR mutation status"].loc[train].to_numpy())
    assert fitted.named_steps["harmonise"].model_.n_per_batch == step.model_.n_per_batch


def test_delong_auc_equals_its_definition(nsclc):
    y = nsclc.table["EGFR mutation status"].to_numpy()
    score = nsclc.features["original_firstorder_Skewness"].to_numpy()
    auc, var = delong_auc(y, score)
    assert auc == pytest.approx(roc_auc_score(y, score), rel=1e-12)
    pos, neg = score[y == 1], score[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    assert var == pytest.approx(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg), rel=1e-12)


def test_other_models_and_parallel_permutations(nsclc):
    marker = nsclc.table["EGFR mutation status"]
    forest = predict_marker(
        nsclc.features, marker, model="random-forest", n_estimators=50, repeats=2, permutations=0, seed=3
    )
    assert "random forest" in forest.model and forest.auc_ci_low < forest.auc < forest.auc_ci_high
    assert len(forest.features_used) == 10 and abs(sum(forest.feature_weights.values()) - 1) < 1e-9
    sparse = predict_marker(
        nsclc.features,
        marker,
        penalty="elasticnet",
        l1_ratio=0.9,
        C=0.1,
        select_k=30,
        repeats=2,
        permutations=0,
        seed=3,
        selection="mann-whitney",
    )
    assert "elastic-net" in sparse.model and len(sparse.features_used) < 30  # the L1 part drops some
    serial = predict_marker(nsclc.features.iloc[:, :30], marker, repeats=1, permutations=2, seed=3)
    parallel = predict_marker(
        nsclc.features.iloc[:, :30], marker, repeats=1, permutations=2, seed=3, n_jobs=2
    )
    assert serial.permutation_p == parallel.permutation_p and serial.null_auc_mean == parallel.null_auc_mean


def test_text_columns_are_refused(nsclc):
    with pytest.raises(StatsError, match="features: column 'Gender' is not numeric"):
        predict_marker(
            nsclc.table.drop(columns=["EGFR mutation status"]), nsclc.table["EGFR mutation status"]
        )
