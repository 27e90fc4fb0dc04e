"""kg.analysis.radiogenomics on real tables: subject variables of the TCIA clinical table, ICCs of
the Maastricht inter-observer study loaded with a replicate column (against pingouin), and
``--min-icc`` carrying those ICCs to the NSCLC features by feature node."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin
import pytest

from kg import KnowledgeGraph
from kg.analysis.associations.run import run_analysis
from kg.analysis.radiogenomics import feature_icc, latest_icc, subject_table, write_reliability
from kg.core.errors import AssociationError


@pytest.fixture(scope="module")
def clinical_kg(shared_data: Path):
    kg = KnowledgeGraph(None)
    kg.load(shared_data / "radiogenomics" / "nsclc_clinical_tcia.csv", kind="clinical")
    yield kg
    kg.close()


def test_subject_variables_are_typed_and_in_the_graph(clinical_kg: KnowledgeGraph, shared_data: Path) -> None:
    names = ["Age at Histological Diagnosis", "Gender", "Smoking status", "Patient affiliation"]
    table, graphs = subject_table(clinical_kg, names)
    raw = pd.read_csv(shared_data / "radiogenomics" / "nsclc_clinical_tcia.csv", dtype=str, keep_default_na=False)
    assert len(table) == len(raw) and graphs
    assert table["Age at Histological Diagnosis"].dtype == "float64"
    expected_age = pd.to_numeric(raw["Age at Histological Diagnosis"], errors="coerce")
    assert table["Age at Histological Diagnosis"].isna().sum() == expected_age.isna().sum()
    assert list(table["Patient affiliation"].cat.categories) == sorted(set(raw["Patient affiliation"]))
    smoking = set(raw["Smoking status"]) - {"", "N/A", "Not Collected", "Unknown"}
    assert set(table["Smoking status"].cat.categories) == smoking
    levels = clinical_kg.query(
        "SELECT ?level WHERE { ?v a igkg:SubjectVariable ; rdfs:label 'Smoking status' ; "
        "igkg:variableType 'categorical' ; igkg:level ?level }"
    )
    assert set(levels["level"]) == smoking
    kinds = clinical_kg.query("SELECT ?t WHERE { ?v rdfs:label 'Age at Histological Diagnosis' ; igkg:variableType ?t }")
    assert kinds["t"].tolist() == ["numeric"]
    with pytest.raises(AssociationError, match="no subject variable 'Age'; available: .*Age at Histological Diagnosis"):
        subject_table(clinical_kg, ["Age"])


@pytest.fixture(scope="module")
def interobserver_table(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The long Feature_table joined to ImageSpace_table (ROImask_name names the delineation),
    the unfiltered image (FeatureParameterSpace 1-3)."""
    archive = shared_data / "radiomics" / "maastricht_interobserver" / "Interobserver-Radiomics_IBSI_tables.zip"
    with zipfile.ZipFile(archive) as zf:
        with zf.open("Feature_table.csv") as fh:
            features = pd.read_csv(fh)
        with zf.open("ImageSpace_table.csv") as fh:
            spaces = pd.read_csv(fh)
    table = features.merge(spaces[["ImageSpace_name", "ROImask_name"]], on="ImageSpace_name", how="left", validate="many_to_one")
    table = table[table["FeatureParameterSpace_name"].isin([f"FeatureParameterSpace_{i}" for i in (1, 2, 3)])]
    path = tmp_path_factory.mktemp("interobserver") / "interobserver_features.csv"
    table.drop(columns=["ImageSpace_name"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("kind", ["agreement", "consistency"])
def test_icc_of_a_loaded_replicate_table_equals_pingouin(interobserver_table: Path, kind: str, monkeypatch) -> None:
    monkeypatch.setitem(pingouin.options, "round.column.CI95", None)
    raw = pd.read_csv(interobserver_table)
    with KnowledgeGraph(None) as kg:
        report = kg.load(interobserver_table, kind="radiomics-csv", replicate_column="ROImask_name", cohort="interobserver")
        assert any("by subject and replicate" in note for note in report.notes)
        run = feature_icc(kg, replicate_column="ROImask_name", kind=kind, cohort="interobserver")
        table = run.table.set_index("feature")
        assert list(run.table.columns) == ["feature", "icc", "ci_low", "ci_high", "n"] and len(table) > 40
        row_type = {"agreement": "ICC(A,1)", "consistency": "ICC(C,1)"}[kind]
        for name in table.index[:: max(1, len(table) // 12)]:
            base, _, setting = name.partition(" @")
            rows = raw[raw["Feature_name"] == base]
            if setting:
                rows = rows[rows["FeatureParameterSpace_name"] == setting.split(",")[0]]
            ref = pingouin.intraclass_corr(rows, targets="PatientID", raters="ROImask_name", ratings="Value", nan_policy="omit")
            ref = ref.set_index("Type").loc[row_type]
            got = table.loc[name]
            np.testing.assert_allclose([got["icc"], got["ci_low"], got["ci_high"]], [ref["ICC"], *ref["CI95"]], rtol=1e-6, err_msg=name)
            assert got["n"] == ref["df1"] + 1 == 20
        write_reliability(kg, run)
        stored = kg.query("SELECT (COUNT(?e) AS ?n) WHERE { ?e a igkg:FeatureReliability ; igkg:icc ?i ; igkg:ratedFeature ?f ; prov:wasGeneratedBy ?run . ?run a prov:Activity }")
        assert int(stored["n"].iloc[0]) == int(table["icc"].notna().sum() - sum(1 for f in table.index if not run.feature_iris.get(f)))
        run_id, iccs, note = latest_icc(kg, cohort="interobserver")
        assert run_id == run.run_id and "for cohort 'interobserver'" in note
        assert iccs.set_index("feature")["icc"].to_dict() == pytest.approx(table["icc"].dropna().to_dict())


def test_min_icc_keeps_robust_features_by_feature_node(interobserver_table: Path, shared_data: Path) -> None:
    with KnowledgeGraph(None) as kg:
        kg.load(interobserver_table, kind="radiomics-csv", replicate_column="ROImask_name", cohort="interobserver")
        run = feature_icc(kg, replicate_column="ROImask_name", cohort="interobserver")
        write_reliability(kg, run)
        kg.load(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv", kind="radiomics-csv", cohort="NSCLC")
        plain = run_analysis(kg, markers=["EGFR"], cohort="NSCLC", q_max=1.0)
        robust = run_analysis(kg, markers=["EGFR"], cohort="NSCLC", q_max=1.0, min_icc=0.9)
        kept = set(robust.results["feature"])
        # the ICC run's own graph is an input of the filtered run (prov:used), not of the plain one
        icc_graph = next(iter({g for g in kg.matrix_graphs(kind="feature-reliability").values() if run.run_id in g}))
        assert icc_graph in robust.used and icc_graph not in plain.used
        assert 0 < len(kept) < plain.results["feature"].nunique()
        note = next(n for n in robust.notes if n.startswith("--min-icc 0.9"))
        assert f"kept {len(kept)} feature(s), dropped {plain.results['feature'].nunique() - len(kept)}" in note
        # every kept feature's node has an ICC >= 0.9 in the interobserver study, every dropped one has not
        by_iri = run.table.assign(iri=[run.feature_iris.get(f, "") for f in run.table["feature"]]).groupby("iri")["icc"].min()
        for feature in plain.results["feature"].unique():
            iri = plain.feature_iris[feature]
            assert (feature in kept) == (iri in by_iri.index and by_iri[iri] >= 0.9), feature


@pytest.fixture(scope="module")
def nsclc_kg(shared_data: Path):
    kg = KnowledgeGraph(None)
    kg.load(shared_data / "radiogenomics" / "nsclc_clinical_tcia.csv", kind="clinical")
    kg.load(shared_data / "radiogenomics" / "nsclc_radiogenomics_original_features.csv", kind="radiomics-csv", values="columnar")
    yield kg
    kg.close()


def test_harmonise_refuses_a_one_subject_batch_and_a_confounded_covariate(nsclc_kg: KnowledgeGraph) -> None:
    from kg.analysis.radiogenomics import harmonise
    from kg.analysis.stats.errors import HarmonisationError

    # M1a: one subject of the 117 with features
    with pytest.raises(HarmonisationError, match="one subject"):
        harmonise(nsclc_kg, batch="Pathological M stage")
    with pytest.raises(HarmonisationError, match="confounded"):
        harmonise(nsclc_kg, batch="Patient affiliation", covariates=["Patient affiliation"])


def test_runs_are_activities_with_inputs_and_other_settings_add_a_run(nsclc_kg: KnowledgeGraph) -> None:
    from kg.analysis.radiogenomics import harmonise, harmonised_features, write_harmonisation

    first = harmonise(nsclc_kg, batch="Patient affiliation", covariates=["Gender"])
    second = harmonise(nsclc_kg, batch="Patient affiliation", covariates=["Gender"], mean_only=True)
    assert first.run_id != second.run_id
    for run in (first, second):
        write_harmonisation(nsclc_kg, run)
    activities = nsclc_kg.query(
        "SELECT ?run ?id (COUNT(DISTINCT ?used) AS ?inputs) WHERE { ?run a igkg:HarmonisationRun, prov:Activity ; "
        "igkg:settingsHash ?id ; igkg:softwareVersion ?v ; igkg:parameters ?p ; prov:used ?used } GROUP BY ?run ?id"
    )
    assert set(activities["id"]) == {first.run_id, second.run_id}
    assert (activities["inputs"].astype(int) >= 4).all()  # feature and clinical graphs and their matrix files
    batches = nsclc_kg.query(
        "SELECT ?level ?n WHERE { ?run igkg:settingsHash ?id ; igkg:batch ?b . ?b igkg:batchLevel ?level ; igkg:sampleSize ?n . "
        f"FILTER(?id = '{first.run_id}') }}"
    )
    assert dict(zip(batches["level"], batches["n"].astype(int), strict=True)) == first.parameters["n_per_batch"]
    latest, features = harmonised_features(nsclc_kg)
    assert latest == second.run_id
    np.testing.assert_allclose(features.features.loc[second.data.index, second.data.columns].to_numpy(), second.data.to_numpy())
    chosen, features = harmonised_features(nsclc_kg, first.run_id)
    assert chosen == first.run_id
    np.testing.assert_allclose(features.features.loc[first.data.index, first.data.columns].to_numpy(), first.data.to_numpy())
