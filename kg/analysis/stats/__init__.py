"""Numeric statistics for radiogenomics: designs, covariate-adjusted association, ComBat, ICC, prediction.

Pure kernels on pandas DataFrames (index = subject ids, columns = variables); nothing here
reads the store or the graph. Each module's docstring states its model, test and correction.
"""
