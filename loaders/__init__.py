"""The loaders: one module per source format, named as its kind, and the one registry of them.

``LOADERS`` is a literal, sorted mapping kind -> ``Loader`` whose modules are imported on first
look-up (listing kinds imports none; a load of one kind imports one); ``ALIASES`` maps other names
of a kind (the module name spelled with ``_``, former module names) to it. ``infer_kind``
picks a kind from a file name (never from file content) and refuses when the name is
ambiguous. Modules whose name starts with ``_`` are helpers, not loaders; what other layers
need of them (the loader contract, the gene resolver, marker statuses, the IBSI table) is
re-exported here. Loaders import only ``kg.core`` and these helpers: they never touch a store.

>>> get_loader("gene_info").kind
'gene-info'
>>> list(LOADERS) == sorted(LOADERS)
True
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from kg.core.errors import LoadError
from loaders._contract import MATRIX_KINDS, VALUES_MODES, LoadContext, Loader, LoadReport, MatrixSink, Triple
from loaders._genes import GeneRecord, GeneResolver
from loaders._ibsi import ibsi_table
from loaders._shapes import marker_gene_symbol, marker_value

__all__ = [
    "ALIASES",
    "LOADERS",
    "MATRIX_KINDS",
    "VALUES_MODES",
    "MatrixSink",
    "GeneRecord",
    "GeneResolver",
    "LoadContext",
    "LoadReport",
    "Loader",
    "Triple",
    "get_loader",
    "ibsi_table",
    "infer_kind",
    "marker_gene_symbol",
    "marker_value",
    "resolve_source",
]

class _Registry(Mapping[str, Loader]):
    """kind -> ``Loader``, importing a loader's module the first time its kind is looked up.

    Keys (and their order) come from the literal it is built on, so listing kinds imports nothing;
    ``registry[kind]``, ``.items()`` and ``.values()`` import the modules they reach.
    """

    def __init__(self, where: dict[str, tuple[str, str]]) -> None:
        self._where = where
        self._loaded: dict[str, Loader] = {}

    def __getitem__(self, kind: str) -> Loader:
        loader = self._loaded.get(kind)
        if loader is None:
            module, name = self._where[kind]
            loader = getattr(importlib.import_module(module), name)
            assert loader.kind == kind, f"a LOADERS key must be its loader's kind ({kind} -> {loader.kind})"
            self._loaded[kind] = loader
        return loader

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, kind: object) -> bool:
        return kind in self._where

    def __repr__(self) -> str:
        return f"LOADERS({', '.join(self._where)})"


LOADERS: Mapping[str, Loader] = _Registry({
    "associations": ("loaders.associations", "LOADER"),
    "bgen": ("loaders.bgen", "LOADER"),
    "clinical": ("loaders.clinical", "LOADER"),
    "disease-ontology": ("loaders.disease_ontology", "LOADER"),
    "expression": ("loaders.expression", "LOADER"),
    "gaf": ("loaders.gaf", "LOADER"),
    "gene-disease": ("loaders.gene_disease", "LOADER"),
    "gene-info": ("loaders.gene_info", "LOADER"),
    "gmt": ("loaders.gmt", "LOADER"),
    "gwas-catalog": ("loaders.gwas_catalog", "LOADER"),
    "gwas-ssf": ("loaders.gwas_ssf", "LOADER"),
    "hgnc": ("loaders.hgnc", "LOADER"),
    "hpo-annotations": ("loaders.hpo", "ANNOTATIONS_LOADER"),
    "hpo-genes-to-disease": ("loaders.hpo", "GENES_TO_DISEASE_LOADER"),
    "maf": ("loaders.maf", "LOADER"),
    "mesh-rdf": ("loaders.mesh_rdf", "LOADER"),
    "mesh-xml": ("loaders.mesh_xml", "LOADER"),
    "obo": ("loaders.obo", "LOADER"),
    "pgen": ("loaders.pgen", "LOADER"),
    "plink": ("loaders.plink", "LOADER"),
    "pyradiomics": ("loaders.pyradiomics", "LOADER"),
    "pyradiomics-csv": ("loaders.pyradiomics_csv", "LOADER"),
    "radiomics-csv": ("loaders.radiomics_csv", "LOADER"),
    "rdf": ("loaders.rdf", "LOADER"),
    "reactome": ("loaders.reactome", "LOADER"),
    "umls": ("loaders.umls", "LOADER"),
    "vasari": ("loaders.vasari", "LOADER"),
    "vcf": ("loaders.vcf", "LOADER"),
})
"""kind -> Loader, sorted by kind."""

ALIASES: dict[str, str] = {
    **{kind.replace("-", "_"): kind for kind in LOADERS if "-" in kind},
    "published-associations": "associations",
    "published_associations": "associations",
    "pyradiomics-extract": "pyradiomics",
    "pyradiomics_extract": "pyradiomics",
}
"""Other names of a kind: module names (``gene_info``) and former module names."""

assert list(LOADERS) == sorted(LOADERS), "keep LOADERS sorted by kind"
assert not set(ALIASES) & set(LOADERS), "an alias must not shadow a kind"


def get_loader(kind: str) -> Loader:
    """The loader for ``kind`` (or one of its ``ALIASES``).

    :raises LoadError: no such kind (the message lists the kinds there are).
    """
    try:
        return LOADERS[ALIASES.get(kind, kind)]
    except KeyError:
        raise LoadError(
            kind, f"unknown kind {kind!r}", hint="one of: " + ", ".join(LOADERS)
        ) from None


def infer_kind(path: Path) -> str:
    """The kind implied by a file or folder name.

    :raises LoadError: no kind, or several, match the name (give ``--kind``).
    """
    name = path.name.lower()
    matches = [
        kind
        for kind, loader in LOADERS.items()
        if any(fnmatch.fnmatch(name, pattern) for pattern in loader.patterns)
        and (path.is_dir() == loader.accepts_directory or not path.exists() or (loader.accepts_directory and path.is_file()))
    ]
    if len(matches) > 1:
        matches = [kind for kind in matches if not LOADERS[kind].fallback] or matches
    if len(matches) > 1:  # the most specific pattern wins (gwas_catalog*associations*.tsv over *associations*.tsv)
        literal = {kind: max(len(p.replace("*", "")) for p in LOADERS[kind].patterns if fnmatch.fnmatch(name, p))
                   for kind in matches}
        best = max(literal.values())
        matches = [kind for kind in matches if literal[kind] == best]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise LoadError(path, "cannot tell the kind of this file from its name", hint="give --kind; kinds: " + ", ".join(LOADERS))
    raise LoadError(path, f"the name fits several kinds ({', '.join(matches)})", hint="give --kind")


def resolve_source(path: Path, kind: str | None = None) -> tuple[Path, str | None]:
    """The file a load reads, and its kind when the path alone tells it.

    An existing path is itself. A path that does not exist may stand for a file a loader's
    ``resolve`` hook finds (a PLINK prefix ``data/example`` -> ``data/example.bed``): with
    ``kind`` that loader's hook decides; without, every hook is asked and exactly one must answer
    (the kind is then the answering loader's). A path nothing resolves is returned as given.

    :raises LoadError: a prefix that several kinds resolve (``example.bed`` and ``example.pgen``
        beside each other) and no ``kind`` given.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for suffix in (".bed", ".bim", ".fam"):
    ...     _ = (folder / f"example{suffix}").write_bytes(b"")
    >>> path, kind = resolve_source(folder / "example")
    >>> path.name, kind
    ('example.bed', 'plink')
    """
    if path.exists():
        return path, kind
    if kind is not None:
        loader = get_loader(kind)
        found = loader.resolve(path) if loader.resolve is not None else None
        return (found, loader.kind) if found is not None else (path, kind)
    answers = {name: found for name, loader in LOADERS.items()
               if loader.resolve is not None and (found := loader.resolve(path)) is not None}
    if len(answers) > 1:
        raise LoadError(path, "the prefix names the files of several kinds ("
                        + ", ".join(f"{name}: {found.name}" for name, found in answers.items()) + ")",
                        hint="give --kind (e.g. --kind " + next(iter(answers)) + ") or the file itself")
    if answers:
        name, found = next(iter(answers.items()))
        return found, name
    return path, None
