"""The query page in a real browser: headless Chromium (Debian's chromium + chromium-driver) via Selenium.

Opens ``/`` on the real server, picks the named query ``terms_under_mesh_tree`` (tree
A01.456 by default) from Yasgui's example tabs, runs it, and sees the row of D005145
"Face", which the MeSH sample file gives tree number A01.456.505.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kg import KnowledgeGraph
from kg.endpoint import EndpointConfig, create_app
from live_server import running_server

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
QUERY = "terms_under_mesh_tree"


def _require_browser() -> None:
    if CHROMIUM and CHROMEDRIVER:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("headless Chromium is missing: apt-get install chromium chromium-driver")
    pytest.skip("chromium / chromedriver not installed (apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("browser") / "store"
    with KnowledgeGraph(folder) as kg:
        kg.load(shared_data / "mesh" / "samples.nt", kind="rdf")
    with running_server(create_app(folder, EndpointConfig(workers=1))) as base:
        yield base


@pytest.fixture
def driver() -> Iterator[object]:
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="igkg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_named_query_runs_in_the_query_page(url: str, driver: object, shared_data: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    mesh = (shared_data / "mesh" / "samples.nt").read_text(encoding="utf-8")
    assert "<http://id.nlm.nih.gov/mesh/D005145> <http://id.nlm.nih.gov/mesh/vocab#treeNumber> <http://id.nlm.nih.gov/mesh/A01.456.505> ." in mesh
    assert re.search(r'<http://id.nlm.nih.gov/mesh/D005145> <http://www.w3.org/2000/01/rdf-schema#label> "Face"@en', mesh)

    wait = WebDriverWait(driver, 60)
    driver.get(url + "/")  # type: ignore[attr-defined]
    tab = wait.until(ec.element_to_be_clickable((By.XPATH, f"//div[contains(@class,'tabsList')]//a[span[normalize-space()='{QUERY}']]")))
    tab.click()
    editor_text = wait.until(lambda d: d.execute_script(
        "const t = window.igkgYasgui.getTab(); return t && t.getYasqe() ? t.getYasqe().getValue() : ''"))
    assert "meshv:treeNumber" in editor_text and '"A01.456"' in editor_text  # the default bound by VALUES
    button = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton")))
    button.click()
    wait.until(lambda d: "Face" in d.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasr").text)
    rows = driver.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr table tbody tr")  # type: ignore[attr-defined]
    texts = [r.text for r in rows]
    assert any("Face" in t and "A01.456.505" in t.split() for t in texts), texts


def test_api_docs_render_from_vendored_swagger_under_the_csp(url: str, driver: object) -> None:
    """``/docs`` draws Swagger UI from ``/static/swagger-ui`` (no CDN, no inline script) with
    every route of the OpenAPI document, and the browser reports no CSP violation."""
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    paths = set(httpx.get(url + "/openapi.json", timeout=60).json()["paths"])
    assert {"/sparql", "/entity", "/api/queries"} <= paths
    driver.get(url + "/docs")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock-summary-path"))
    shown = {e.get_attribute("data-path") for e in driver.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock-summary-path")}  # type: ignore[attr-defined]
    assert paths <= shown
    title = driver.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text  # type: ignore[attr-defined]
    assert "igkg SPARQL endpoint" in title
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    assert not [entry for entry in logs if "Content Security Policy" in entry.get("message", "")], logs
