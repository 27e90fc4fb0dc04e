"""Staged, atomic writes of one matrix file: write -> prepare -> (catalog commit) -> finalise.

The file is streamed into ``<root>/.staging/<uuid>/data.parquet`` one row group at a time
(the whole matrix is never held), checked, hashed, and renamed into place only by
:meth:`MatrixWriter.finalise`, which the caller runs after its catalog commit succeeded. A
``manifest.json`` written by :meth:`MatrixWriter.prepare` lets recovery finish a rename that
a crash interrupted after the catalog commit; everything else in staging is removed by the
next :meth:`DataPlane.recover`. A live writer holds an advisory lock on its staging folder
so that recovery in another process leaves it alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kg.dataplane._batches import WideBatches, column_map
from kg.core.files import sha256 as sha256_file
from kg.dataplane._fs import atomic_write_json, fsync_dir, remove_tree, slug
from kg.dataplane.errors import DataPlaneError
from kg.dataplane.records import FORMAT_VERSION, LAYOUTS, METADATA_KEY, MatrixFile


try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["MatrixWriter"]

logger = logging.getLogger(__name__)

STAGING = ".staging"
DATA_FILE = "data.parquet"
MANIFEST = "manifest.json"
LOCK = "lock"
ROW_GROUP_BYTES = 64 << 20
"""Target size of one row group (values only): bounds the writer's memory and lets DuckDB skip."""
VARIABLE_GROUP_BYTES = 1 << 20
"""Target size of one row group of a by-variable file (about 50 variants of 5,000 subjects)."""


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


