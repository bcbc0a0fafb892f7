"""The CLI's local commands, its import cost, and the token it sends (to small loopback
servers that record what they are sent)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil
import pytest
import zmq.auth
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from tests.support.cli import COMMAND, run_cli
from tests.support.gateway_process import free_port, stop_process

pytestmark = pytest.mark.integration

TOKEN = "s3cret-token"
UNAUTHORIZED = {"error": {"code": "UNAUTHORIZED", "message": "a bearer token is required"}}


def test_serve_help_helps_and_starts_nothing() -> None:
    port = free_port()
    answer = run_cli("serve", "--help", LX_PORT=str(port), timeout_s=30)
    assert answer.returncode == 0, answer.stderr
    assert "make run" in answer.stdout and "--port" in answer.stdout
    with socket.socket() as probe:  # nothing listens on the port it would use
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_serve_runs_the_gateway_on_the_port_it_is_given(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LX_STATE_DIR": str(tmp_path),
        "LX_WORKER_DEVICES": "",  # no worker: the gateway alone answers /healthz
        "LX_PORT": "1",  # overridden by --port
        "HF_HUB_OFFLINE": "1",
        "LX_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([*COMMAND, "serve", "--port", str(port)], env=env)
    try:
        deadline = time.monotonic() + 60
        answer = None
        while answer is None and time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, process.poll()
        assert answer.json()["workers"] == []
        # The CLI became the gateway (exec, no child left between): signals reach it.
        assert psutil.Process(process.pid).cmdline()[1:] == ["-m", "gateway"]
    finally:
        stop_process(process)
    assert process.returncode in (0, -signal.SIGTERM)  # stopped by our SIGTERM, as uvicorn does


def test_worker_passes_its_flags_through() -> None:
    answer = run_cli("worker", "--help", timeout_s=60)
    assert answer.returncode == 0, answer.stderr
    assert "usage: python -m worker" in answer.stdout and "--connect" in answer.stdout
    refused = run_cli("worker", "--no-such-flag", timeout_s=60)
    assert refused.returncode == 2 and "--connect" in refused.stderr  # argparse's own usage


def test_keys_generate_writes_a_key_pair(tmp_path: Path) -> None:
    answer = run_cli("keys", "generate", str(tmp_path / "keys"), "hostb", "--json")
    assert answer.returncode == 0, answer.stderr
    files = answer.json()
    public, secret = Path(files["public_key_file"]), Path(files["secret_key_file"])
    assert public == tmp_path / "keys" / "hostb.key" and secret.name == "hostb.key_secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    public_key, secret_key = zmq.auth.load_certificate(str(secret))
    assert secret_key and public_key == zmq.auth.load_certificate(str(public))[0]


def test_importing_the_cli_does_not_import_the_app() -> None:
    probe = (
        "import sys, gateway.cli.main\n"
        "heavy = ('gateway.app', 'gateway.services', 'gateway.workers', 'starlette', 'zmq',"
        " 'uvicorn', 'huggingface_hub', 'msgspec')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


@contextmanager
def _http_server(seen: list[str | None]) -> Iterator[str]:
    """Answers GET /api/workers when the right bearer token comes, else 401 in the envelope."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            header = self.headers.get("Authorization")
            seen.append(header)
            ok = header == f"Bearer {TOKEN}"
            body = json.dumps({"workers": []} if ok else UNAUTHORIZED).encode()
            self.send_response(200 if ok else 401)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_token_goes_as_a_bearer_header_over_http() -> None:
    seen: list[str | None] = []
    with _http_server(seen) as url:
        refused = run_cli("workers", "list", url=url)
        flag = run_cli("workers", "list", "--token", TOKEN, url=url)
        env = run_cli("workers", "list", url=url, LX_API_TOKEN=TOKEN)
    assert refused.returncode == 1 and "error UNAUTHORIZED" in refused.stderr
    assert flag.returncode == 0 and env.returncode == 0, flag.stderr + env.stderr
    assert seen == [None, f"Bearer {TOKEN}", f"Bearer {TOKEN}"]


def test_the_token_goes_with_the_event_stream_and_a_refusal_is_reported() -> None:
    seen: list[str | None] = []

    def refuse(connection: ServerConnection, request: Request) -> Response:
        seen.append(request.headers.get("Authorization"))
        body = json.dumps(UNAUTHORIZED).encode()
        headers = Headers({"content-type": "application/json", "content-length": str(len(body))})
        return Response(401, "Unauthorized", headers, body)

    with serve(lambda connection: None, "127.0.0.1", 0, process_request=refuse) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
        answer = run_cli("models", "load", "openai/whisper-tiny.en", url=url, LX_API_TOKEN=TOKEN)
        server.shutdown()
    assert seen == [f"Bearer {TOKEN}"]  # subscribed (with the token) before anything else
    assert answer.returncode == 1 and "error UNAUTHORIZED" in answer.stderr, answer.stderr
