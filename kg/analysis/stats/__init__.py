"""Numeric statistics for radiogenomics: designs, covariate-adjusted association, ComBat, ICC, prediction.

Pure kernels on pandas DataFrames (index = subject ids, columns = variables); nothing here
reads the store or the graph, and nothing imports the rest of igkg. Each module's docstring
states its model, test and multiple-testing correction:

* :mod:`.design` -- typed subject variables, ``MISSING_TOKENS``, treatment-coded designs,
  confounding of a covariate with a batch.
* :mod:`.regression` -- ``linear_association`` (OLS), ``logistic_association`` (Wald, separation
  reported), ``partial_spearman``.
* :mod:`.fdr` -- ``bh_fdr``, the Benjamini-Hochberg correction of every analysis.
* :mod:`.combat` -- ``combat``, ``fit_combat`` / ``ComBatModel.apply``.
* :mod:`.icc` -- ``icc`` (ICC(A,1), ICC(C,1) with CIs).
* :mod:`.predict` -- ``predict_marker`` (cross-validated AUC, DeLong CI, permutation p-value).

The modules are imported one by one (``predict`` pulls in scikit-learn).
"""
