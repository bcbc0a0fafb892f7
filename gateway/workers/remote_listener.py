"""The TCP endpoint remote workers connect to: CurveZMQ only, and only listed keys.

Every connection is encrypted with the gateway's server key; a ZAP handler admits a
worker only if its public key is a `.key` file in the allow-list folder. Anything else
(an unlisted key, a wrong server key, a client without CURVE) gets nothing through and is
logged, once a minute per peer and cause so a misconfigured worker retrying cannot flood
the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator
from zmq.utils.monitor import recv_monitor_message

from gateway.workers.curve_keys import allowed_public_keys, load_key_pair

log = logging.getLogger(__name__)

_LOG_EVERY_S = 60.0
_HANDSHAKE_FAILURES = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)


class _RateLimitedLog:
    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -_LOG_EVERY_S) >= _LOG_EVERY_S:
            self._last[key] = now
            log.warning(message, *args)


class _AllowListAuthenticator(AsyncioAuthenticator):
    """ZAP handler: a worker key is allowed when its `.key` file is in the folder."""

    def __init__(self, context: zmq.asyncio.Context, allowed_dir: Path, limited: _RateLimitedLog):
        super().__init__(context)
        self._allowed_dir = allowed_dir
        self._limited = limited
        self._peer = "?"

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        # The peer address is only in the ZAP request; keep it for the refusal log.
        self._peer = msg[3].decode(errors="replace") if len(msg) > 3 else "?"
        await super().handle_zap_message(msg)

    def callback(self, domain: str, client_key: bytes) -> bool:
        if client_key in allowed_public_keys(self._allowed_dir):
            log.info("admitted worker key %s from %s", client_key.decode(), self._peer)
            return True
        self._limited.warning(
            f"key {self._peer} {client_key!r}",
            "refused a worker from %s: its public key %s is not in %s",
            self._peer,
            client_key.decode(errors="replace"),
            self._allowed_dir,
        )
        return False


class RemoteListener:
    def __init__(
        self,
        context: zmq.asyncio.Context,
        socket: zmq.asyncio.Socket,
        endpoint: str,
        secret_key_file: Path,
        allowed_dir: Path,
    ) -> None:
        """Secure `socket` (a fresh ROUTER) and bind it to `endpoint`."""
        self.endpoint = endpoint
        self._limited = _RateLimitedLog()
        public, secret = load_key_pair(secret_key_file)
        if not allowed_dir.is_dir():
            raise ValueError(f"LX_CURVE_ALLOWED_KEYS_DIR {allowed_dir} is not a folder")
        self._auth = _AllowListAuthenticator(context, allowed_dir, self._limited)
        self._auth.start()
        self._auth.configure_curve_callback(domain="*", credentials_provider=self._auth)
        socket.curve_secretkey = secret
        socket.curve_publickey = public
        socket.curve_server = True
        self._monitor = socket.get_monitor_socket(_HANDSHAKE_FAILURES)
        socket.bind(endpoint)
        self._watcher = asyncio.create_task(self._watch(), name="remote-handshakes")
        log.info("remote workers may connect on %s (CURVE; keys in %s)", endpoint, allowed_dir)

    async def _watch(self) -> None:
        # A failed handshake is a wrong server key, a client without CURVE, or a refused key.
        while True:
            event = await recv_monitor_message(self._monitor)
            kind = str(zmq.Event(event["event"]).name)
            detail = f"value {event['value']}"  # the ZAP status code for an AUTH failure
            if event["event"] == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
                with contextlib.suppress(ValueError):
                    detail = str(zmq.Event(event["value"]).name)  # e.g. ..._CRYPTOGRAPHIC
            self._limited.warning(
                f"{kind} {detail}",
                "a worker connection on %s failed its CURVE handshake (%s, %s): "
                "a wrong server key, a worker without keys, or a key not allowed",
                self.endpoint,
                kind,
                detail,
            )

    async def close(self) -> None:
        self._watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watcher
        self._monitor.close(linger=0)
        self._auth.stop()
