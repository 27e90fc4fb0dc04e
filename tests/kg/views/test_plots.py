"""Plots of real analyses: NSCLC features by EGFR status (Mann-Whitney U, BH) and ImaGene's lung features x genes (Spearman, BH)."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kg.views.plots import box, heatmap, results_matrix, save, to_svg, volcano

SVG = "{http://www.w3.org/2000/svg}"
MARKER = "EGFR mutation status"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def nsclc(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv").set_index(
        "Case ID"
    )


@pytest.fixture(scope="module")
def egfr_results(nsclc: pd.DataFrame) -> pd.DataFrame:
    """Every NSCLC feature against EGFR status: two-sided Mann-Whitney U, common-language effect size, BH q."""
    status = nsclc[MARKER]
    rows = []
    for feature in [c for c in nsclc.columns if c.startswith("original_")]:
        mutant, wild = nsclc.loc[status == 1, feature], nsclc.loc[status == 0, feature]
        test = stats.mannwhitneyu(mutant, wild, alternative="two-sided")
        rows.append(
            {
                "feature": feature,
                "statistic": test.statistic,
                "effect_size": test.statistic / (len(mutant) * len(wild)),
                "p": test.pvalue,
            }
        )
    results = pd.DataFrame(rows)
    results["q"] = stats.false_discovery_control(results["p"], method="bh")
    return results


@pytest.fixture(scope="module")
def lung_spearman(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ImaGene lung (44 patients): Spearman rho and BH q of 60 original features x 200 genes."""
    folder = shared_data / "radiogenomics" / "imagene_lung"
    expression = pd.read_csv(folder / "Lung_gene_expression_new_cohort_n44.csv").set_index("ID")
    features = (
        pd.read_csv(folder / "Lung_radiomic_features_new_cohort_n44.csv")
        .set_index("ID")
        .loc[expression.index]
    )
    f, g = features.filter(like="original_").iloc[:, :60], expression.iloc[:, :200]
    rho, p = stats.spearmanr(f.to_numpy(), g.to_numpy())
    k = f.shape[1]
    q = stats.false_discovery_control(p[:k, k:].ravel(), method="bh").reshape(k, g.shape[1])
    return (
        pd.DataFrame(rho[:k, k:], index=f.columns, columns=g.columns),
        pd.DataFrame(q, index=f.columns, columns=g.columns),
    )


def _svg(fig) -> ET.Element:  # type: ignore[no-untyped-def]
    return ET.fromstring(to_svg(fig))


def _group(root: ET.Element, gid: str) -> ET.Element | None:
    return next((g for g in root.iter(f"{SVG}g") if g.get("id") == gid), None)


def _markers(root: ET.Element, gid: str) -> int:
    group = _group(root, gid)
    return 0 if group is None else sum(1 for _ in group.iter(f"{SVG}use"))


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_a_volcano_plot_has_one_marker_per_test_and_names_the_top_hits(egfr_results: pd.DataFrame) -> None:
    fig = volcano(egfr_results, effect="effect_size", null=0.5, n_labels=5)
    root = _svg(fig)
    significant = int((egfr_results["q"] <= 0.05).sum())
    assert _markers(root, "volcano-significant") == significant
    assert _markers(root, "volcano-significant") + _markers(root, "volcano-other") == len(egfr_results) == 107
    texts = _texts(root)
    top = egfr_results.nsmallest(5, "p")["feature"].tolist()
    assert top[0] == "original_firstorder_Minimum"
    assert all(name in texts for name in top)
    sixth = egfr_results.nsmallest(6, "p")["feature"].iloc[5]
    assert sixth not in texts
    assert f"107 tests, {significant} with q ≤ 0.05" in texts


def test_a_volcano_plot_colours_what_passes_q_max(egfr_results: pd.DataFrame) -> None:
    # no q <= 0.05 on this cohort (lowest 0.40); at q_max = 0.85 all but the q > 0.85 tests pass
    assert egfr_results["q"].min() > 0.05
    root = _svg(volcano(egfr_results, q_max=0.85))
    passing = int((egfr_results["q"] <= 0.85).sum())
    assert 0 < passing < len(egfr_results)
    assert _markers(root, "volcano-significant") == passing
    assert _markers(root, "volcano-other") == len(egfr_results) - passing


def test_png_and_svg_files_are_real_and_the_same_bytes_every_time(
    egfr_results: pd.DataFrame, tmp_path: Path
) -> None:
    for name in ("a", "b"):
        fig = volcano(egfr_results, effect="effect_size", null=0.5)
        save(fig, tmp_path / f"{name}.png")
        save(fig, tmp_path / f"{name}.svg")
    png = (tmp_path / "a.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (640, 480)  # 6.4 x 4.8 in at 100 dpi
    assert png == (tmp_path / "b.png").read_bytes()
    svg = (tmp_path / "a.svg").read_bytes()
    assert svg == (tmp_path / "b.svg").read_bytes()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert b"<dc:date>" not in svg
    assert (
        to_svg(volcano(egfr_results, effect="effect_size", null=0.5))
        == svg.decode()[svg.decode().index("<svg") :]
    )


def test_the_same_picture_from_another_process_is_the_same_bytes(
    egfr_results: pd.DataFrame, tmp_path: Path
) -> None:
    here = tmp_path / "here.svg"
    save(volcano(egfr_results), here)
    egfr_results.to_csv(tmp_path / "results.csv", index=False)
    code = (
        "import sys, pandas as pd; from kg.views.plots import save, volcano; "
        "save(volcano(pd.read_csv(sys.argv[1])), sys.argv[2]); "
        "assert 'matplotlib.pyplot' not in sys.modules, 'plots imported pyplot'"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "results.csv"), str(tmp_path / "there.svg")],
        check=True,
        env={"PYTHONHASHSEED": "1", "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[3],
    )
    assert (tmp_path / "there.svg").read_bytes() == here.read_bytes()


