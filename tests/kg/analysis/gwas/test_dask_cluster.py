"""The GWAS on a real local dask cluster (a scheduler and two worker processes) gives the local numbers.

The ``cluster`` fixture is shared: ``tests/kg/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from distributed import Client

from kg.analysis.gwas import iter_linear_gwas, iter_linear_gwas_dask
from loaders._genotypes import open_genotypes

ROOT = Path(__file__).resolve().parents[4]
VCF = ROOT / "tests" / "data" / "vcf" / "regenie_subset.vcf"


def read_keyed(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, sep=r"\s+", dtype={"FID": str, "IID": str})
    return table.drop(columns="FID").set_index("IID")


def assert_same(local: list[pd.DataFrame], remote: list[pd.DataFrame]) -> None:
    assert len(local) == len(remote)
    for a, b in zip(local, remote, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_two_workers_give_identical_numbers(cluster: Client, shared_data: Path) -> None:
    regenie = shared_data / "genotypes" / "regenie_example"
    pheno = read_keyed(regenie / "phenotype.txt")
    cov = read_keyed(regenie / "covariates.txt")[["V1", "V2", "V3"]]
    pheno.loc[pheno.index[::9], "Y2"] = np.nan
    assert len(cluster.scheduler_info()["workers"]) == 2
    # workers open the .bed themselves (random access)
    with open_genotypes(regenie / "example.bed") as source:
        local = list(iter_linear_gwas(source, pheno, cov, block_size=100))
        remote = list(iter_linear_gwas_dask(cluster, source, pheno, cov, block_size=100))
    assert_same(local, remote)
    assert sum(len(frame) for frame in remote) == 2000
    # both workers did some of the work
    done = cluster.run(lambda: len(__import__("kg.analysis.gwas._dask", fromlist=["_"])._OPEN_SOURCES))
    assert sorted(done.values()) == [1, 1]
    # a VCF is streamed here and its blocks shipped to the workers
    with open_genotypes(VCF) as vcf:
        local = list(iter_linear_gwas(vcf, pheno, cov, block_size=16))
        remote = list(iter_linear_gwas_dask(cluster, vcf, pheno, cov, block_size=16, max_in_flight=2))
    assert_same(local, remote)
    assert sum(len(frame) for frame in remote) == 120
