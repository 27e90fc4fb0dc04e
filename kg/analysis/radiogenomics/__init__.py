"""Radiogenomic statistics over the store: subject variables, covariate-adjusted association
inputs, ComBat harmonisation runs, feature reliability (ICC) runs and validated prediction runs.

The numbers come from :mod:`kg.analysis.stats`; this package reads the matrices from the data
plane, writes each run as a ``prov:Activity`` (its own source graph) with its tables in the
data plane, and finds the latest run of a kind for later analyses.
"""

from kg.analysis.radiogenomics.harmonise import (
    HarmonisationRun,
    harmonise,
    harmonised_features,
    write_harmonisation,
)
from kg.analysis.radiogenomics.prediction import PredictionRun, predict, write_prediction
from kg.analysis.radiogenomics.reliability import ReliabilityRun, feature_icc, latest_icc, write_reliability
from kg.analysis.radiogenomics.variables import subject_table

__all__ = [
    "HarmonisationRun",
    "PredictionRun",
    "ReliabilityRun",
    "feature_icc",
    "harmonise",
    "harmonised_features",
    "latest_icc",
    "predict",
    "subject_table",
    "write_harmonisation",
    "write_prediction",
    "write_reliability",
]
