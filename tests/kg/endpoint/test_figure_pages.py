"""Served pages with plots, over HTTP on 127.0.0.1: a run's volcano and top hits, an association's
box plot, a feature's associations and a gene's features, linked by label, without JavaScript.

The store holds NCBI's human gene table (so EGFR is a gene node), the NSCLC-Radiogenomics feature
table (features and EGFR status) and one stored run of every feature against EGFR status.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from live_server import running_server

from kg import KnowledgeGraph
from kg.endpoint import EndpointConfig, create_app

FEATURES = "radiogenomics/nsclc_radiogenomics_original_features.csv"
MARKER = "EGFR mutation status"
SVG = "{http://www.w3.org/2000/svg}"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    folder = tmp_path_factory.mktemp("figure-pages") / "store"
    from kg.analysis.associations import run_analysis, write_run

    with KnowledgeGraph(folder) as kg:
        kg.load(shared_data / "genes/Homo_sapiens.gene_info.gz", kind="gene-info")
        kg.load(shared_data / FEATURES, kind="radiomics-csv", id_column="Case ID", cohort="NSCLC")
        run = run_analysis(kg, markers=[MARKER], method="mannwhitney", q_max=1.0)
        write_run(kg, run)
        ids = kg.query(
            "SELECT ?run ?association ?feature ?gene WHERE { ?run a igkg:AnalysisRun . "
            "?association prov:wasGeneratedBy ?run ; igkg:feature ?feature ; igkg:target/igkg:gene ?gene . "
            "?feature igkg:pyradiomicsName 'original_firstorder_Minimum' }"
        )
    assert len(ids) == 1
    with running_server(create_app(str(folder), EndpointConfig(timeout=120, workers=1))) as base:
        yield base, ids.iloc[0].to_dict(), run


def page(base: str, iri: str) -> str:
    response = httpx.get(f"{base}/entity?iri={quote(iri, safe='')}", headers=HTML, timeout=180)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def svgs(text: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", text, re.DOTALL)]


def drawn(svg: ET.Element, group: str) -> int:
    return sum(1 for g in svg.iter(f"{SVG}g") if g.get("id") == group for _ in g.iter(f"{SVG}use"))


def test_run_page_shows_its_volcano_plot_and_top_hits(served, shared_data: Path) -> None:
    base, ids, run = served
    text = page(base, ids["run"])
    assert "<script" not in text  # usable without JavaScript
    (volcano,) = svgs(text)
    assert drawn(volcano, "volcano-other") + drawn(volcano, "volcano-significant") == len(run.results)
    with (shared_data / FEATURES).open(newline="") as handle:
        features = [c for c in next(csv.reader(handle)) if c.startswith("original_")]
    assert len(run.results) == len(features)
    hits = re.search(r"<table class='top-hits'>(.*?)</table>", text, re.DOTALL).group(1)
    rows = re.findall(r"<tr><td>(.*?)</td>", hits, re.DOTALL)
    best = run.results.sort_values(["p", "feature"], kind="stable")["feature"].head(len(rows)).tolist()
    # the top hits are the run's smallest p-values, each feature a link named by its label
    assert len(rows) == 25
    for cell, feature in zip(rows, best, strict=True):
        assert cell.startswith("<a href='entity?iri=") and cell.endswith(f">{feature}</a>")


def test_association_page_shows_a_box_plot_by_marker_status(served, shared_data: Path) -> None:
    base, ids, _ = served
    text = page(base, ids["association"])
    (box,) = svgs(text)
    from loaders import marker_value

    counts = [0, 0]
    with (shared_data / FEATURES).open(newline="") as handle:
        for row in csv.DictReader(handle):
            status = marker_value(row[MARKER])
            if status is not None and row["original_firstorder_Minimum"].strip():
                counts[int(status)] += 1
    assert [drawn(box, "box-points-0"), drawn(box, "box-points-1")] == counts
    assert "original_firstorder_Minimum by EGFR mutation status" in text


def test_feature_and_gene_pages_list_associations_by_label(served) -> None:
    base, ids, run = served
    feature = page(base, ids["feature"])
    table = re.search(r"<table class='associations'>(.*?)</table>", feature, re.DOTALL).group(1)
    assert f">{MARKER}</a>" in table  # the target named by its label, linked to its page
    gene = page(base, ids["gene"])
    table = re.search(r"<table class='associations'>(.*?)</table>", gene, re.DOTALL).group(1)
    # the gene's features: every feature tested against its marker (one association each)
    assert table.count("<tr>") - 1 == len(run.results)
    assert table.count(f">{MARKER}</a>") == len(run.results)
