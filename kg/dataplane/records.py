"""Records of the data plane: a committed matrix file, what a file holds, what recovery did."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CHECKSUM_ALGORITHM",
    "FORMAT_VERSION",
    "KEY_COLUMNS",
    "LAYOUTS",
    "MEDIA_TYPE",
    "METADATA_KEY",
    "MatrixFile",
    "MatrixInfo",
    "RecoveryReport",
]

MEDIA_TYPE = "application/vnd.apache.parquet"
"""IANA media type of Parquet (registered 2024), the DCAT ``mediaType`` of every matrix file."""

CHECKSUM_ALGORITHM = "sha256"
METADATA_KEY = "igkg.matrix"
"""Key of the JSON document in each file's Parquet key-value metadata (column map, levels, keys)."""
FORMAT_VERSION = 1
KEY_COLUMNS = ("subject", "roi", "replicate")
"""Row keys of a wide matrix, in this order; ``subject`` is required, the others optional."""
LAYOUTS = ("wide", "by-variable")


@dataclass(frozen=True)
class MatrixFile:
    """One committed (or prepared) matrix file: what the catalog records as a DCAT distribution.

    ``path`` is relative to the data plane's root, with ``/`` separators; ``checksum`` is the
    hex SHA-256 of the file's bytes; ``rows`` and ``columns`` count observations and
    variables (keys excluded) whatever the layout.

    >>> f = MatrixFile("a/b/radiomics.parquet", "0" * 64, 10, 3, 2, "radiomics", "radiomics-csv/a.csv", "v1")
    >>> MatrixFile.from_dict(f.to_dict()) == f
    True
    """

    path: str
    checksum: str
    byte_size: int
    rows: int
    columns: int
    kind: str
    source_key: str
    version: str
    name: str = ""
    layout: str = "wide"
    media_type: str = MEDIA_TYPE
    checksum_algorithm: str = CHECKSUM_ALGORITHM

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-ready) with every field.

        >>> record = MatrixFile(path="clinical_t/v1/clinical.parquet", checksum="ab" * 32, byte_size=927, rows=2, columns=1,
        ...                     kind="clinical", source_key="clinical/t.csv", version="v1", name="clinical", layout="wide")
        >>> record.to_dict()["rows"], record.to_dict()["checksum_algorithm"]
        (2, 'sha256')
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatrixFile:
        """The record back from :meth:`to_dict` (unknown keys are ignored).

        >>> record = MatrixFile(path="clinical_t/v1/clinical.parquet", checksum="ab" * 32, byte_size=927, rows=2, columns=1,
        ...                     kind="clinical", source_key="clinical/t.csv", version="v1", name="clinical", layout="wide")
        >>> MatrixFile.from_dict({**record.to_dict(), "unknown": 1}) == record
        True
        """
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class MatrixInfo:
    """What one matrix file holds, read from its Parquet footer.

    ``column_map`` maps each variable as loaded (pyradiomics name, gene symbol) to its IRI
    (``""`` when none was given); ``levels`` the categories of each categorical variable;
    ``keys`` the row-key columns present; ``subjects`` the subject axis of a
    ``by-variable`` file (empty for ``wide``).

    >>> import tempfile, pandas as pd
    >>> from kg.dataplane import DataPlane
    >>> plane = DataPlane(tempfile.mkdtemp())
    >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables=["age", "sex"], categorical=["sex"]) as writer:
    ...     writer.write(pd.DataFrame({"subject": ["s1", "s2"], "age": [61.0, 70.5], "sex": ["F", "M"]}))
    ...     record = writer.prepare()
    ...     _ = writer.finalise()
    >>> info = plane.info(record)
    >>> info.variables, info.levels
    (['age', 'sex'], {'sex': ['F', 'M']})
    """

    layout: str
    kind: str
    source_key: str
    version: str
    name: str
    keys: tuple[str, ...]
    column_map: dict[str, str]
    levels: dict[str, list[str]]
    rows: int
    dtype: str = "float64"
    subjects: tuple[str, ...] = ()

    @property
    def variables(self) -> list[str]:
        """The variables in file order.

        >>> MatrixInfo(layout="wide", kind="clinical", source_key="clinical/t.csv", version="v1", name="clinical",
        ...            keys=("subject",), column_map={"age": "", "sex": ""}, levels={}, rows=2).variables
        ['age', 'sex']
        """
        return list(self.column_map)


@dataclass
class RecoveryReport:
    """What :meth:`DataPlane.recover` did: staging removed, prepared files rolled forward,
    unlisted files removed, and listed files that are missing (an error when read).

    >>> RecoveryReport(removed_staging=["clinical_t/v1/.staging-1"])
    RecoveryReport(removed_staging=['clinical_t/v1/.staging-1'], rolled_forward=[], removed_files=[], missing=[], busy_staging=[])
    """

    removed_staging: list[str] = field(default_factory=list)
    rolled_forward: list[str] = field(default_factory=list)
    removed_files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    busy_staging: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when recovery found nothing to do.

        >>> RecoveryReport().clean, RecoveryReport(missing=["a.parquet"]).clean
        (True, False)
        """
        return not (self.removed_staging or self.rolled_forward or self.removed_files or self.missing)
