"""The columnar data plane: per-subject matrices as Parquet files beside the graph store.

One file per matrix of a source version, at ``<root>/<source>/<version>/<name>.parquet``.
The graph's catalog is the list of committed files: the store commits its catalog between
:meth:`MatrixWriter.prepare` and :meth:`MatrixWriter.finalise`, and on open calls
:meth:`DataPlane.recover` with the paths it lists, which removes whatever a crash left.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import duckdb

from kg.core.files import sha256 as sha256_file
from kg.dataplane import _read
from kg.dataplane._fs import (
    atomic_write_json,
    fsync_dir,
    local_root,
    prune_empty_dirs,
    read_json,
    remove_tree,
)
from kg.dataplane.errors import DataPlaneError, MatrixIntegrityError
from kg.dataplane.records import KEY_COLUMNS, METADATA_KEY, MatrixFile, MatrixInfo, RecoveryReport
from kg.dataplane.writer import DATA_FILE, LOCK, MANIFEST, STAGING, MatrixWriter

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["DataPlane"]

logger = logging.getLogger(__name__)

CHECKSUMS = ".checksums.json"
"""Per-file (size, mtime_ns, sha256) of files already hashed: opening a big store stays cheap."""

Files = MatrixFile | Iterable[MatrixFile]
Variables = str | Sequence[str] | None


class DataPlane:
    """Matrix files under one folder (a local path or ``file://`` URL).

    >>> import tempfile, pandas as pd
    >>> plane = DataPlane(tempfile.mkdtemp())
    >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as w:
    ...     w.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
    ...     record = w.prepare()          # the store commits its catalog here
    ...     _ = w.finalise()
    >>> plane.matrix([record])
                  age
    subject
    http://x/s1  61.0
    http://x/s2  70.5
    """

    def __init__(self, root: str | os.PathLike[str], *, threads: int | None = None) -> None:
        self.root = local_root(root)
        self._threads = threads
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._infos: dict[str, tuple[int, int, MatrixInfo]] = {}
        self._indexes: dict[str, tuple[int, int, _read.VariableIndex]] = {}
        self._verified: dict[str, tuple[int, int, str]] = {}
        self._checksums: dict[str, list[Any]] | None = None

    def __repr__(self) -> str:
        return f"DataPlane({str(self.root)!r})"

    def close(self) -> None:
        """Close the DuckDB connection (the plane can be used again; it reconnects).

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.close()
        >>> plane.matrix([record])["age"].tolist()   # reconnects
        [61.0, 70.5]
        """
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------
    def stage(
        self,
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
    ) -> MatrixWriter:
        """A writer for one matrix of ``source_key`` at ``version`` (use it as a context manager).

        ``kind`` says what the matrix holds (radiomics, traits, expression, markers, clinical,
        genotypes); ``name`` tells two matrices of one version apart (default: the kind).
        ``variables`` maps each variable as loaded to its IRI (its order is the column order;
        a list or None takes the names from the first batch). ``categorical`` variables are
        stored as dictionary-encoded strings, all others as ``dtype`` numbers (float64 wide,
        float32 by-variable). ``layout="by-variable"`` (very wide matrices: genotype dosages)
        takes blocks of variables x ``subjects``. ``origin`` and ``first_line`` are for error
        messages (the source file, the line of its first data row).

        :raises DataPlaneError: repeated variables or IRIs, repeated subjects (by-variable).

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> record.rows, record.columns, record.kind
        (2, 1, 'clinical')
        """
        self.root.mkdir(parents=True, exist_ok=True)
        return MatrixWriter(
            self, source_key, version, kind=kind, name=name, variables=variables, categorical=categorical,
            layout=layout, subjects=subjects, dtype=dtype, origin=origin, first_line=first_line,
            row_group_rows=row_group_rows,
        )

    def drop(self, files: Iterable[str | MatrixFile]) -> list[str]:
        """Remove committed files (call after the catalog commit that unlisted them); returns the
        paths removed. Missing files are fine: a crash after the commit is finished by recovery.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.drop([record]) == [record.path], plane.files()
        (True, [])
        """
        removed: list[str] = []
        for item in files:
            rel = item.path if isinstance(item, MatrixFile) else str(item)
            path = self._path(rel)
            if path.exists():
                path.unlink()
                fsync_dir(path.parent)
                removed.append(rel)
                prune_empty_dirs(path.parent, self.root)
            self._forget(rel)
        if removed:
            self._save_checksums()
            logger.info("dropped %d matrix file(s)", len(removed))
        return removed

    # -- recovery and integrity -----------------------------------------------------------
    def recover(self, keep: Collection[str | MatrixFile]) -> RecoveryReport:
        """Make the folder match the catalog: ``keep`` is every path the catalog lists.

        Staging left by a dead writer is removed, except a prepared file whose path is listed
        and not yet in place (the crash came after the catalog commit): that one is renamed
        into place. Matrix files not listed are removed. Listed files that are missing are
        reported (and raise :class:`MatrixIntegrityError` when read). Run it only while
        holding the store's write lock; staging folders of live writers are left alone.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.recover(keep=[record]).clean
        True
        >>> plane.recover(keep=[]).removed_files == [record.path]   # a file the catalog does not list goes
        True
        """
        listed = {k.path if isinstance(k, MatrixFile) else str(k) for k in keep}
        report = RecoveryReport()
        if not self.root.exists():
            report.missing = sorted(listed)
            return report
        staging = self.root / STAGING
        for folder in sorted(staging.iterdir()) if staging.is_dir() else []:
            fd = _try_lock(folder / LOCK)
            if fd == -1:
                report.busy_staging.append(folder.name)
                continue
            try:
                manifest = read_json(folder / MANIFEST)
                data = folder / DATA_FILE
                if isinstance(manifest, dict) and manifest.get("path") in listed and data.exists():
                    record = MatrixFile.from_dict(manifest)
                    target = self._path(record.path)
                    if not target.exists() and sha256_file(data) == record.checksum:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(data, target)
                        fsync_dir(target.parent)
                        self._remember(record, target)
                        report.rolled_forward.append(record.path)
                        logger.warning("recovery: finished committing %s", record.path)
            finally:
                if fd is not None:
                    os.close(fd)
            remove_tree(folder)
            report.removed_staging.append(folder.name)
        for path in sorted(self.root.rglob("*.parquet")):
            rel = path.relative_to(self.root).as_posix()
            if rel.startswith(".") or rel in listed:
                continue
            path.unlink()
            report.removed_files.append(rel)
            prune_empty_dirs(path.parent, self.root)
            logger.warning("recovery: removed %s (not in the catalog)", rel)
        report.missing = sorted(rel for rel in listed if not self._path(rel).exists())
        for rel in report.missing:
            logger.warning("recovery: %s is listed in the catalog but missing", rel)
        checksums = self._load_checksums()
        stale = [rel for rel in checksums if rel not in listed]
        for rel in stale:
            self._forget(rel)
        if stale or report.rolled_forward:
            self._save_checksums()
        with contextlib.suppress(OSError):
            staging.rmdir()
        return report

    def verify(self, file: MatrixFile) -> None:
        """Check one file against its record: present, same size, same SHA-256.

        The hash is computed once per (size, mtime) and remembered in ``.checksums.json``.

        :raises MatrixIntegrityError: naming the file and how to reload or drop its source.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.verify(record)
        >>> _ = plane.drop([record])
        >>> plane.verify(record)
        Traceback (most recent call last):
        ...
        kg.dataplane.errors.MatrixIntegrityError: ...: the file is missing; reload the source with `igkg load t.csv --replace` or remove it with `igkg drop t.csv`
        """
        path = self._path(file.path)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise MatrixIntegrityError(path, "the file is missing", source_key=file.source_key) from None
        if stat.st_size != file.byte_size:
            raise MatrixIntegrityError(
                path, f"the file is {stat.st_size} bytes but the catalog recorded {file.byte_size}",
                source_key=file.source_key,
            )
        stamp = (stat.st_size, stat.st_mtime_ns, file.checksum)
        if self._verified.get(file.path) == stamp:
            return
        cached = self._load_checksums().get(file.path)
        if cached != [stat.st_size, stat.st_mtime_ns, file.checksum]:
            digest = sha256_file(path)
            if digest != file.checksum:
                raise MatrixIntegrityError(
                    path, f"the checksum does not match (sha256 {digest[:12]}..., the catalog recorded "
                    f"{file.checksum[:12]}...): the file was changed outside igkg",
                    source_key=file.source_key,
                )
            self._load_checksums()[file.path] = [stat.st_size, stat.st_mtime_ns, digest]
            self._save_checksums()
        self._verified[file.path] = stamp

    def info(self, file: MatrixFile | str) -> MatrixInfo:
        """What a file holds (column map, levels, keys, layout), read from its Parquet footer.

        A record is verified first (see :meth:`verify`); a bare path is read as it is.

        :raises MatrixIntegrityError: the file is missing, changed, or not an igkg matrix.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> info = plane.info(record)
        >>> info.layout, info.keys, info.rows
        ('wide', ('subject',), 2)
        """
        if isinstance(file, MatrixFile):
            self.verify(file)
        rel = file.path if isinstance(file, MatrixFile) else str(file)
        path = self._path(rel)
        try:
            stat = path.stat()
        except FileNotFoundError:
            source = file.source_key if isinstance(file, MatrixFile) else None
            raise MatrixIntegrityError(path, "the file is missing", source_key=source) from None
        cached = self._infos.get(rel)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        try:
            meta = pq.read_metadata(path).metadata or {}
            data = json.loads(meta[METADATA_KEY.encode()])
        except Exception as exc:
            source = file.source_key if isinstance(file, MatrixFile) else None
            raise MatrixIntegrityError(path, f"not a readable igkg matrix ({exc})", source_key=source) from exc
        info = MatrixInfo(
            layout=data["layout"], kind=data["kind"], source_key=data["source_key"], version=data["version"],
            name=data["name"], keys=tuple(data["keys"]), column_map=dict(data["columns"]),
            levels={k: list(v) for k, v in data.get("levels", {}).items()}, rows=int(data["rows"]),
            dtype=data.get("dtype", "float64"), subjects=tuple(data.get("subjects", ())),
        )
        self._infos[rel] = (stat.st_size, stat.st_mtime_ns, info)
        return info

    def column_map(self, file: MatrixFile | str) -> dict[str, str]:
        """Variable as loaded -> variable IRI, in file order (``""`` where none was given).

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.column_map(record)
        {'age': 'http://x/age'}
        """
        return dict(self.info(file).column_map)

    def files(self) -> list[str]:
        """Every committed-looking matrix file on disk (paths relative to the root).

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.files() == [record.path]
        True
        """
        if not self.root.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in self.root.rglob("*.parquet")
            if not p.relative_to(self.root).as_posix().startswith(".")
        )

    # -- reading --------------------------------------------------------------------------
    def matrix(
        self,
        files: Files,
        *,
        variables: Variables = None,
        subjects: Sequence[str] | None = None,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """Subjects x variables from ``files`` (of ``kind`` when given), reading only what is asked.

        ``variables``: None (all), a list of names as loaded (in that order), or one glob
        (``"original_glcm_*"``). ``subjects``: IRIs, rows come back in that order (absent ones
        are left out). The index is ``subject`` (with ``roi`` and ``replicate`` levels when the
        files have them); categorical variables come back as pandas categoricals. Rows of
        several files are stacked; a subject in two files is merged when no variable has two
        values, else refused.

        :raises DataPlaneError: a listed variable or a glob that no file has.
        :raises MatrixIntegrityError: a file missing or changed since it was written.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.matrix([record], subjects=["http://x/s2"])
                      age
        subject
        http://x/s2  70.5
        """
        chosen = self._files(files, kind)
        plan = self._plan(chosen, variables)
        frames = []
        for file, info, names in plan:
            if info.layout == "wide" and subjects is not None:  # DuckDB filters the rows as it reads
                frame = self._run(file, lambda con, f=file, i=info, n=names: _read.read_wide(
                    con, self._path(f.path), i, n, subjects))
            elif info.layout == "wide":  # whole columns: Arrow reads them without starting DuckDB
                frame = self._run(file, lambda _, f=file, i=info, n=names: _read.read_wide_columns(
                    self._path(f.path), i, n), duck=False)
            else:
                frame = self._run(file, lambda _, f=file, i=info, n=names: _read.read_by_variable(
                    self._path(f.path), i, self._variable_index(f), n, subjects), duck=False)
            frames.append(frame)
        order = self._order(plan, variables)
        return _combine(frames, order, subjects, plan)

    def iter_columns(
        self,
        files: Files,
        *,
        variables: Variables = None,
        subjects: Sequence[str] | None = None,
        kind: str | None = None,
        block: int = 512,
    ) -> Iterator[pd.DataFrame]:
        """The matrix in blocks of at most ``block`` variables (all asked subjects each time):
        how an analysis walks a matrix wider than memory (tiles of features x targets).

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> [block.shape for block in plane.iter_columns([record], block=1)]
        [(2, 1)]
        """
        if block < 1:
            raise ValueError("block must be at least 1")
        chosen = self._files(files, kind)
        order = self._order(self._plan(chosen, variables), variables)
        for start in range(0, len(order), block):
            yield self.matrix(chosen, variables=order[start:start + block], subjects=subjects)

    def iter_rows(
        self,
        files: Files,
        *,
        variables: Variables = None,
        subjects: Sequence[str] | None = None,
        kind: str | None = None,
        block: int = 65_536,
    ) -> Iterator[pd.DataFrame]:
        """The matrix in blocks of at most ``block`` rows, file after file (no merging across
        files): how an export writes a matrix longer than memory. Wide files only.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> [block.shape for block in plane.iter_rows([record], block=1)]
        [(1, 1), (1, 1)]
        """
        if block < 1:
            raise ValueError("block must be at least 1")
        chosen = self._files(files, kind)
        for file, info, names in self._plan(chosen, variables):
            if info.layout != "wide":
                raise DataPlaneError(self._path(file.path), "a by-variable matrix streams by columns",
                                     hint="use iter_columns()")
            self.verify(file)
            cursor = self._cursor()
            try:
                yield from _read.stream_wide(cursor, self._path(file.path), info, names, subjects, block)
            finally:
                cursor.close()

    def values(
        self,
        files: Files,
        subjects: Sequence[str],
        variables: Sequence[str],
        *,
        kind: str | None = None,
    ) -> pd.DataFrame:
        """A few values as a long table: ``subject`` (``roi``, ``replicate``), ``variable``,
        ``iri`` (the variable's IRI), ``value``; missing values are left out. For named
        queries whose entities come from SPARQL and values from the data plane.

        >>> import tempfile, pandas as pd
        >>> plane = DataPlane(tempfile.mkdtemp())
        >>> with plane.stage("clinical/t.csv", "v1", kind="clinical", variables={"age": "http://x/age"}) as writer:
        ...     writer.write(pd.DataFrame({"subject": ["http://x/s1", "http://x/s2"], "age": [61.0, 70.5]}))
        ...     record = writer.prepare()
        ...     _ = writer.finalise()
        >>> plane.values([record], ["http://x/s2"], ["age"]).to_dict("records")
        [{'subject': 'http://x/s2', 'variable': 'age', 'iri': 'http://x/age', 'value': 70.5}]
        """
        chosen = self._files(files, kind)
        plan = self._plan(chosen, list(variables), strict=False)
        iris: dict[str, str] = {}
        for _, info, names in plan:
            for name in names:
                iris.setdefault(name, info.column_map.get(name, ""))
        if not iris:
            return pd.DataFrame(columns=["subject", "variable", "iri", "value"])
        wide = self.matrix(chosen, variables=[v for v in variables if v in iris], subjects=subjects)
        keys = list(wide.index.names)
        wide = wide.astype(object)
        long = wide.reset_index().melt(id_vars=keys, var_name="variable", value_name="value")
        long = long[long["value"].notna()].reset_index(drop=True)
        long.insert(len(keys) + 1, "iri", long["variable"].map(iris))
        return long

    # -- internals ------------------------------------------------------------------------
    def _path(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if self.root.resolve() not in path.parents:
            raise DataPlaneError(rel, "a matrix path must stay inside the data plane folder")
        return path

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                # never fetch an extension at run time (Parquet is built in)
                import duckdb  # here: a load that only writes never pays for importing DuckDB

                config: dict[str, Any] = {"autoinstall_known_extensions": False}
                if self._threads:
                    config["threads"] = self._threads
                self._con = duckdb.connect(":memory:", config=config)
                self._con.execute("SET parquet_metadata_cache = true")
            return self._con.cursor()

    def _run(self, file: MatrixFile, read: Any, *, duck: bool = True) -> pd.DataFrame:
        """``read(cursor)`` of a verified file; ``duck=False``: the read needs no DuckDB (cursor None)."""
        self.verify(file)
        errors: tuple[type[BaseException], ...] = (OSError, pa.ArrowException)
        cursor = None
        if duck:
            import duckdb

            errors = (duckdb.Error, *errors)
            cursor = self._cursor()
        try:
            return read(cursor)
        except MatrixIntegrityError:
            raise
        except errors as exc:
            raise MatrixIntegrityError(self._path(file.path), f"cannot be read ({exc})",
                                       source_key=file.source_key) from exc
        finally:
            if cursor is not None:
                cursor.close()

    @staticmethod
    def _files(files: Files, kind: str | None) -> list[MatrixFile]:
        chosen = [files] if isinstance(files, MatrixFile) else list(files)
        for f in chosen:
            if not isinstance(f, MatrixFile):
                raise TypeError(f"files must be MatrixFile records, not {type(f).__name__}")
        return [f for f in chosen if kind is None or f.kind == kind]

    def _plan(self, files: list[MatrixFile], variables: Variables, *, strict: bool = True
              ) -> list[tuple[MatrixFile, MatrixInfo, list[str]]]:
        plan = []
        found: set[str] = set()
        for file in files:
            info = self.info(file)
            names = _read.select_variables(info.variables, variables)
            found.update(names)
            if names or variables is None:
                plan.append((file, info, names))
        if strict and variables is not None:
            if isinstance(variables, str):
                if not found:
                    raise DataPlaneError(
                        ", ".join(f.path for f in files) or str(self.root),
                        f"no variable matches {variables!r}", hint="check the name or glob (case matters)")
            else:
                unknown = [v for v in variables if v not in found]
                if unknown:
                    shown = ", ".join(map(repr, unknown[:5])) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
                    raise DataPlaneError(
                        ", ".join(f.path for f in files) or str(self.root),
                        f"unknown variable(s) {shown}", hint="names are as loaded (pyradiomics name, gene symbol)")
        return plan

    @staticmethod
    def _order(plan: list[tuple[MatrixFile, MatrixInfo, list[str]]], variables: Variables) -> list[str]:
        if variables is not None and not isinstance(variables, str):
            present = {n for _, _, names in plan for n in names}
            return [v for v in dict.fromkeys(variables) if v in present]
        return list(dict.fromkeys(n for _, _, names in plan for n in names))

    def _variable_index(self, file: MatrixFile) -> _read.VariableIndex:
        path = self._path(file.path)
        stat = path.stat()
        cached = self._indexes.get(file.path)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        index = _read.VariableIndex.build(path)
        self._indexes[file.path] = (stat.st_size, stat.st_mtime_ns, index)
        return index

    def _load_checksums(self) -> dict[str, list[Any]]:
        if self._checksums is None:
            data = read_json(self.root / CHECKSUMS)
            self._checksums = data if isinstance(data, dict) else {}
        return self._checksums

    def _save_checksums(self) -> None:
        if self._checksums is not None and self.root.exists():
            try:
                atomic_write_json(self.root / CHECKSUMS, self._checksums)
            except OSError as exc:  # a read-only folder: hashes are recomputed next time
                logger.debug("cannot save %s: %s", CHECKSUMS, exc)

    def _remember(self, record: MatrixFile, path: Path) -> None:
        stat = path.stat()
        self._load_checksums()[record.path] = [stat.st_size, stat.st_mtime_ns, record.checksum]
        self._save_checksums()
        self._verified[record.path] = (stat.st_size, stat.st_mtime_ns, record.checksum)

    def _forget(self, rel: str) -> None:
        self._load_checksums().pop(rel, None)
        self._verified.pop(rel, None)
        self._infos.pop(rel, None)
        self._indexes.pop(rel, None)


def _try_lock(path: Path) -> int | None:
    """An fd holding the lock, None when there is no lock file, -1 when a live writer holds it."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    if fcntl is None:  # pragma: no cover
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return -1
    return fd


def _combine(
    frames: list[pd.DataFrame],
    order: list[str],
    subjects: Sequence[str] | None,
    plan: list[tuple[MatrixFile, MatrixInfo, list[str]]],
) -> pd.DataFrame:
    """Stack per-file frames into one, merge a key found in several files, order rows and columns."""
    keys = [k for k in KEY_COLUMNS if any(k in f.index.names for f in frames)] or ["subject"]
    aligned = []
    for frame in frames:
        if list(frame.index.names) != keys:
            frame = frame.reset_index()
            for k in keys:
                if k not in frame.columns:
                    frame[k] = None
            frame = frame.set_index(keys)
        aligned.append(frame)
    if not aligned:
        index = pd.MultiIndex.from_arrays([[]] * len(keys), names=keys) if len(keys) > 1 else pd.Index([], name="subject")
        return pd.DataFrame(index=index, columns=order, dtype="float64")
    result = aligned[0] if len(aligned) == 1 else pd.concat(aligned, axis=0, sort=False)
    if len(aligned) > 1 and result.index.has_duplicates:
        result = _merge_duplicates(result, plan)
    result = result.reindex(columns=order)
    if subjects is not None:
        rank = {s: i for i, s in enumerate(dict.fromkeys(subjects))}
        position = result.index.get_level_values("subject").map(rank)
        result = result.iloc[pd.Series(position).argsort(kind="stable").to_numpy()]
    return result


def _merge_duplicates(frame: pd.DataFrame, plan: list[tuple[MatrixFile, MatrixInfo, list[str]]]) -> pd.DataFrame:
    counts = frame.notna().groupby(level=list(range(frame.index.nlevels)), sort=False).sum()
    clash = counts.gt(1)
    if clash.to_numpy().any():
        row, column = next((r, c) for r, c in zip(*clash.to_numpy().nonzero(), strict=True))
        key = counts.index[row]
        subject = key[0] if isinstance(key, tuple) else key
        files = ", ".join(f.path for f, _, names in plan if counts.columns[column] in names)
        raise DataPlaneError(
            files, "two files give the subject a value for the same variable",
            subject=str(subject), column=str(counts.columns[column]),
            hint="read one source at a time (kind= or the files of one source)",
        )
    return frame.groupby(level=list(range(frame.index.nlevels)), sort=False, dropna=False).first()
