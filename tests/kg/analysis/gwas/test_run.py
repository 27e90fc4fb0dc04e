"""``run_gwas`` on REGENIE's example loaded into a store: statsmodels OLS numbers on sampled variants,
the strongest hit in the graph with its run, all tests in the data plane, BGEN agreeing with PLINK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kg import KnowledgeGraph
from kg.analysis.gwas.run import MODEL, run_gwas
from loaders._genotypes import open_plink

FEATURES = {"Y1": "original_shape_MeshVolume", "Y2": "original_firstorder_Mean"}
COVARIATES = ["V1", "V2", "V3"]


def _example(shared: Path) -> Path:
    return shared / "genotypes" / "regenie_example"


def _tables(shared: Path, folder: Path) -> Path:
    """The example's phenotypes Y1, Y2 as two pyradiomics-named features with the covariates beside them, keyed by IID."""
    example = _example(shared)
    phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").rename(columns=FEATURES)
    covariates = pd.read_csv(example / "covariates.txt", sep=" ")
    table = phenotypes.drop(columns="FID").merge(covariates.drop(columns="FID"), on="IID")
    path = folder / "features.csv"
    table.to_csv(path, index=False)
    return path


def _store(location: Path, shared: Path, genotypes: str) -> KnowledgeGraph:
    kg = KnowledgeGraph(location)
    example = _example(shared)
    options = {"id_delim": "_"} if genotypes.endswith(".bgen") else {}
    kg.load(example / genotypes, build="GRCh37", **options)
    kg.load(_tables(shared, location.parent), kind="radiomics-csv", id_column="IID")
    return kg


@pytest.fixture(scope="module")
def plink_run(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[KnowledgeGraph, object]:
    folder = tmp_path_factory.mktemp("plink")
    kg = _store(folder / "store", shared_data, "example.bed")
    result = run_gwas(kg, covariates=COVARIATES, p_max=1e-3)
    yield kg, result
    kg.close()


def test_sampled_variants_equal_statsmodels_ols(plink_run: tuple[KnowledgeGraph, object], shared_data: Path) -> None:
    kg, result = plink_run
    example = _example(shared_data)
    stored = kg.data_plane.matrix(kg.matrix_files(kind="gwas"))
    assert len(stored) == result.tests == len(FEATURES) * 1000
    source = open_plink(example / "example.bed")
    phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").set_index("IID")
    covariates = pd.read_csv(example / "covariates.txt", sep=" ").set_index("IID")
    rng = np.random.default_rng(15)
    sampled = sorted(rng.choice(source.n_variants, size=12, replace=False))
    rows = stored.reset_index(drop=True)
    for index in sampled:
        variant = source.variants.iloc[index]
        dosage = source.read(index, index + 1)[:, 0]
        dosage = np.where(np.isnan(dosage), np.nanmean(dosage), dosage)
        frame = pd.DataFrame({"dosage": dosage}, index=source.samples["iid"].astype(int))
        for column, feature in FEATURES.items():
            data = covariates[COVARIATES].join(phenotypes[column]).join(frame).dropna()
            fit = sm.OLS(data[column], sm.add_constant(data[[*COVARIATES, "dosage"]])).fit()
            row = rows[(rows["feature"] == feature) & (rows["variant"] == str(variant["id"]))].iloc[0]
            assert row["effect_allele"] == str(variant["effect_allele"])  # the allele the dosage counts
            assert row["n"] == int(fit.nobs)
            np.testing.assert_allclose([row["beta"], row["se"], row["p"]],
                                       [fit.params["dosage"], fit.bse["dosage"], fit.pvalues["dosage"]], rtol=1e-6)


def test_the_strongest_hit_is_an_association_feature_to_variant_with_its_run(plink_run: tuple[KnowledgeGraph, object]) -> None:
    kg, result = plink_run
    best = result.hits.sort_values("p").iloc[0]
    found = kg.query("""SELECT ?name ?id ?beta ?p ?n ?allele ?run ?params WHERE {
        ?a a igkg:RadiogenomicAssociation ; igkg:feature ?f ; igkg:target ?v ; igkg:effectSize ?beta ; igkg:pValue ?p ;
           igkg:sampleSize ?n ; igkg:effectAllele ?allele ; prov:wasGeneratedBy ?run .
        ?f igkg:pyradiomicsName ?name . ?v a igkg:Variant ; igkg:identifier ?id .
        ?run a igkg:GwasRun , prov:Activity ; igkg:parameters ?params } ORDER BY ?p LIMIT 1""")
    assert found["name"].iloc[0] == best["feature"] and str(found["id"].iloc[0]) == best["variant"]
    assert float(found["beta"].iloc[0]) == pytest.approx(float(best["beta"]), rel=1e-12)
    assert int(found["n"].iloc[0]) == int(best["n"]) == 500
    assert MODEL in found["params"].iloc[0] and '"multiple_testing": "none beyond the p threshold"' in found["params"].iloc[0]
    n = kg.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a igkg:RadiogenomicAssociation }")
    assert int(n["n"].iloc[0]) == len(result.hits) == int((result.hits["p"] <= 1e-3).sum())


