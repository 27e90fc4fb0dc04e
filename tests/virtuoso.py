"""A real, throw-away Virtuoso server on 127.0.0.1 for the remote-backend tests.

Uses Debian's ``virtuoso-opensource`` (``virtuoso-t``): a fresh database in a temporary
folder, the SQL and HTTP ports on free loopback ports, results not truncated
(``ResultSetMaxRows``), started in the foreground and stopped (SIGTERM, then SIGKILL)
when done. The ``dba`` account keeps its fresh-database password ``dba``; it may
update over ``/sparql-auth`` (HTTP Digest).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ["VirtuosoServer", "find_virtuoso", "running_virtuoso"]

_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
MaxQueryMem = 500M
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
ServerThreads = 4
MaxClientConnections = 4
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 300
MaxQueryCostEstimationTime = 0
"""


def find_virtuoso() -> str | None:
    """The ``virtuoso-t`` executable, or ``None`` when it is not installed."""
    return shutil.which("virtuoso-t") or next(
        (p for p in ("/usr/bin/virtuoso-t", "/usr/local/bin/virtuoso-t") if os.access(p, os.X_OK)), None
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class VirtuosoServer:
    """One Virtuoso process with its own database folder and ports."""

    folder: Path
    executable: str
    sql_port: int = field(default_factory=_free_port)
    http_port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def sparql_url(self) -> str:
        """The public SPARQL endpoint (read-only unless SPARQL_UPDATE is granted)."""
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def auth_url(self) -> str:
        """The Digest-authenticated SPARQL endpoint (``dba``/``dba`` may update)."""
        return f"http://127.0.0.1:{self.http_port}/sparql-auth"

    def start(self, timeout: float = 120.0) -> None:
        """Write the ini, start ``virtuoso-t -f`` and wait until SPARQL answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        ini.write_text(_INI.format(d=self.folder, sql_port=self.sql_port, http_port=self.http_port))
        log = open(self.folder / "stdout.log", "wb")  # noqa: SIM115 - handed to the process, closed below
        self.process = subprocess.Popen(
            [self.executable, "-f", "-c", str(ini)], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.get(self.sparql_url, params={"query": "ASK {}"}, timeout=2.0)
                if response.status_code == 200:
                    return
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"virtuoso-t did not answer on {self.sparql_url} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log (for failure messages)."""
        text = ""
        for name in ("stdout.log", "virtuoso.log"):
            path = self.folder / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def running_virtuoso(folder: Path, executable: str | None = None) -> Iterator[VirtuosoServer]:
    """A started Virtuoso in ``folder``, stopped on exit."""
    exe = executable or find_virtuoso()
    if exe is None:
        raise RuntimeError("virtuoso-t is not installed (apt-get install virtuoso-opensource)")
    server = VirtuosoServer(folder=folder, executable=exe)
    server.start()
    try:
        yield server
    finally:
        server.stop()
