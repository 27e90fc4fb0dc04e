"""The columnar data plane: per-subject matrices as Parquet beside the graph, read with DuckDB.

The graph holds entities, relations and results; measured values (radiomic features per
ROI, traits, expression, markers, clinical variables, genotype dosages) live here, one
Parquet file per matrix of a source version, keyed by the graph's IRIs. Writes are staged and
committed in two phases around the store's catalog commit; reads select variables and
subjects without reading the rest.

Layouts (measured on this machine, see ``python -m kg.dataplane.bench``):

* ``wide`` (default): one row per subject (ROI, replicate), one float64 column per variable,
  categorical variables dictionary-encoded. DuckDB reads only the asked columns; 20,000 x
  4,000 writes in ~6 s and 100 columns read in ~0.2 s. Good up to ~20,000 variables (the
  footer grows with the columns: 100,000 columns make a 28 MB footer and 1.7 s reads).
* ``by-variable`` (genotype dosages, very wide matrices): one row per variable holding a
  fixed-size list over the subject axis (float32), in ~1 MiB row groups; written in blocks of
  variables, read by row-group number. 5,000 x 100,000 writes in ~20 s, 100 variants read
  in ~0.3-0.4 s.

With the store, per load: ``stage`` -> ``write`` ... -> ``prepare`` (record) -> catalog
commit listing the record -> ``finalise``; then ``drop`` the replaced version's files. On
open (write lock held): ``recover(keep=<paths the catalog lists>)``.
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
