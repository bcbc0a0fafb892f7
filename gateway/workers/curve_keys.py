"""CurveZMQ key files for remote workers, and the command that makes them.

    python -m gateway.workers.curve_keys KEYS_DIR NAME

writes `NAME.key` (public, safe to copy anywhere) and `NAME.key_secret` (keep private).
Make one pair for the gateway (`LX_CURVE_SERVER_SECRET_KEY_FILE=.../gateway.key_secret`;
each worker gets `gateway.key` as `--server-key`) and one per worker host (its
`.key_secret` is the worker's `--secret-key-file`; its `.key` goes into
`LX_CURVE_ALLOWED_KEYS_DIR` on the gateway). The files are pyzmq's certificate format.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import zmq.auth


class KeyFileError(ValueError):
    """A key file that is missing, unreadable, or lacks the key asked for."""


def generate(directory: Path, name: str) -> tuple[Path, Path]:
    """Write a new key pair; returns (public file, secret file)."""
    directory.mkdir(parents=True, exist_ok=True)
    public, secret = zmq.auth.create_certificates(str(directory), name)
    Path(secret).chmod(0o600)
    return Path(public), Path(secret)


def load_key_pair(path: Path) -> tuple[bytes, bytes]:
    """(public, secret) z85 keys from a `.key_secret` file."""
    try:
        public, secret = zmq.auth.load_certificate(str(path))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"cannot read CURVE key file {path}: {exc}") from exc
    if not secret:
        raise KeyFileError(f"{path} holds no secret key (use the .key_secret file)")
    return public, secret


def allowed_public_keys(directory: Path) -> set[bytes]:
    """The z85 public keys of every `.key` file in the allow-list folder (read each time,
    so adding or removing a worker's key needs no gateway restart)."""
    try:
        return set(zmq.auth.load_certificates(str(directory)))
    except (OSError, ValueError):
        return set()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.workers.curve_keys", description=__doc__
    )
    parser.add_argument("directory", type=Path, help="folder to write the key files into")
    parser.add_argument("name", help="base name of the key files, e.g. gateway or a host name")
    args = parser.parse_args(argv)
    public, secret = generate(args.directory, args.name)
    sys.stdout.write(f"public key: {public}\nsecret key: {secret}\n")


if __name__ == "__main__":
    main()
