"""Imaging GWAS: every feature against every variant by exact OLS, streamed over dosage blocks.

Model per test: ``feature ~ 1 + covariates + dosage`` on the subjects with genotypes, that feature and
every covariate; beta, se (df = n - k - 1), two-sided t-test p; missing dosages mean-imputed per
variant. Results have the columns ``feature, variant, chrom, pos, effect_allele, other_allele, eaf,
beta, se, p, n``; the dosage counts ``effect_allele``. No multiple-testing correction is applied here
(genome-wide significance, p <= 5e-8, is the usual threshold).

>>> import numpy as np, pandas as pd
>>> from kg.analysis.gwas import prepare_design, block_results, GwasOptions
>>> samples = pd.DataFrame({"fid": list("abcde"), "iid": list("abcde")})
>>> y = pd.DataFrame({"vol": [1.0, 2.0, 2.5, 4.0, 5.5]}, index=list("abcde"))
>>> design = prepare_design(samples, y)
>>> variants = pd.DataFrame({"id": ["rs1"], "chrom": ["1"], "pos": [10], "effect_allele": ["A"], "other_allele": ["G"]})
>>> row = block_results(design, np.array([[0.0], [1.0], [1.0], [2.0], [2.0]]), variants, GwasOptions()).iloc[0]
>>> row["feature"], row["variant"], float(round(row["beta"], 4)), int(row["n"])  # 5.5 / 2.8
('vol', 'rs1', 1.9643, 5)
"""

from ._dask import iter_linear_gwas_dask
from ._design import GwasDesign, GwasError, PhenotypeGroup, prepare_design
from ._kernel import BlockStats, block_statistics, two_sided_p
from ._run import (
    RESULT_COLUMNS,
    GenotypeSourceLike,
    GwasOptions,
    arrow_schema,
    block_results,
    block_table,
    iter_linear_gwas,
    linear_gwas,
    to_arrow,
    write_results,
)

__all__ = [
    "RESULT_COLUMNS",
    "BlockStats",
    "GenotypeSourceLike",
    "GwasDesign",
    "GwasError",
    "GwasOptions",
    "PhenotypeGroup",
    "arrow_schema",
    "block_results",
    "block_statistics",
    "block_table",
    "iter_linear_gwas",
    "iter_linear_gwas_dask",
    "linear_gwas",
    "prepare_design",
    "to_arrow",
    "two_sided_p",
    "write_results",
]
