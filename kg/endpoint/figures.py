"""The plots and result tables of the entity pages: a run's volcano and top hits, an association's box plot.

Each section is HTML (an inline ``<svg>`` and a plain table, no JavaScript). The data comes
from ``kg.analysis.figures`` over a read-only ``KnowledgeGraph`` opened in a thread for the
page (the store's graph and its columnar data plane); one figure is drawn at a time, and each
section is cached per store generation. A section that cannot be drawn (no matrix behind a
snapshot store, a run without results) says why instead of failing the page.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
from typing import Any
from urllib.parse import quote

from kg.core.errors import IgkgError
from kg.core.namespaces import compress

__all__ = ["association_section", "run_section"]

logger = logging.getLogger(__name__)

TOP_HITS = 25
"""Rows of a run's top-hits table."""

_DRAWING = threading.BoundedSemaphore(1)


def _open(location: str) -> Any:
    from kg.store import KnowledgeGraph

    return KnowledgeGraph(location, read_only=True)


async def _in_thread(service: Any, key: str, work: Any) -> str:
    """``work(kg)`` in a worker thread over a read-only store, cached per store generation."""

    def run() -> str:
        with _DRAWING:
            kg = _open(service.location)
            try:
                return str(work(kg))
            finally:
                kg.close()

    async def compute() -> str:
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(None, run), timeout=service.config.timeout)
        except (IgkgError, ValueError) as exc:
            return f"<p class='no-plot'>No plot: {html.escape(str(exc))}</p>"
        except TimeoutError:
            return f"<p class='no-plot'>No plot: drawing took longer than {service.config.timeout:g} s.</p>"

    result = await service.cached(key, compute)
    return str(result)


def _link(iri: str | None, text: str) -> str:
    if not iri or "://" not in str(iri):
        return html.escape(text)
    return f"<a href='entity?iri={quote(str(iri), safe='')}' title='{html.escape(str(iri))}'>{html.escape(text)}</a>"


def _figure(svg: str, caption: str, css: str) -> str:
    return f"<figure class='plot {css}'>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


async def run_section(service: Any, iri: str) -> str:
    """An analysis run's volcano plot (inline SVG) and its top hits by p."""

    def work(kg: Any) -> str:
        from kg.analysis.figures import association_figure, run_results
        from kg.views.plots import to_svg
        from kg.views.tables import format_number

        found = run_results(kg, iri)
        svg = to_svg(association_figure(kg, "volcano", run=iri))
        results = found.results.sort_values(["p", "feature", "target"], kind="stable").head(TOP_HITS)
        what = "every tested pair" if found.complete else f"the associations it stored (q ≤ {found.q_max:g})"
        rows = []
        for row in results.to_dict("records"):
            cells = [
                _link(row.get("feature_iri"), str(row["feature"])),
                _link(row.get("target_iri") or row.get("target_node"), str(row["target"])),
            ]
            cells += [format_number(row[c]) if row.get(c) is not None else "" for c in ("statistic", "effect_size")]
            cells += [format_number(row[c], scientific_below=0.01) if row.get(c) is not None else "" for c in ("p", "q")]
            cells.append(format_number(row["n"]) if row.get("n") is not None else "")
            if row.get("association"):
                cells.append(_link(row["association"], "association"))
            else:
                cells.append("")
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th>{h}</th>" for h in ("feature", "target", "statistic", "effect size", "p", "q", "n", ""))
        caption = f"Volcano plot of run {found.run_id}: {len(found.results):,} results ({what})."
        return (
            "<h2>Volcano plot</h2>" + _figure(svg, caption, "volcano")
            + f"<h2>Top hits ({len(results)} of {len(found.results):,}, by p)</h2>"
            + f"<table class='top-hits'><tr>{head}</tr>{''.join(rows)}</table>"
        )

    return await _in_thread(service, f"figure:run:{iri}", work)


ASSOCIATION_QUERY = """
SELECT ?feature_name ?target ?target_label ?is_marker ?is_gene ?cohort ?q ?method WHERE {
  ?association igkg:feature ?feature ; igkg:target ?target .
  OPTIONAL { ?feature igkg:pyradiomicsName ?pyradiomics_name }
  OPTIONAL { ?feature rdfs:label ?feature_label }
  BIND(COALESCE(?pyradiomics_name, ?feature_label) AS ?feature_name)
  OPTIONAL { ?target rdfs:label ?target_label }
  BIND(EXISTS { ?target a igkg:Marker } AS ?is_marker)
  BIND(EXISTS { ?target a igkg:Gene } AS ?is_gene)
  OPTIONAL { ?association igkg:cohort/rdfs:label ?cohort }
  OPTIONAL { ?association igkg:qValue ?q }
  OPTIONAL { ?association igkg:methodName ?method }
} LIMIT 1"""
"""The feature, target and cohort of one association (bound as ``?association``)."""


async def association_section(service: Any, iri: str) -> str:
    """An association's box plot: the feature's values by the marker's status (or, for a gene,
    by its expression above / below the median), one point per subject."""

    def work(kg: Any) -> str:
        from rdflib import URIRef

        from kg.analysis.figures import association_figure
        from kg.views.plots import to_svg
        from kg.views.tables import format_number

        found = kg.query(ASSOCIATION_QUERY, {"association": URIRef(iri)})
        if found.empty or not isinstance(found.iloc[0]["feature_name"], str):
            raise IgkgError("this association names no feature with a pyradiomics name or label")
        row = found.iloc[0]
        label = str(row["target_label"]) if isinstance(row["target_label"], str) else compress(str(row["target"]))
        cohort = row["cohort"] if isinstance(row["cohort"], str) else None
        is_marker = str(row["is_marker"]).lower() in ("true", "1")
        options = {"marker": label} if is_marker else {"gene": label}
        figure = association_figure(kg, "box", feature=str(row["feature_name"]), cohort=cohort, **options)
        test = f"{row['method']}, q = {format_number(float(row['q']), scientific_below=0.01)}" if isinstance(row["method"], str) else ""
        caption = f"{row['feature_name']} by {label}" + (f" in {cohort}" if cohort else "") + (f" ({test})" if test else "")
        return "<h2>Box plot</h2>" + _figure(to_svg(figure), caption, "box")

    return await _in_thread(service, f"figure:association:{iri}", work)
