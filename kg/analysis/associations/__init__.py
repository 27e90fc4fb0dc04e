"""The radiogenomic association engine: every imaging feature against every molecular target.

One public function per step: ``run_analysis`` reads the inputs from the store
(``inputs``), tests every pair with numpy/scipy kernels (``kernels.associate``) and
describes the run; ``write_run`` stores it with its provenance (``provenance``). Gene-set
scores for pathway targets come from ``gene_sets``.

>>> import pandas as pd
>>> f = pd.DataFrame({"original_firstorder_Mean": [1.0, 2, 3, 4, 5, 6]}, index=list("abcdef"))
>>> t = pd.DataFrame({"EGFR": [1.5, 2.5, 2.0, 5.0, 4.0, 7.0]}, index=list("abcdef"))
>>> associate(f, t, method="spearman", min_n=3)[["feature", "target", "statistic", "n"]]
                    feature target  statistic  n
0  original_firstorder_Mean   EGFR   0.885714  6
"""

from __future__ import annotations

from kg.analysis.associations.gene_sets import GeneSet, gene_set_scores, read_gmt
from kg.analysis.associations.inputs import (
    expression_targets,
    imaging_features,
    marker_targets,
    pathway_targets,
)
from kg.analysis.associations.kernels import (
    METHODS,
    RESULT_COLUMNS,
    Method,
    associate,
    benjamini_hochberg,
    rank_columns,
)
from kg.analysis.associations.provenance import (
    RESULTS_KIND,
    RUN_KIND,
    read_results,
    run_identifier,
    run_triples,
    write_run,
)
from kg.analysis.associations.records import AnalysisInput, AssociationRun
from kg.analysis.associations.run import default_method, run_analysis
from kg.core.errors import AssociationError

__all__ = [
    "METHODS",
    "RESULTS_KIND",
    "RESULT_COLUMNS",
    "RUN_KIND",
    "AnalysisInput",
    "AssociationError",
    "AssociationRun",
    "GeneSet",
    "Method",
    "associate",
    "benjamini_hochberg",
    "default_method",
    "expression_targets",
    "gene_set_scores",
    "imaging_features",
    "marker_targets",
    "pathway_targets",
    "rank_columns",
    "read_gmt",
    "read_results",
    "run_analysis",
    "run_identifier",
    "run_triples",
    "write_run",
]