class MatrixWriter:
    """Writes one matrix of one source version; use through :meth:`DataPlane.stage`.

    States: ``open`` (accepting batches) -> ``prepared`` (file closed, checked, hashed; the
    record is known) -> ``final`` (renamed into place); ``aborted`` from any state before
    ``final``. Leaving the ``with`` block without :meth:`finalise` aborts, unless a finalise
    was attempted (then recovery decides from the catalog).

    >>> import tempfile
    >>> import numpy as np
    >>> from kg.dataplane import DataPlane
    >>> plane = DataPlane(tempfile.mkdtemp())
    >>> import pandas as pd
    >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
    >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
    >>> writer.state, writer.prepare().rows, writer.state
    ('open', 2, 'prepared')
    >>> _ = writer.finalise()
    """

    def __init__(
        self,
        plane: Any,  # the DataPlane that stages this write (not imported: plane imports writer)
        source_key: str,
        version: str,
        *,
        kind: str,
        name: str | None = None,
        variables: Mapping[str, str] | Sequence[str] | None = None,
        categorical: Collection[str] = (),
        layout: str = "wide",
        subjects: Sequence[str] | None = None,
        dtype: str | None = None,
        origin: str | os.PathLike[str] | None = None,
        first_line: int | None = None,
        row_group_rows: int | None = None,
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
        if not source_key or not version or not kind:
            raise ValueError("source_key, version and kind are required")
        self.plane = plane
        self.source_key = source_key
        self.version = version
        self.kind = kind
        self.name = name or kind
        self.layout = layout
        self.origin = os.fspath(origin) if origin is not None else f"{kind} matrix of {source_key}"
        self.dtype = np.dtype(dtype or ("float64" if layout == "wide" else "float32"))
        if self.dtype not in (np.dtype("float64"), np.dtype("float32")):
            raise ValueError(f"dtype must be float64 or float32, not {self.dtype}")
        self.target = "/".join((slug(source_key), slug(version), f"{slug(self.name)}.parquet"))
        self._declared = variables
        self._row_group_rows = row_group_rows
        self._state = "open"
        self._finalise_tried = False
        self._record: MatrixFile | None = None
        self._writer: pq.ParquetWriter | None = None
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self.staging = plane.root / STAGING / uuid.uuid4().hex
        self.staging.mkdir(parents=True)
        self._lock_fd: int | None = _lock(self.staging / LOCK)
        self.staged_path = self.staging / DATA_FILE
        if isinstance(variables, Mapping):
            self._check_iris(variables)
        declared = list(variables) if variables is not None else None
        if declared is not None and len(set(declared)) != len(declared):
            dup = next(v for i, v in enumerate(declared) if v in declared[:i])
            self._fail(DataPlaneError(self.origin, "the variable appears twice", column=str(dup)))
        if layout == "wide":
            if subjects is not None:
                raise ValueError("subjects is for the by-variable layout; wide batches carry a 'subject' column")
            self._wide = WideBatches(self.origin, declared, frozenset(categorical), self.dtype, first_line)
        else:
            if categorical:
                raise ValueError("the by-variable layout holds numbers only (no categorical variables)")
            if subjects is None or len(subjects) == 0:
                raise ValueError("the by-variable layout needs the subject axis (subjects=[...])")
            self._subjects = [str(s) for s in subjects]
            self._check_subjects(self._subjects)
            self._variables: list[str] = []
            self._seen_variables: set[str] = set()
            self._open_by_variable()

    # -- context manager ----------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._state in ("open", "prepared") and not self._finalise_tried:
            self.abort()
        self._unlock()

    # -- public ---------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``open``, ``prepared``, ``final`` or ``aborted``.

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> import pandas as pd
        >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        >>> writer.state
        'open'
        >>> writer.abort()
        >>> writer.state
        'aborted'
        """
        return self._state

    @property
    def column_map(self) -> dict[str, str]:
        """Variable as loaded -> variable IRI (``""`` when none was declared), in file order.

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> import pandas as pd
        >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        >>> writer.column_map
        {'age': 'http://x/age'}
        >>> writer.abort()
        """
        names = self._wide.variables if self.layout == "wide" else self._variables
        return column_map(names, self._declared)

    def write(self, batch: pd.DataFrame | pa.RecordBatch | pa.Table) -> None:
        """Add rows (wide layout): a frame with a ``subject`` column (or index), optional ``roi``
        and ``replicate``, and one column per variable; the first batch fixes the columns.

        :raises DataPlaneError: a bad cell, repeated subject or variable, or columns that
            differ from the first batch's (the writer is aborted: nothing stays on disk).

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> import pandas as pd
        >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1"], "age": [62.0]}))
        Traceback (most recent call last):
        ...
        kg.dataplane.errors.DataPlaneError: ...
        """
        self._require("open")
        if self.layout != "wide":
            raise ValueError("this writer is by-variable: use write_variables()")
        try:
            table = self._wide.convert(batch)
        except DataPlaneError as exc:
            self._fail(exc)
        if self._writer is None:
            self._open_wide()
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= self._rows_per_group():
            self._flush()

    def write_variables(self, block: pd.DataFrame | np.ndarray, names: Sequence[str] | None = None) -> None:
        """Add variables (by-variable layout, e.g. genotype dosages): ``block`` is variables x
        subjects, a DataFrame indexed by variable with the declared subjects as columns, or an
        array with ``names``. Missing values are NaN.

        :raises DataPlaneError: a repeated variable, a non-numeric or non-finite value, a
            variable with no value (the writer is aborted).

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> writer = plane.stage("genotypes/demo.bed", "v1", kind="genotypes", variables=["rs1", "rs2"],
        ...                      layout="by-variable", subjects=["s1", "s2", "s3"])
        >>> writer.write_variables(np.array([[0, 1, 2], [1, 1, 0]], dtype="float32"), ["rs1", "rs2"])
        >>> record = writer.prepare()
        >>> _ = writer.finalise()
        >>> plane.matrix([record])["rs1"].tolist()
        [0.0, 1.0, 2.0]
        """
        self._require("open")
        if self.layout != "by-variable":
            raise ValueError("this writer is wide: use write()")
        try:
            values, labels = self._variable_block(block, names)
        except DataPlaneError as exc:
            self._fail(exc)
        flat = pa.array(values.reshape(-1), mask=np.isnan(values.reshape(-1)))
        table = pa.Table.from_arrays(
            [pa.array(labels, type=pa.string()), pa.FixedSizeListArray.from_arrays(flat, len(self._subjects))],
            schema=self._schema,
        )
        assert self._writer is not None
        self._writer.write_table(table, row_group_size=self._rows_per_group())

    def prepare(self) -> MatrixFile:
        """Close the file, run the whole-stream checks, hash it and return its record.

        The record's ``path`` is where :meth:`finalise` will put it. Nothing is in place yet.

        :raises DataPlaneError: no rows, or a column with no value (the writer is aborted).

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> import pandas as pd
        >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        >>> record = writer.prepare()
        >>> record.rows, record.columns, len(record.checksum)
        (2, 1, 64)
        >>> writer.abort()
        """
        self._require("open")
        try:
            if self.layout == "wide":
                self._wide.finish()
                if self._writer is None:  # pragma: no cover - finish() raised already
                    raise DataPlaneError(self.origin, "the matrix has no rows")
                self._flush(final=True)
                rows, columns = self._wide.rows, len(self._wide.variables)
            else:
                if not self._variables:
                    raise DataPlaneError(self.origin, "the matrix has no variables")
                rows, columns = len(self._subjects), len(self._variables)
        except DataPlaneError as exc:
            self._fail(exc)
        assert self._writer is not None
        self._writer.add_key_value_metadata({METADATA_KEY: json.dumps(self._metadata(rows))})
        self._writer.close()
        self._writer = None
        with open(self.staged_path, "rb+") as handle:
            os.fsync(handle.fileno())
        checksum = sha256_file(self.staged_path)
        size = self.staged_path.stat().st_size
        self._record = MatrixFile(
            path=self.target,
            checksum=checksum,
            byte_size=size,
            rows=rows,
            columns=columns,
            kind=self.kind,
            source_key=self.source_key,
            version=self.version,
            name=self.name,
            layout=self.layout,
        )
        atomic_write_json(self.staging / "manifest.json", self._record.to_dict())
        self._state = "prepared"
        logger.info("prepared %s (%d x %d, %d bytes)", self.target, rows, columns, size)
        return self._record

    def finalise(self) -> MatrixFile:
        """Rename the prepared file into place; call once the catalog lists it.

        If this fails (or the process dies) the staging folder stays, and the next
        :meth:`DataPlane.recover` finishes the rename because the catalog lists the path.

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> import pandas as pd
        >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        >>> record = writer.prepare()
        >>> writer.finalise() == record, plane.files() == [record.path]
        (True, True)
        """
        self._require("prepared")
        assert self._record is not None
        self._finalise_tried = True
        target = self.plane.root / self.target
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.staged_path, target)
        fsync_dir(target.parent)
        self.plane._remember(self._record, target)
        self._state = "final"
        self._unlock()
        remove_tree(self.staging)
        logger.info("committed %s", self.target)
        return self._record

    def abort(self) -> None:
        """Remove everything staged (idempotent; a no-op once final).

        >>> import tempfile
        >>> import numpy as np
        >>> from kg.dataplane import DataPlane
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> import pandas as pd
        >>> writer = plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"})
        >>> writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        >>> writer.abort()
        >>> writer.abort()
        >>> plane.files()
        []
        """
        if self._state in ("final", "aborted"):
            return
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self._buffer.clear()
        self._state = "aborted"
        self._unlock()
        remove_tree(self.staging)
        logger.info("aborted the %s matrix of %s", self.kind, self.source_key)

    # -- internals ------------------------------------------------------------------------
    def _require(self, state: str) -> None:
        if self._state != state:
            raise RuntimeError(f"the writer is {self._state}, not {state}")

    def _fail(self, exc: DataPlaneError) -> Any:
        self.abort()
        raise exc

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _check_iris(self, variables: Mapping[str, str]) -> None:
        owner: dict[str, str] = {}
        for name, iri in variables.items():
            if iri and iri in owner:
                self._fail(DataPlaneError(self.origin, f"variables {owner[iri]!r} and {name!r} map to the same IRI {iri}",
                                          column=str(name), hint="each variable must be one column"))
            if iri:
                owner[iri] = name

    def _check_subjects(self, subjects: list[str]) -> None:
        seen: set[str] = set()
        for i, s in enumerate(subjects):
            if not s.strip():
                self._fail(DataPlaneError(self.origin, "the subject is missing", row=i + 1, column="subject"))
            if s in seen:
                self._fail(DataPlaneError(self.origin, "the subject appears twice", row=i + 1, subject=s,
                                          column="subject"))
            seen.add(s)

    def _rows_per_group(self) -> int:
        if self._row_group_rows:
            return self._row_group_rows
        if self.layout == "wide":
            width = max(1, len(self._wide.variables)) * self.dtype.itemsize
            return int(min(1_000_000, max(1024, ROW_GROUP_BYTES // width)))
        # small row groups: a few variables are read by row-group number without the rest
        width = len(self._subjects) * self.dtype.itemsize
        return int(min(100_000, max(1, VARIABLE_GROUP_BYTES // width)))

    def _open_wide(self) -> None:
        assert self._wide.schema is not None
        self._writer = pq.ParquetWriter(
            self.staged_path,
            self._wide.schema,
            compression="zstd",
            compression_level=1,
            use_dictionary=["subject", "roi", *sorted(self._wide.categorical)],
            write_statistics=["subject", "roi", "replicate"],
            store_schema=True,
        )

    def _open_by_variable(self) -> None:
        value = pa.float64() if self.dtype == np.float64 else pa.float32()
        self._schema = pa.schema(
            [pa.field("variable", pa.string(), nullable=False), pa.field("values", pa.list_(value, len(self._subjects)))]
        )
        self._writer = pq.ParquetWriter(
            self.staged_path,
            self._schema,
            compression="zstd",
            compression_level=1,
            use_dictionary=False,
            write_statistics=["variable"],
            store_schema=True,
        )

    def _flush(self, *, final: bool = False) -> None:
        """Write whole row groups from the buffer (everything when ``final``); keep the rest."""
        if not self._buffer:
            return
        assert self._writer is not None
        table = pa.concat_tables(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
        size = self._rows_per_group()
        cut = table.num_rows if final else table.num_rows - table.num_rows % size
        if cut:
            self._writer.write_table(table.slice(0, cut), row_group_size=size)
        rest = table.slice(cut)
        self._buffer = [rest] if rest.num_rows else []
        self._buffered = rest.num_rows

    def _variable_block(self, block: pd.DataFrame | np.ndarray, names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
        n = len(self._subjects)
        if isinstance(block, pd.DataFrame):
            if names is not None:
                raise ValueError("names come from the DataFrame's index")
            columns = [str(c) for c in block.columns]
            if columns != self._subjects:
                raise DataPlaneError(self.origin, "the block's columns are not the declared subjects in order",
                                     hint="reindex the block to the subjects given to stage()")
            labels = [str(v) for v in block.index]
            numeric = block.apply(pd.to_numeric, errors="coerce") if any(
                not pd.api.types.is_numeric_dtype(t) for t in block.dtypes) else block
            values = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = np.isnan(values) & block.notna().to_numpy()
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise DataPlaneError(self.origin, f"non-numeric value {block.iat[i, j]!r}", row=len(self._variables) + i + 1,
                                     subject=self._subjects[j], column=labels[i])
        else:
            if names is None:
                raise ValueError("an array block needs names=[...] (one per row)")
            values = np.asarray(block, dtype=np.float64)
            labels = [str(v) for v in names]
            if values.ndim != 2 or values.shape != (len(labels), n):
                raise DataPlaneError(self.origin, f"the block is {values.shape}, expected ({len(labels)}, {n})")
        for i, label in enumerate(labels):
            if not label.strip():
                raise DataPlaneError(self.origin, "a variable has no name", row=len(self._variables) + i + 1)
            if label in self._seen_variables:
                raise DataPlaneError(self.origin, "the variable appears twice", row=len(self._variables) + i + 1,
                                     column=label, hint="each variable must be one row of the block")
            self._seen_variables.add(label)
        infinite = np.isinf(values)
        if infinite.any():
            i, j = map(int, np.argwhere(infinite)[0])
            raise DataPlaneError(self.origin, f"non-finite value {float(values[i, j])!r}", row=len(self._variables) + i + 1,
                                 subject=self._subjects[j], column=labels[i])
        empty = np.isnan(values).all(axis=1)
        if empty.any():
            i = int(np.argmax(empty))
            raise DataPlaneError(self.origin, f"the variable is empty for all {n} subjects",
                                 row=len(self._variables) + i + 1, column=labels[i])
        if self.dtype != np.float64:
            with np.errstate(over="ignore"):
                narrowed = values.astype(self.dtype)
            overflow = np.isinf(narrowed)
            if overflow.any():
                i, j = map(int, np.argwhere(overflow)[0])
                raise DataPlaneError(self.origin, f"{float(values[i, j])!r} does not fit in {self.dtype}",
                                     subject=self._subjects[j], column=labels[i])
            values = narrowed
        self._variables.extend(labels)
        return np.ascontiguousarray(values), labels

    def _metadata(self, rows: int) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "layout": self.layout,
            "kind": self.kind,
            "source_key": self.source_key,
            "version": self.version,
            "name": self.name,
            "dtype": str(self.dtype),
            "rows": rows,
            "columns": self.column_map,
        }
        if self.layout == "wide":
            data["keys"] = list(self._wide.keys)
            data["levels"] = self._wide.levels
        else:
            data["keys"] = ["subject"]
            data["levels"] = {}
            data["subjects"] = self._subjects
        return data
