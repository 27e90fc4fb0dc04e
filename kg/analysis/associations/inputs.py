"""The inputs of an association analysis, read from the store: feature and target matrices.

Features are radiomic feature values or semantic traits per subject; targets are binary
markers, expression values or gene-set scores. Each reader returns an ``AnalysisInput``
naming the IRIs and graphs behind its columns. Measured values come from the columnar data
plane (``KnowledgeGraph.matrix_files`` / ``data_plane``), never by pivoting SPARQL results;
the graph gives the entities (cohorts, trait categories and their order, marker statuses
with their sources and conflicts).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kg.analysis.associations.gene_sets import GeneSet, gene_set_scores, read_gmt
from kg.analysis.associations.records import AnalysisInput
from kg.analysis.conflicts import marker_conflicts, marker_statuses
from kg.core.errors import AssociationError, StoreError
from kg.core.iris import mint
from kg.core.namespaces import CATALOG_GRAPH
from kg.core.settings import Settings
from kg.dataplane import DataPlaneError
from loaders import marker_gene_symbol, marker_value
from loaders.gmt import collection_name, standard_iri

__all__ = [
    "CATEGORY_QUERY",
    "GENE_SET_QUERY",
    "expression_targets",
    "imaging_features",
    "marker_targets",
    "pathway_targets",
    "read_matrix",
]

CATEGORY_QUERY = """
SELECT ?trait ?label ?rank WHERE {
  ?trait a igkg:ImagingTrait ; igkg:category ?category .
  ?category rdfs:label ?label .
  OPTIONAL { ?category igkg:rank ?rank }
}"""
"""The categories of every imaging trait with their rank (ordered traits): the entity layer."""

GENE_SET_QUERY = """
SELECT ?set ?label ?gene ?symbol WHERE {
  ?set a ?type ; rdfs:label ?label .
  VALUES ?type { igkg:Pathway igkg:GeneSet }
  { ?gene igkg:memberOf ?set } UNION { ?set igkg:memberSymbol ?symbol }
}"""


def _select(kg: object, sparql: str) -> pd.DataFrame:
    frame = kg.query(sparql)  # type: ignore[attr-defined]
    assert isinstance(frame, pd.DataFrame)
    return frame


def _in_cohort(kg: object, cohort: str | None) -> list[str] | None:
    """Subject IRIs of a cohort (by label or IRI), or ``None`` for no restriction."""
    if not cohort:
        return None
    try:
        return kg.cohort_subjects(cohort)  # type: ignore[attr-defined]
    except StoreError as exc:
        raise AssociationError(str(exc)) from None


def read_matrix(
    kg: object,
    kind: str,
    *,
    subjects: Sequence[str] | None = None,
    variables: Sequence[str] | str | None = None,
    what: str,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Subjects x variables of ``kind`` from the data plane, with each variable's IRI and the
    source graphs of the files read.

    :raises AssociationError: no matrix of that kind, or a subject measured twice (several
        ROIs or replicates, or two sources giving one value).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> matrix, iris, graphs = read_matrix(kg, "radiomics", what="features")
    >>> matrix.shape, list(iris)
    ((8, 1), ['original_firstorder_Mean'])
    """
    files = kg.matrix_files(kind=kind)  # type: ignore[attr-defined]
    if not files:
        raise AssociationError(
            f"no {what} in the store's columnar data plane; load them with 'igkg load FILE' "
            "(--values both or columnar; a store loaded with --values rdf must be reloaded)"
        )
    plane = kg.data_plane  # type: ignore[attr-defined]
    try:
        frame = plane.matrix(files, variables=variables, subjects=subjects)
    except DataPlaneError as exc:
        raise AssociationError(
            f"{what}: {exc}; drop the extra source or load one region per subject"
        ) from None
    if frame.index.nlevels > 1:
        subject = frame.index.get_level_values("subject")
        if subject.has_duplicates:
            twice = subject[subject.duplicated()][0]
            raise AssociationError(
                f"{what} of subject {twice} come from several regions or replicates "
                f"({', '.join(f.source_key for f in files)}); drop the extra source or load one region per subject"
            )
        frame = frame.droplevel([n for n in frame.index.names if n != "subject"])
    iris: dict[str, str] = {}
    for file in files:
        for name, iri in plane.column_map(file).items():
            iris.setdefault(name, iri)
    owner = kg.matrix_graphs(kind=kind)  # type: ignore[attr-defined]
    graphs = sorted({owner[f.path] for f in files if f.path in owner})
    frame.columns = [str(c) for c in frame.columns]
    frame.columns.name = None
    return frame, iris, graphs


