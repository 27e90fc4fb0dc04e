"""Terminal tables on real data: widths, CURIEs, labels, 3 significant digits, ellipses."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kg.views.tables import display_frame, format_number, format_table

STATO_MWU = "http://purl.obolibrary.org/obo/STATO_0000076"
IGKG_ID = "https://w3id.org/igkg/id/"
MARKER = "EGFR mutation status"


@pytest.fixture(scope="module")
def nsclc(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv")


@pytest.fixture(scope="module")
def subjects_wide(nsclc: pd.DataFrame) -> pd.DataFrame:
    """30 columns as a subjects-by-features query returns them: subject IRI, clinical text, feature values."""
    subject = (IGKG_ID + "subject/nsclc/" + nsclc["Case ID"]).rename("subject")
    frame = pd.concat([subject, nsclc.drop(columns=["Case ID"])], axis=1).iloc[:, :30]
    assert frame.shape == (117, 30)
    return frame


@pytest.fixture(scope="module")
def associations(nsclc: pd.DataFrame) -> pd.DataFrame:
    """Mann-Whitney U of every feature by EGFR status with BH q, in the columns of ``features_for_gene``."""
    status = nsclc[MARKER]
    rows = []
    for feature in [c for c in nsclc.columns if c.startswith("original_")]:
        mutant, wild = nsclc.loc[status == 1, feature], nsclc.loc[status == 0, feature]
        test = stats.mannwhitneyu(mutant, wild, alternative="two-sided")
        rows.append(
            {
                "feature_iri": IGKG_ID + "feature/" + feature,
                "feature_name": feature,
                "target": IGKG_ID + "marker/egfr-mutation-status",
                "target_label": MARKER,
                "method": STATO_MWU,
                "statistic": float(test.statistic),
                "effect_size": float(test.statistic) / (len(mutant) * len(wild)),
                "p": float(test.pvalue),
                "n": len(mutant) + len(wild),
                "run": IGKG_ID + "analysis-run/0123456789abcdef",
            }
        )
    frame = pd.DataFrame(rows)
    frame.insert(8, "q", stats.false_discovery_control(frame["p"], method="bh"))
    return frame.sort_values(["p", "feature_name"], kind="stable").reset_index(drop=True)


def _widths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()]


@pytest.mark.parametrize("width", [60, 80, 120, 200])
def test_a_30_column_table_fits_the_width_and_says_what_it_left_out(
    subjects_wide: pd.DataFrame, width: int
) -> None:
    text = format_table(subjects_wide, width=width)
    assert max(_widths(text)) <= width
    assert "25 of 117 rows shown" in text
    shown_header = text.splitlines()[0]
    left_out = int(re.search(r"(\d+) columns? not shown", text).group(1))  # type: ignore[union-attr]
    assert 0 < left_out < 30
    # every column is either in the header or named in the note (the note may be cut at its end)
    assert len(shown_header.split()) >= 2
    assert "subject" in shown_header
    assert "\x1b[" not in text  # plain text, no colour codes


def test_a_table_is_the_same_text_every_time(subjects_wide: pd.DataFrame, associations: pd.DataFrame) -> None:
    assert format_table(subjects_wide) == format_table(subjects_wide.copy())
    assert format_table(associations) == format_table(associations.copy())


def test_iris_become_curies_and_ids_their_labels(associations: pd.DataFrame) -> None:
    text = format_table(associations, width=120)
    assert "http" not in text
    assert "STATO:0000076" in text
    assert MARKER in text
    assert "igkg:id/analysis-run/0123456789abcdef" in text
    # the feature's label column replaced its IRI column, under the id's name
    frame = display_frame(associations)
    assert list(frame.columns[:2]) == ["feature", "target"]
    assert frame["feature"].tolist() == associations["feature_name"].tolist()
    assert set(frame["target"]) == {MARKER}


def test_a_labels_mapping_replaces_ids_by_iri_or_curie(associations: pd.DataFrame) -> None:
    by_iri = display_frame(associations, labels={STATO_MWU: "Mann-Whitney U-test"})
    by_curie = display_frame(associations, labels={"STATO:0000076": "Mann-Whitney U-test"})
    assert set(by_iri["method"]) == set(by_curie["method"]) == {"Mann-Whitney U-test"}
    assert set(display_frame(associations)["method"]) == {"STATO:0000076"}


def _significant_digits(cell: str) -> int:
    mantissa = cell.split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


def test_numbers_have_3_significant_digits_and_small_p_values_are_scientific(
    associations: pd.DataFrame,
) -> None:
    frame = display_frame(associations)
    for column in ("effect_size", "p", "q"):
        for cell, value in zip(frame[column], associations[column], strict=True):
            assert _significant_digits(cell) == 3, (column, cell)
            assert float(cell) == pytest.approx(value, rel=5e-3)
    small = associations["p"] < 0.01
    assert small.any()
    assert all("e-" in cell for cell in frame.loc[small, "p"])
    assert all("e" not in cell for cell in frame.loc[~small, "p"])
    # whole numbers (most U statistics, n) are written in full, halves (ties) to 3 digits
    whole = associations["statistic"] % 1 == 0
    assert whole.any() and (~whole).any()
    assert frame.loc[whole, "statistic"].tolist() == [
        str(int(u)) for u in associations.loc[whole, "statistic"]
    ]
    assert all(_significant_digits(c.rstrip("0")) <= 3 for c in frame.loc[~whole, "statistic"])
    assert set(frame["n"]) == {"117"}


def test_the_top_row_reads_as_scipy_computed_it(associations: pd.DataFrame) -> None:
    top = associations.iloc[0]
    line = format_table(associations, width=120).splitlines()[2]
    assert top["feature_name"] in line
    assert f"{top['p']:.2e}" in line
    assert format_number(top["effect_size"]) in line


def test_long_text_is_cut_with_an_ellipsis_and_kept_whole_in_the_display_frame(shared_data: Path) -> None:
    diseases = pd.read_csv(shared_data / "diseases" / "disease_ontology" / "HumanDO.tsv", sep="\t")
    long = diseases[diseases["label"].str.len() > 80].head(12)
    assert len(long) == 12
    frame = pd.DataFrame(
        {
            "disease": "http://purl.obolibrary.org/obo/" + long["id"].str.replace(":", "_"),
            "disease_label": long["label"],
            "parent": long["subClassOf"],
        }
    )
    text = format_table(frame, width=120)
    assert max(_widths(text)) <= 120
    body = text.splitlines()[2:]
    assert len(body) == 12
    assert all("…" in line for line in body)
    assert "http" not in text
    shown = display_frame(frame)
    assert shown["disease"].tolist() == long["label"].tolist()


def test_an_id_without_a_label_falls_back_to_its_curie(associations: pd.DataFrame) -> None:
    frame = associations.head(3).copy()
    frame.loc[1, "target_label"] = np.nan
    shown = display_frame(frame)
    assert shown["target"].tolist() == [MARKER, "igkg:id/marker/egfr-mutation-status", MARKER]


def test_an_empty_result_says_so() -> None:
    text = format_table(pd.DataFrame({"disease": pd.Series(dtype=object), "q": pd.Series(dtype=float)}))
    assert "disease" in text and "no rows" in text


def test_a_width_too_small_is_an_error(associations: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="width of at least 20"):
        format_table(associations, width=10)
