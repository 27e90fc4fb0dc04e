"""docs/queries.md is generated from the .rq headers and the demo data; it must not drift."""

from __future__ import annotations

import pytest

from examples.docs_queries import DOC_PATH, build_demo_graph, render_page
from kg.query.named import load_queries


@pytest.mark.slow
@pytest.mark.timeout(1800)  # builds and analyses the whole demo graph
def test_docs_page_matches_the_queries_and_the_demo_answers() -> None:
    kg = build_demo_graph()
    try:
        page = render_page(kg)
    finally:
        kg.close()
    assert DOC_PATH.read_text(encoding="utf-8") == page, "docs/queries.md drifted: run python -m examples.docs_queries"
    for name, query in load_queries().items():
        assert f"## `{name}`" in page and query.description in page
