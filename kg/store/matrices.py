"""The store's side of the columnar data plane: matrix sinks for loads, catalog records, lookups.

A load that writes matrices gets a :class:`MatrixSession` (its ``open`` is the
``LoadContext.matrices`` opener). The session stages one Parquet file per matrix while the
loader runs; the store then calls :meth:`MatrixSession.prepare` (files closed, checked,
hashed) before the catalog transaction, which lists each file as a DCAT distribution of the
source's graph, and :meth:`MatrixSession.finalise` after it; :meth:`MatrixSession.abort` on
any failure. So the graph and its files are committed together or not at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from rdflib import Literal, Namespace, URIRef

from kg.core.namespaces import CATALOG_GRAPH, DCAT, IGKG, PROV, RDF
from kg.core.settings import Settings
from kg.dataplane import DataPlane, MatrixFile, MatrixWriter

__all__ = [
    "COLUMNAR_FOLDER",
    "MATRIX_FILES_QUERY",
    "SPDX",
    "MatrixSession",
    "data_plane_root",
    "delete_distributions",
    "distribution_triples",
    "records_from_frame",
]

logger = logging.getLogger(__name__)

COLUMNAR_FOLDER = "columnar"
"""The data plane's folder inside an on-disk store."""

SPDX = Namespace("http://spdx.org/rdf/terms#")
MEDIA_TYPE_IRI = URIRef("https://www.iana.org/assignments/media-types/application/vnd.apache.parquet")

MATRIX_FILES_QUERY = f"""SELECT ?graph ?source ?distribution ?path ?checksum ?size ?rows ?columns ?kind ?name ?layout ?version
WHERE {{ GRAPH <{CATALOG_GRAPH}> {{
  ?graph a igkg:SourceGraph ; igkg:sourceKey ?source ; dcat:distribution ?distribution .
  ?distribution igkg:columnarPath ?path ; dcat:byteSize ?size ; igkg:rows ?rows ; igkg:columns ?columns ;
      igkg:matrixKind ?kind ; igkg:matrixName ?name ; igkg:matrixLayout ?layout ; igkg:matrixVersion ?version ;
      <{SPDX.checksum}> ?c . ?c <{SPDX.checksumValue}> ?checksum .
}} }} ORDER BY ?source ?name"""
"""One row per catalogued matrix file (the DCAT distributions of the source graphs)."""


def data_plane_root(location: str | None, *, remote: bool, settings: Settings | None = None) -> str | None:
    """Where a store's matrices live: ``<store>/columnar`` on disk, ``IGKG_COLUMNAR`` for a
    remote store (``None`` when unset), ``IGKG_COLUMNAR`` or nothing for an in-memory store.

    >>> data_plane_root("/data/igkg", remote=False, settings=Settings())
    '/data/igkg/columnar'
    >>> data_plane_root(None, remote=True, settings=Settings()) is None
    True
    """
    settings = settings or Settings.from_env()
    if remote or location is None:
        return settings.columnar
    return os.path.join(location, COLUMNAR_FOLDER)


class _Sink:
    """A ``loaders.MatrixSink`` over one staged ``MatrixWriter``."""

    active = True

    def __init__(self, writer: MatrixWriter) -> None:
        self.writer = writer
        self.batches = 0

    def write(self, frame: Any) -> None:
        """Add rows (see ``MatrixWriter.write``)."""
        self.writer.write(frame)
        self.batches += 1

    def write_variables(self, block: Any, names: Sequence[str] | None = None) -> None:
        """Add variables (see ``MatrixWriter.write_variables``)."""
        self.writer.write_variables(block, names)
        self.batches += 1


