"""The columnar data plane: per-subject matrices as Parquet beside the graph, read with DuckDB.

The graph holds entities, relations and results; measured values (radiomic features per
ROI, traits, expression, markers, clinical variables, genotype dosages) live here, one
Parquet file per matrix of a source version, keyed by the graph's IRIs. Writes are staged and
committed in two phases around the store's catalog commit; reads select variables and
subjects without reading the rest.
"""

from kg.dataplane.errors import DataPlaneError, MatrixIntegrityError
from kg.dataplane.plane import DataPlane
from kg.dataplane.records import MEDIA_TYPE, MatrixFile, MatrixInfo, RecoveryReport
from kg.dataplane.writer import MatrixWriter

__all__ = [
    "MEDIA_TYPE",
    "DataPlane",
    "DataPlaneError",
    "MatrixFile",
    "MatrixInfo",
    "MatrixIntegrityError",
    "MatrixWriter",
    "RecoveryReport",
]