def test_plots_leave_matplotlib_settings_as_they_were(egfr_results: pd.DataFrame, tmp_path: Path) -> None:
    before = dict(matplotlib.rcParams)
    save(volcano(egfr_results), tmp_path / "v.svg")
    assert dict(matplotlib.rcParams) == before


def test_a_heatmap_draws_the_top_cells_and_stars_those_with_small_q(
    lung_spearman: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    rho, q = lung_spearman
    fig = heatmap(rho, top=20, top_columns=15, q=q, q_max=0.5, value_label="Spearman rho")
    root = _svg(fig)
    cells = _group(root, "heatmap-cells")
    assert cells is not None and sum(1 for _ in cells.iter(f"{SVG}path")) == 20 * 15
    texts = _texts(root)
    strongest = rho.abs().max(axis=1).sort_values(ascending=False, kind="stable").index[:20]
    assert all(name in texts for name in strongest)
    assert rho.abs().max(axis=1).idxmax() in texts
    genes = rho.loc[strongest].abs().max(axis=0).sort_values(ascending=False, kind="stable").index[:15]
    assert all(gene in texts for gene in genes)
    expected_stars = int((q.loc[strongest, genes] <= 0.5).to_numpy().sum())
    stars = [g for g in root.iter(f"{SVG}g") if (g.get("id") or "").startswith("heatmap-star-")]
    assert 0 < expected_stars == len(stars)


def test_a_clustered_heatmap_puts_the_same_cells_in_a_different_order(
    lung_spearman: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    rho, _ = lung_spearman
    plain, clustered = (
        _svg(heatmap(rho, top=20, top_columns=15)),
        _svg(heatmap(rho, top=20, top_columns=15, cluster=True)),
    )
    names = set(rho.index) | set(rho.columns)
    plain_labels = [t for t in _texts(plain) if t in names]
    clustered_labels = [t for t in _texts(clustered) if t in names]
    assert sorted(plain_labels) == sorted(clustered_labels)
    assert plain_labels != clustered_labels


def test_results_matrix_pivots_long_results(lung_spearman: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    rho, _ = lung_spearman
    long = rho.rename_axis(index="feature", columns="target").stack().rename("statistic").reset_index()
    back = results_matrix(long)
    pd.testing.assert_frame_equal(
        back.loc[rho.index, rho.columns], rho.rename_axis(index="feature", columns="target")
    )
    with pytest.raises(ValueError, match="repeated"):
        results_matrix(pd.concat([long, long.head(1)]))


def test_a_box_plot_has_every_subject_and_n_per_group(nsclc: pd.DataFrame) -> None:
    status = nsclc[MARKER].map({0: "wild type", 1: "mutant"})
    feature = "original_firstorder_Minimum"
    root = _svg(box(nsclc[feature], status, marker=MARKER, order=["wild type", "mutant"]))
    assert _markers(root, "box-points-0") == 93
    assert _markers(root, "box-points-1") == 24
    texts = _texts(root)
    assert "(n = 93)" in texts and "(n = 24)" in texts
    assert texts.index("wild type") < texts.index("mutant")
    assert f"{feature} by {MARKER}" in texts


def test_a_box_plot_matches_subjects_by_index(nsclc: pd.DataFrame) -> None:
    feature = "original_shape_Sphericity"
    values = nsclc[feature].iloc[::-1]  # another order; the index says who is who
    groups = nsclc[MARKER].iloc[:60]  # only 60 subjects have a group
    root = _svg(box(values, groups))
    counts = groups.value_counts()
    assert _markers(root, "box-points-0") == counts[0]
    assert _markers(root, "box-points-1") == counts[1]
    with pytest.raises(ValueError, match="no subject has both"):
        box(values.reset_index(drop=True).rename(lambda i: f"x{i}"), groups)


def test_box_plots_jitter_the_same_way_every_time(nsclc: pd.DataFrame) -> None:
    first = to_svg(box(nsclc["original_glcm_Idm"], nsclc[MARKER]))
    assert first == to_svg(box(nsclc["original_glcm_Idm"], nsclc[MARKER]))


def test_save_refuses_other_suffixes(egfr_results: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"name it \.png or \.svg"):
        save(volcano(egfr_results), tmp_path / "v.pdf")
    assert not (tmp_path / "v.pdf").exists()
    save(volcano(egfr_results), tmp_path / "V.SVG")
    ET.parse(tmp_path / "V.SVG")


def test_a_volcano_plot_needs_its_columns(egfr_results: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no column 'pvalue'"):
        volcano(egfr_results, p="pvalue")
    empty = egfr_results.assign(p=np.nan)
    with pytest.raises(ValueError, match="no row has both"):
        volcano(empty)