def imaging_features(kg: object, *, cohort: str | None = None, traits: bool = False, ordinal: bool = True) -> AnalysisInput:
    """Radiomic feature values (or semantic traits) per subject, named by pyradiomics name (trait label).

    With ``traits`` the features are the semantic traits: their category rank when
    ``ordinal`` (Spearman on the order) or their category (Kruskal-Wallis).

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> list(imaging_features(kg).features.columns)
    ['original_firstorder_Mean']
    """
    members = _in_cohort(kg, cohort)
    what = "semantic traits" if traits else "radiomic feature measurements"
    matrix, iris, graphs = read_matrix(kg, "traits" if traits else "radiomics", subjects=members, what=what)
    matrix = matrix.dropna(axis=1, how="all").dropna(axis=0, how="all")
    if matrix.empty:
        raise AssociationError(f"no {what} in the store{' for cohort ' + repr(cohort) if cohort else ''}; load them first")
    notes: list[str] = []
    if traits:
        matrix = matrix.astype(object).where(matrix.notna(), None)
        if ordinal:
            # Nominal traits (categories without an order) have no ranks: they take part in
            # Kruskal-Wallis only, so a rank analysis leaves them out and says so.
            ranks = _category_ranks(kg)
            ranked: dict[str, pd.Series] = {}
            unranked = []
            for name in matrix.columns:
                order = ranks.get(iris.get(name, ""), {})
                values = matrix[name].dropna()
                if values.empty:
                    continue
                mapped = values.map(lambda label, order=order: order.get(str(label)))
                if mapped.isna().any():
                    unranked.append(name)
                else:
                    ranked[name] = mapped.astype("float64")
            unranked.sort()
            if not ranked:
                raise AssociationError(f"trait(s) {unranked[:5]} have categories without a rank; use --method kruskal")
            if unranked:
                notes.append(f"left out (nominal, no order to rank): {', '.join(unranked)}")
            matrix = pd.DataFrame(ranked).reindex(index=matrix.index)
            matrix = matrix.dropna(axis=0, how="all")
    return AnalysisInput(matrix, pd.DataFrame(), {k: v for k, v in iris.items() if k in matrix.columns}, {}, graphs, notes)


def _category_ranks(kg: object) -> dict[str, dict[str, float]]:
    """Trait IRI -> category label -> rank (ordered traits only)."""
    frame = _select(kg, CATEGORY_QUERY)
    ranks: dict[str, dict[str, float]] = {}
    for row in frame.dropna(subset=["rank"]).itertuples(index=False):
        ranks.setdefault(str(row.trait), {})[str(row.label)] = float(row.rank)
    return ranks


