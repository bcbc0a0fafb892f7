"""Starlette's TestClient sends `Host: testserver`, which the gateway's Host allow-list
refuses (421): in-process clients of the app use a loopback base URL, as a local client would."""

LOOPBACK_URL = "http://127.0.0.1"
LOOPBACK_WS = "ws://127.0.0.1"
