"""The loaders: one module per source format, named as its kind, and the one registry of them.

``LOADERS`` is a literal, sorted mapping kind -> ``Loader``; ``ALIASES`` maps other names
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
from pathlib import Path

from kg.core.errors import LoadError
from loaders import (
    associations,
    bgen,
    clinical,
    disease_ontology,
    expression,
    gaf,
    gene_disease,
    gene_info,
    gmt,
    gwas_catalog,
    gwas_ssf,
    hgnc,
    hpo,
    maf,
    mesh_rdf,
    mesh_xml,
    obo,
    pgen,
    plink,
    pyradiomics,
    pyradiomics_csv,
    radiomics_csv,
    rdf,
    reactome,
    umls,
    vasari,
    vcf,
)
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

LOADERS: dict[str, Loader] = {
    "associations": associations.LOADER,
    "bgen": bgen.LOADER,
    "clinical": clinical.LOADER,
    "disease-ontology": disease_ontology.LOADER,
    "expression": expression.LOADER,
    "gaf": gaf.LOADER,
    "gene-disease": gene_disease.LOADER,
    "gene-info": gene_info.LOADER,
    "gmt": gmt.LOADER,
    "gwas-catalog": gwas_catalog.LOADER,
    "gwas-ssf": gwas_ssf.LOADER,
    "hgnc": hgnc.LOADER,
    "hpo-annotations": hpo.ANNOTATIONS_LOADER,
    "hpo-genes-to-disease": hpo.GENES_TO_DISEASE_LOADER,
    "maf": maf.LOADER,
    "mesh-rdf": mesh_rdf.LOADER,
    "mesh-xml": mesh_xml.LOADER,
    "obo": obo.LOADER,
    "pgen": pgen.LOADER,
    "plink": plink.LOADER,
    "pyradiomics": pyradiomics.LOADER,
    "pyradiomics-csv": pyradiomics_csv.LOADER,
    "radiomics-csv": radiomics_csv.LOADER,
    "rdf": rdf.LOADER,
    "reactome": reactome.LOADER,
    "umls": umls.LOADER,
    "vasari": vasari.LOADER,
    "vcf": vcf.LOADER,
}
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
assert all(kind == loader.kind for kind, loader in LOADERS.items()), "a LOADERS key must be its loader's kind"
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
