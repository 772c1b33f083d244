"""A real Chroma server (`chroma run`, the binary chromadb installs) on a free loopback port,
its data in a temporary dir: the server tests talk to what operators run, not to a fake.

It starts in about a second; `start` waits for its heartbeat (polling, up to a deadline) and
`stop` ends it, killing it if it does not stop in time.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType

import pytest

CHROMA = Path(sys.executable).parent / "chroma"

# Tests that run once with embedded Chroma and once against the server (`backend` fixture).
both_backends = pytest.mark.parametrize("backend", ["embedded", "server"], indirect=True)


def free_port() -> int:
    """A port nothing listens on now (the small race until the server binds it is retried)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChromaServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.host = "127.0.0.1"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = directory / "chroma.log"

    def start(self, attempts: int = 3, deadline_seconds: float = 60) -> None:
        """Start the server and return once it answers its heartbeat. A port taken between
        choosing and binding it makes the server exit: then another port is tried."""
        for _ in range(attempts):
            self.port = free_port()
            with self._log.open("ab") as log:
                self._process = subprocess.Popen(  # noqa: S603 (our own venv's binary)
                    [
                        str(CHROMA),
                        "run",
                        "--path",
                        str(self.directory / "db"),
                        "--host",
                        self.host,
                        "--port",
                        str(self.port),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_for_heartbeat(time.monotonic() + deadline_seconds):
                return
        raise RuntimeError(f"chroma run did not start; its output:\n{self.output()}")

    def _wait_for_heartbeat(self, deadline: float) -> bool:
        assert self._process is not None
        url = f"http://{self.host}:{self.port}/api/v2/heartbeat"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            # Refused until the server listens: http on loopback, our own URL.
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as reply:  # noqa: S310
                if reply.status == 200:
                    return True
            time.sleep(0.05)  # between polls only: the loop ends on the heartbeat or deadline
        self.stop()
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def output(self) -> str:
        return self._log.read_text(encoding="utf-8", errors="replace")

    def __enter__(self) -> ChromaServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class BearerGate:
    """A reverse proxy in front of a Chroma server that lets a request through only with
    `Authorization: Bearer <token>`, as an operator's proxy does: `chroma run` itself (1.x)
    checks no token, so without it nothing would show the client sends one. A refusal is a
    401 that echoes the header it got, as careless proxies do."""

    def __init__(self, upstream: ChromaServer, token: str) -> None:
        self.host = "127.0.0.1"
        self.refused = 0
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                sent = self.headers.get("Authorization", "")
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if sent != f"Bearer {token}":
                    gate.refused += 1
                    self._reply(401, f"refused Authorization: {sent}".encode(), "text/plain")
                    return
                connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=30)
                try:
                    headers = {"Content-Type": self.headers.get("Content-Type", "")}
                    connection.request(self.command, self.path, body or None, headers)
                    reply = connection.getresponse()
                    self._reply(reply.status, reply.read(), reply.getheader("Content-Type", ""))
                finally:
                    connection.close()

            def _reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 (http.server's names)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet: pytest shows the test's own output, not every request."""

        self._server = http.server.ThreadingHTTPServer((self.host, 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> BearerGate:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
