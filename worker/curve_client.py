"""CurveZMQ on the worker's side: the gateway's public key and the worker's own key pair.

Key files are those `python -m gateway.workers.curve_keys` writes (pyzmq's certificate format):
`--server-key` is the gateway's `.key` file (or its z85 text), `--secret-key-file` the
worker's own `.key_secret` file, whose public half is in the gateway's allow-list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

# Retry a refused or lost connection at most every 2 s rather than every 0.1 s.
_RECONNECT_MAX_MS = 2000


@dataclass(frozen=True)
class CurveKeys:
    server_public: bytes
    public: bytes
    secret: bytes


def load_curve_keys(server_key: str, secret_key_file: Path) -> CurveKeys:
    """Raises ValueError with the file at fault when a key cannot be read."""
    path = Path(server_key)
    if path.is_file():
        server_public, _ = zmq.auth.load_certificate(str(path))
    elif len(server_key) == 40:
        server_public = server_key.encode()
    else:
        raise ValueError(f"--server-key {server_key!r}: not a key file nor a 40-character key")
    try:
        public, secret = zmq.auth.load_certificate(str(secret_key_file))
    except OSError as exc:
        raise ValueError(f"--secret-key-file {secret_key_file}: {exc}") from exc
    if not secret:
        raise ValueError(f"--secret-key-file {secret_key_file} holds no secret key")
    return CurveKeys(server_public=server_public, public=public, secret=secret)


def secure(socket: zmq.Socket[bytes], keys: CurveKeys) -> None:
    """Make `socket` a CURVE client of the gateway; call before connect()."""
    socket.curve_serverkey = keys.server_public
    socket.curve_publickey = keys.public
    socket.curve_secretkey = keys.secret
    socket.setsockopt(zmq.RECONNECT_IVL_MAX, _RECONNECT_MAX_MS)
