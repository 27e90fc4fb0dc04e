"""What the served endpoint reveals and how it behaves at the edges, on the real server.

Every response carries ``X-Content-Type-Options``, ``X-Frame-Options`` and a
Content-Security-Policy; pages load scripts only from the server (vendored Yasgui and
Swagger UI, no inline script, no CDN); VoID and the service description name a source by
its file name and checksum, never the server's path; the update token never has to be on a
command line; a client that aborts its POST costs one log line, not a traceback.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import free_port, running_server

from kg import KnowledgeGraph
from kg.endpoint import EndpointConfig, create_app

pytestmark = pytest.mark.slow

MESH_FILE = "mesh/samples.nt"
NEOPLASMS = "http://id.nlm.nih.gov/mesh/D009369"
TOKEN = "token-from-a-file-0123456789abcdef"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("hardening") / "store"
    with KnowledgeGraph(folder) as kg:
        kg.load(shared_data / MESH_FILE, kind="rdf")
    return folder


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with running_server(create_app(store, EndpointConfig(workers=1, page_workers=1))) as base:
        yield base


def test_every_response_has_the_security_headers(url: str) -> None:
    requests = [
        ("GET", "/", {"Accept": "text/html"}),
        ("GET", "/sparql?query=ASK%7B%7D", {}),
        ("GET", "/sparql?query=SELECT", {}),  # 400
        ("GET", "/sparql", {"Accept": "text/turtle"}),
        ("GET", "/docs", {}),
        ("GET", "/openapi.json", {}),
        ("GET", "/static/swagger-ui/swagger-ui.css", {}),
        ("GET", "/static/yasgui/yasgui.min.js", {}),
        ("GET", "/health", {}),
        ("GET", f"/entity?iri={NEOPLASMS}", {"Accept": "text/html"}),
        ("GET", "/api/queries", {}),
        ("GET", "/no-such-page", {}),  # 404
        ("POST", "/sparql", {"Content-Type": "text/plain"}),  # 415
    ]
    statuses = set()
    for method, path, headers in requests:
        response = httpx.request(method, url + path, headers=headers, timeout=60)
        statuses.add(response.status_code)
        assert response.headers.get("x-content-type-options") == "nosniff", path
        assert response.headers.get("x-frame-options") == "DENY", path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0], path
    assert {200, 400, 404, 415} <= statuses


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", page)


def test_pages_load_scripts_only_from_this_server(url: str) -> None:
    for path in ("/", "/docs"):
        page = httpx.get(url + path, headers={"Accept": "text/html"}, timeout=60).text
        for tag in _scripts(page):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"(src|href)=\"(https?:)?//", page), path
        for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page):
            response = httpx.get(url + asset, timeout=60)
            assert response.status_code == 200 and len(response.content) > 100, asset
    docs = httpx.get(url + "/docs", timeout=60).text
    assert "/static/swagger-ui/swagger-ui-bundle.js" in docs and 'data-openapi="/openapi.json"' in docs
    assert httpx.get(url + "/openapi.json", timeout=60).json()["info"]["title"] == "igkg SPARQL endpoint"


def test_void_and_service_description_name_files_not_server_paths(url: str, store: Path, shared_data: Path) -> None:
    source = shared_data / MESH_FILE
    checksum = hashlib.sha256(source.read_bytes()).hexdigest()
    for path in ("/.well-known/void", "/sparql"):
        text = httpx.get(url + path, headers={"Accept": "application/n-triples"}, timeout=60).text
        assert "file:/" not in text and str(source.parent) not in text and str(store) not in text, path
        assert f'"{source.name}"' in text and f'"{checksum}"' in text, path
    catalog = httpx.post(url + "/sparql", timeout=60, headers={"Accept": "text/csv"}, data={
        "query": "SELECT ?o WHERE { GRAPH <https://w3id.org/igkg/graph/catalog> { ?s ?p ?o } }"}).text
    assert "file:/" not in catalog and str(source.parent) not in catalog


def _serve(store: Path, port: int, *options: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "kg.cli", "--store", str(store), "serve", "--port", str(port), "--workers", "1",
               "--page-workers", "0", *options]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IGKG_")}
    return subprocess.Popen(command, env={**environment, **(env or {})}, stderr=subprocess.PIPE, text=True)


def _wait(port: int, process: subprocess.Popen[str]) -> str:
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(base + "/health", timeout=5).json()["status"] == "ok":
                return base
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("igkg serve did not start")


def _update(base: str, token: str) -> int:
    return httpx.post(base + "/sparql", timeout=60, content='INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> "c" } }',
                      headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"}).status_code


def test_the_update_token_comes_from_a_file_or_the_environment_not_the_command_line(tmp_path: Path, store: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    for options, env in ((("--update-token-file", str(token_file)), None), ((), {"IGKG_UPDATE_TOKEN": TOKEN})):
        copy = tmp_path / f"store-{len(options)}"
        subprocess.run(["cp", "-r", str(store), str(copy)], check=True)
        port = free_port()
        process = _serve(copy, port, *options, env=env)
        try:
            base = _wait(port, process)
            command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
            assert TOKEN not in command_line
            assert _update(base, "wrong-token-wrong-token-wrong") == 403
            assert _update(base, TOKEN) == 204
        finally:
            process.terminate()
            process.wait(30)
    port = free_port()
    process = _serve(store, port, "--allow-update", TOKEN)
    try:
        _wait(port, process)
    finally:
        process.terminate()
        process.wait(30)
    assert process.stderr is not None and "--allow-update TOKEN is deprecated" in process.stderr.read()


def test_an_aborted_post_logs_one_line_and_no_traceback(url: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.INFO, logger="kg")
    host, port = url.removeprefix("http://").split(":")
    for _ in range(3):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: test\r\nContent-Type: application/sparql-query\r\n"
                         b"Content-Length: 5000\r\n\r\nSELECT * WHERE {")
            time.sleep(0.3)
    time.sleep(1.0)
    assert httpx.get(url + "/health", timeout=30).status_code == 200
    lines = [r.getMessage() for r in caplog.records if "closed the connection" in r.getMessage()]
    assert len(lines) == 3 and all("\n" not in line for line in lines)
    assert all(r.exc_info is None for r in caplog.records)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