class MatrixSession:
    """The matrices of one source version being loaded: open -> prepare -> finalise | abort.

    >>> import tempfile
    >>> import pandas as pd
    >>> from kg.dataplane import DataPlane
    >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
    >>> session.add_table("features", pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [1.5, 2.5]}), kind="radiomics")
    >>> [(record.name, record.rows, record.columns) for record in session.prepare()]
    [('features', 2, 1)]
    >>> session.finalise()
    """

    def __init__(self, plane: DataPlane, source_key: str, version: str, *, origin: str | os.PathLike[str] | None = None) -> None:
        self.plane = plane
        self.source_key = source_key
        self.version = version
        self.origin = origin
        self._sinks: list[_Sink] = []
        self._names: set[str] = set()
        self.records: list[MatrixFile] = []

    def open(
        self,
        name: str,
        *,
        kind: str,
        variables: Mapping[str, str] | Sequence[str] | None,
        layout: str = "wide",
        categorical: Collection[str] = (),
        subjects: Sequence[str] | None = None,
        dtype: str | None = None,
        first_line: int | None = None,
    ) -> _Sink:
        """A sink for the matrix ``name`` of this source (see ``LoadContext.matrix``).

        :raises ValueError: the same name was opened before in this load.

        >>> import tempfile
        >>> from kg.dataplane import DataPlane
        >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
        >>> sink = session.open("features", kind="radiomics", variables=["mean"])
        >>> session.abort()
        """
        if name in self._names:
            raise ValueError(f"the matrix {name!r} was opened twice in one load")
        self._names.add(name)
        writer = self.plane.stage(
            self.source_key, self.version, kind=kind, name=name, variables=variables, categorical=categorical,
            layout=layout, subjects=subjects, dtype=dtype, origin=self.origin, first_line=first_line,
        )
        sink = _Sink(writer)
        self._sinks.append(sink)
        return sink

    __call__ = open

    def add_table(self, name: str, frame: pd.DataFrame | os.PathLike[str], *, kind: str,
                  variables: Mapping[str, str] | None = None) -> None:
        """Stage a whole table (a ``subject`` column + variables, each named by ``variables`` -> IRI
        when given; text columns become categorical). A Parquet file path instead of a frame is
        copied one row group at a time (memory bounded by a row group, not by the table).

        >>> import tempfile
        >>> import pandas as pd
        >>> from kg.dataplane import DataPlane
        >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
        >>> session.add_table("features", pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [1.5, 2.5]}), kind="radiomics")
        >>> session.prepare()[0].kind
        'radiomics'
        """
        if isinstance(frame, os.PathLike):
            import pyarrow as pa
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(frame)
            text = [f.name for f in parquet.schema_arrow if f.name != "subject" and (
                pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_dictionary(f.type))]
            sink = self.open(name, kind=kind, variables=variables, categorical=text)
            for group in range(parquet.num_row_groups):
                sink.write(parquet.read_row_group(group))
            return
        categorical = [c for c in frame.columns if c != "subject" and not pd.api.types.is_numeric_dtype(frame[c])]
        sink = self.open(name, kind=kind, variables=variables, categorical=categorical)
        sink.write(frame)

    def prepare(self) -> list[MatrixFile]:
        """Close, check and hash every matrix written (a sink with no batch is dropped).

        >>> import tempfile
        >>> import pandas as pd
        >>> from kg.dataplane import DataPlane
        >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
        >>> session.add_table("features", pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [1.5, 2.5]}), kind="radiomics")
        >>> len(session.prepare()[0].checksum)
        64
        """
        self.records = []
        for sink in self._sinks:
            if sink.batches == 0:
                sink.writer.abort()
                continue
            self.records.append(sink.writer.prepare())
        return list(self.records)

    def finalise(self) -> None:
        """Move the prepared files into place (after the catalog commit listed them).

        >>> import tempfile
        >>> import pandas as pd
        >>> from kg.dataplane import DataPlane
        >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
        >>> session.add_table("features", pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [1.5, 2.5]}), kind="radiomics")
        >>> record = session.prepare()[0]
        >>> session.finalise()
        >>> (session.plane.root / record.path).is_file()
        True
        """
        for sink in self._sinks:
            if sink.writer.state == "prepared":
                sink.writer.finalise()

    def abort(self) -> None:
        """Remove everything staged (idempotent).

        >>> import tempfile
        >>> import pandas as pd
        >>> from kg.dataplane import DataPlane
        >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
        >>> session.add_table("features", pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [1.5, 2.5]}), kind="radiomics")
        >>> session.abort()
        >>> session.abort()
        """
        for sink in self._sinks:
            try:
                sink.writer.abort()
            except Exception as exc:  # noqa: BLE001 - abort is best effort; recovery finishes it
                logger.warning("could not abort a matrix of %s: %s", self.source_key, exc)
        for folder in (self.plane.root / ".staging", self.plane.root):  # a folder left empty goes too
            with contextlib.suppress(OSError):
                folder.rmdir()


