"""Shared fixtures: the app launched once per session on a free loopback port, offline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
sys.path.insert(0, str(ROOT))

# Tests never reach the network: the app must work from the bundled models alone.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# Property tests draw the same examples on every run of `make test` (a CI run that fails fails again, on any machine);
# HYPOTHESIS_PROFILE=explore draws new ones (and keeps failures in .hypothesis/) when hunting for counterexamples.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def http_server(status: int, body: bytes = b"{}", headers: dict | None = None):
    """A local HTTP server on 127.0.0.1 that answers every GET, HEAD and POST with ``status`` and ``body``;
    returns (url, server) — call server.shutdown() when done."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        do_HEAD = do_POST = do_GET  # noqa: N815

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_address[1]}", srv


@pytest.fixture(scope="session")
def app_url():
    from demos.common.serve import start_app, stop

    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "app-server.log", "w")
    try:
        proc, url, _ = start_app(log=log, seconds=120)
    except RuntimeError as e:
        raise RuntimeError(f"{e}; see artifacts/app-server.log") from None
    yield url
    stop(proc)
    log.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)