def marker_targets(kg: object, names: Sequence[str], *, source: str | None = None) -> AnalysisInput:
    """Binary marker matrix (subjects x markers, 1 positive / 0 negative / NaN unknown).

    A marker is named by its label (``EGFR mutation status``) or its gene (``EGFR``).
    Statements of several sources are combined per subject; where they disagree the
    subject is left out for that marker and the conflict is reported (``conflicts``),
    unless ``source`` (a source key, file name or graph IRI) picks the source to use.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "features.csv"
    >>> _ = table.write_text("Case ID,EGFR mutation status,original_firstorder_Mean" + "".join(
    ...     f"\\nP{i},{'Mutant' if i < 4 else 'Wildtype'},{i}.5" for i in range(8)))
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(table, kind="radiomics-csv")
    >>> marker_targets(kg, ["EGFR"]).targets["EGFR mutation status"].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    statuses = marker_statuses(kg)  # type: ignore[arg-type]
    if statuses.empty:
        raise AssociationError("no marker statuses in the store; load a clinical table or a feature table with marker columns")
    labels = statuses[["marker", "marker_label"]].drop_duplicates()
    notes: list[str] = []
    columns: dict[str, pd.Series] = {}
    iris: dict[str, str | None] = {}
    graphs: set[str] = set()
    if source:
        catalog = _select(kg, f"SELECT ?graph ?key WHERE {{ GRAPH <{CATALOG_GRAPH}> {{ ?graph igkg:sourceKey ?key }} }}")
        keys = dict(zip(catalog["graph"], catalog["key"], strict=False))
        chosen = {g for g in set(statuses["graph"]) if source in (g, keys.get(g, ""), keys.get(g, "").rsplit("/", 1)[-1])}
        if not chosen:
            raise AssociationError(f"no marker statuses from source {source!r}; sources: {', '.join(sorted(set(keys.values())))}")
        statuses = statuses[statuses["graph"].isin(chosen)]
    all_conflicts = marker_conflicts(kg, statuses)  # type: ignore[arg-type]
    for name in names:
        wanted = name.strip()
        match = labels[
            (labels["marker_label"].str.lower() == wanted.lower())
            | (labels["marker_label"].map(lambda text: marker_gene_symbol(str(text)) or "") == wanted.upper())
        ]
        if match.empty:
            raise AssociationError(
                f"no marker {name!r} in the store; markers: {', '.join(sorted(labels['marker_label'].dropna()))}"
            )
        if match["marker"].nunique() > 1:
            raise AssociationError(f"{name!r} names several markers ({', '.join(sorted(match['marker_label']))}); give the full name")
        marker, label = match.iloc[0]["marker"], str(match.iloc[0]["marker_label"])
        rows = statuses[statuses["marker"] == marker]
        odd = rows[rows["binary"].isna() & rows["status"].map(_says_something)]
        if not odd.empty:
            values = sorted(set(rows["status"]))
            raise AssociationError(
                f"marker {label!r} has the statuses {', '.join(values)} (graph {odd.iloc[0]['graph']}); "
                "a binary test needs positive / negative statuses only"
            )
        known = rows.dropna(subset=["binary"])
        spread = known.groupby("subject")["binary"].agg(["nunique", "first"])
        series = spread["first"].where(spread["nunique"] == 1)
        disputed = spread.index[spread["nunique"] > 1]
        if len(disputed):
            notes.append(
                f"{len(disputed)} subject(s) left out of {label!r}: their sources disagree "
                f"({', '.join(sorted(str(s).rsplit('/', 1)[-1] for s in disputed)[:10])}); see the conflicts, or pick one source"
            )
        columns[label] = series
        iris[label] = str(marker)
        graphs |= set(rows["graph"])
    frame = pd.DataFrame(columns)
    conflicts = all_conflicts[all_conflicts["marker"].isin(set(iris.values()))] if not all_conflicts.empty else all_conflicts
    return AnalysisInput(pd.DataFrame(), frame, {}, iris, sorted(graphs), notes, conflicts.reset_index(drop=True))


def _says_something(status: object) -> bool:
    try:
        marker_value(str(status))
    except ValueError:
        return True
    return False


def expression_targets(kg: object) -> AnalysisInput:
    """Expression matrix (subjects x genes) named by gene symbol, or by the source's id when unmapped.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "expression.tsv").write_text("gene\\tP0\\tP1\\tP2\\nA\\t1\\t2\\t3\\nB\\t2\\t4\\t6\\nC\\t0\\t1\\t0\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "expression.tsv", kind="expression", layout="genes-by-samples")
    >>> sorted(expression_targets(kg).targets.columns)   # no HGNC loaded: named by the ids as given
    ['A', 'B', 'C']
    """
    matrix, iris, graphs = read_matrix(kg, "expression", what="expression measurements")
    matrix = matrix.dropna(axis=1, how="all")
    target_iris = {name: (iris.get(name) or None) for name in matrix.columns}
    unmapped = sum(1 for v in target_iris.values() if v is None)
    notes = [f"{unmapped} gene(s) have no gene IRI (unmapped ids); their results are not written to the graph"] if unmapped else []
    return AnalysisInput(pd.DataFrame(), matrix, {}, target_iris, graphs, notes)


def pathway_targets(kg: object, expression: AnalysisInput, gmt: str | None, *, min_genes: int = 3) -> AnalysisInput:
    """Gene-set scores (mean z-score of member genes) from a GMT file or the store's gene sets.

    >>> import pathlib, tempfile
    >>> from kg import KnowledgeGraph
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "expression.tsv").write_text("gene\\tP0\\tP1\\tP2\\nA\\t1\\t2\\t3\\nB\\t2\\t4\\t6\\nC\\t0\\t1\\t0\\n")
    >>> kg = KnowledgeGraph(None)
    >>> _ = kg.load(folder / "expression.tsv", kind="expression", layout="genes-by-samples")
    >>> import pathlib, tempfile
    >>> gmt = pathlib.Path(tempfile.mkdtemp()) / "sets.gmt"
    >>> _ = gmt.write_text("WNT\\thttp://example.org/wnt\\tA\\tB\\tC\\n")
    >>> scores = pathway_targets(kg, expression_targets(kg), str(gmt))
    >>> scores.targets.round(3).to_dict("list")
    {'WNT': [-0.859, 0.385, 0.474]}
    """
    symbol_of = {iri: name for name, iri in expression.target_iris.items() if iri}
    notes = list(expression.notes)
    iris: dict[str, str | None] = {}
    if gmt:
        collection = collection_name(Path(gmt))
        base = Settings.from_env().base
        sets = read_gmt(gmt)
        for gene_set in sets:
            node = standard_iri(gene_set.name, gene_set.description) or mint(base, "geneset", collection, gene_set.name)
            iris[gene_set.name] = str(node)
    else:
        frame = _select(kg, GENE_SET_QUERY)
        if frame.empty:
            raise AssociationError("no gene sets in the store; load a GMT or Reactome file, or give --pathways FILE.gmt")
        frame["member"] = frame["gene"].map(symbol_of).astype(object).where(frame["gene"].notna(), frame["symbol"].astype(object))
        sets = []
        for (node, label), group in frame.groupby(["set", "label"], sort=True):
            genes = tuple(dict.fromkeys(str(m) for m in group["member"].dropna()))
            if genes:
                sets.append(GeneSet(str(label), "", genes))
                iris[str(label)] = str(node)
    scores, used = gene_set_scores(expression.targets, sets, min_genes=min_genes)
    notes.append(f"{len(used)} of {len(sets)} gene sets scored (at least {min_genes} measured genes each)")
    return AnalysisInput(pd.DataFrame(), scores, {}, {k: iris.get(k) for k in scores.columns}, expression.graphs, notes)