def distribution_triples(graph: str, records: Iterable[MatrixFile], *, generated_by: str | None = None) -> list[tuple[Any, Any, Any]]:
    """The catalog triples of a source graph's matrix files (DCAT distributions with SPDX checksums);
    ``generated_by`` names the activity that made them (default: the graph's load).

    >>> import tempfile
    >>> import pandas as pd
    >>> from kg.dataplane import DataPlane
    >>> session = MatrixSession(DataPlane(tempfile.mkdtemp()), "radiomics-csv/features.csv", "v1")
    >>> session.add_table("features", pd.DataFrame({"subject": ["urn:s1", "urn:s2"], "mean": [1.5, 2.5]}), kind="radiomics")
    >>> triples = distribution_triples("urn:example:g", session.prepare())
    >>> len(triples), str(triples[0][1])
    (17, 'http://www.w3.org/ns/dcat#distribution')
    """
    g = URIRef(graph)
    triples: list[tuple[Any, Any, Any]] = []
    for record in records:
        node = URIRef(f"{graph}#matrix-{_fragment(record.name)}")
        checksum = URIRef(f"{node}-checksum")
        triples += [
            (g, DCAT.distribution, node),
            (node, RDF.type, DCAT.Distribution),
            (node, RDF.type, IGKG.MatrixFile),
            (node, PROV.wasGeneratedBy, URIRef(generated_by or graph + "#load")),
            (node, DCAT.mediaType, MEDIA_TYPE_IRI),
            (node, DCAT.byteSize, Literal(record.byte_size)),
            (node, IGKG.columnarPath, Literal(record.path)),
            (node, IGKG.rows, Literal(record.rows)),
            (node, IGKG.columns, Literal(record.columns)),
            (node, IGKG.matrixKind, Literal(record.kind)),
            (node, IGKG.matrixName, Literal(record.name)),
            (node, IGKG.matrixLayout, Literal(record.layout)),
            (node, IGKG.matrixVersion, Literal(record.version)),
            (node, SPDX.checksum, checksum),
            (checksum, RDF.type, SPDX.Checksum),
            (checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
            (checksum, SPDX.checksumValue, Literal(record.checksum)),
        ]
    return triples


def delete_distributions(graph: str) -> str:
    """The SPARQL update removing the distribution records of ``graph`` (run before its own record).

    >>> import pyoxigraph as ox
    >>> store = ox.Store()
    >>> store.update(delete_distributions("urn:example:g"))
    >>> len(store)
    0
    """
    return (
        f"DELETE {{ GRAPH <{CATALOG_GRAPH}> {{ ?c ?pc ?oc }} }} WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ "
        f"<{graph}> <{DCAT.distribution}> ?d . ?d <{SPDX.checksum}> ?c . ?c ?pc ?oc }} }} ;\n"
        f"DELETE {{ GRAPH <{CATALOG_GRAPH}> {{ ?d ?pd ?od }} }} WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ "
        f"<{graph}> <{DCAT.distribution}> ?d . ?d ?pd ?od }} }}"
    )


def records_from_frame(frame: pd.DataFrame) -> list[MatrixFile]:
    """``MatrixFile`` records from the rows of :data:`MATRIX_FILES_QUERY`.

    >>> from kg import KnowledgeGraph
    >>> records_from_frame(KnowledgeGraph(None).query(MATRIX_FILES_QUERY))
    []
    """
    return [
        MatrixFile(
            path=str(row.path), checksum=str(row.checksum), byte_size=int(row.size), rows=int(row.rows),
            columns=int(row.columns), kind=str(row.kind), source_key=str(row.source), version=str(row.version),
            name=str(row.name), layout=str(row.layout),
        )
        for row in frame.itertuples(index=False)
    ]


def _fragment(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


class MemoryPlaneRoot:
    """A temporary data plane folder for an in-memory store (removed with the store)."""

    def __init__(self) -> None:
        self.path = tempfile.mkdtemp(prefix="igkg-columnar-")

    def cleanup(self) -> None:
        """Remove the folder."""
        shutil.rmtree(self.path, ignore_errors=True)


def existing(root: str | None) -> bool:
    """Whether a data plane folder exists at ``root``."""
    return root is not None and Path(root.removeprefix("file://")).exists()