def test_bgen_run_agrees_with_plink_run(plink_run: tuple[KnowledgeGraph, object], shared_data: Path, tmp_path: Path) -> None:
    kg, _ = plink_run
    with _store(tmp_path / "store", shared_data, "example.bgen") as other:
        run_gwas(other, covariates=COVARIATES, p_max=1e-3)
        bgen = other.data_plane.matrix(other.matrix_files(kind="gwas")).reset_index(drop=True)
    plink = kg.data_plane.matrix(kg.matrix_files(kind="gwas")).reset_index(drop=True)
    key = ["feature", "variant"]
    merged = plink.merge(bgen, on=key, suffixes=("_plink", "_bgen"))
    assert len(merged) == len(plink) == len(bgen)
    assert (merged["effect_allele_plink"] == merged["effect_allele_bgen"]).all()
    for column in ("beta", "se", "p", "eaf"):
        np.testing.assert_allclose(merged[f"{column}_bgen"], merged[f"{column}_plink"], rtol=1e-5, atol=1e-9)


def test_covariates_from_the_example_covariate_file_loaded_as_a_clinical_table(
        plink_run: tuple[KnowledgeGraph, object], tmp_path: Path, shared_data: Path) -> None:
    kg, _ = plink_run
    example = _example(shared_data)
    with KnowledgeGraph(tmp_path / "store") as other:
        other.load(example / "example.bed", build="GRCh37")
        phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").rename(columns=FEATURES).drop(columns="FID")
        phenotypes.to_csv(tmp_path / "features.csv", index=False)
        other.load(tmp_path / "features.csv", kind="radiomics-csv", id_column="IID")
        other.load(example / "covariates.txt", kind="clinical", id_column="IID", sep=" ")  # FID IID V1 V2 V3
        result = run_gwas(other, covariates=COVARIATES, p_max=1e-3, store=False, output=tmp_path / "all.parquet")
    assert result.tests == 2000 and result.parameters["covariates"] == COVARIATES
    mine = pd.read_parquet(tmp_path / "all.parquet").reset_index(drop=True)
    stored = kg.data_plane.matrix(kg.matrix_files(kind="gwas")).reset_index(drop=True)
    merged = mine.merge(stored, on=["feature", "variant"], suffixes=("", "_beside"))
    assert len(merged) == 2000
    for column in ("beta", "se", "p"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_beside"], rtol=1e-12)


def test_missing_phenotype_or_covariate_drops_the_subject_and_n_says_so(tmp_path: Path, shared_data: Path) -> None:
    example = _example(shared_data)
    phenotypes = pd.read_csv(example / "phenotype.txt", sep=" ").rename(columns=FEATURES).drop(columns="FID")
    covariates = pd.read_csv(example / "covariates.txt", sep=" ").drop(columns="FID")
    table = phenotypes.merge(covariates, on="IID")
    table.loc[table.index % 7 == 0, FEATURES["Y2"]] = np.nan  # Y2 missing for every 7th subject
    table.loc[table.index % 50 == 1, "V2"] = np.nan  # a covariate missing for every 50th: dropped from both
    table.to_csv(tmp_path / "features.csv", index=False, na_rep="NA")
    with KnowledgeGraph(tmp_path / "store") as kg:
        kg.load(example / "example.bed", build="GRCh37")
        kg.load(tmp_path / "features.csv", kind="radiomics-csv", id_column="IID")
        result = run_gwas(kg, covariates=COVARIATES, p_max=1.0, store=False, output=tmp_path / "all.csv")
    rows = pd.read_csv(tmp_path / "all.csv", dtype={"variant": str})
    source = open_plink(example / "example.bed")
    complete = table.set_index("IID")
    for feature in FEATURES.values():
        used = complete[[feature, *COVARIATES]].dropna()
        assert set(rows.loc[rows["feature"] == feature, "n"]) == {len(used)}
        dosage = pd.Series(source.read(10, 11)[:, 0], index=source.samples["iid"].astype(int))
        dosage = dosage.fillna(dosage.mean())
        fit = sm.OLS(used[feature], sm.add_constant(used[COVARIATES].join(dosage.rename("dosage")))).fit()
        row = rows[(rows["feature"] == feature) & (rows["variant"] == str(source.variants["id"].iloc[10]))].iloc[0]
        np.testing.assert_allclose([row["beta"], row["se"], row["p"]], [fit.params["dosage"], fit.bse["dosage"], fit.pvalues["dosage"]],
                                   rtol=1e-6)
    assert result.tests == 2000
    assert len(complete[[FEATURES["Y2"], *COVARIATES]].dropna()) < len(complete[[FEATURES["Y1"], *COVARIATES]].dropna()) < 500


def test_streamed_run_stores_and_writes_every_test_block_by_block(tmp_path: Path, shared_data: Path) -> None:
    import pyarrow.parquet as pq

    from kg.analysis.gwas import RESULT_COLUMNS

    with _store(tmp_path / "store", shared_data, "example.bed") as kg:
        result = run_gwas(kg, covariates=COVARIATES, p_max=1e-3, block_size=128, output=tmp_path / "all.csv")
        (file,) = kg.matrix_files(kind="gwas")
        parquet = pq.ParquetFile(kg.data_plane.root / file.path)
        stored = kg.data_plane.matrix([file]).reset_index(drop=True)
    written = pd.read_csv(tmp_path / "all.csv")
    assert list(written.columns) == list(RESULT_COLUMNS)
    assert parquet.metadata.num_rows == result.tests == len(FEATURES) * 1000 == len(written)
    merged = stored.merge(written.astype({"variant": str}), on=["feature", "variant"], suffixes=("", "_csv"))
    assert len(merged) == len(written)
    np.testing.assert_allclose(merged["p_csv"], merged["p"], rtol=1e-12)
    assert result.strongest is not None and result.strongest["p"] == written["p"].min()
    assert len(result.hits) == int((written["p"] <= 1e-3).sum())
