"""Who may talk to the gateway, decided from plain strings: the bearer token, the Host header
allow-list and the Origin allow-list. The middleware (access_guard.py) only carries these out.

- Token (`LX_API_TOKEN`): `Authorization: Bearer <token>` on HTTP and WebSocket; browsers,
  which cannot set headers on a WebSocket, offer the subprotocols `bearer` and
  `bearer.<token>` instead, and the gateway answers with `bearer` (never the token). A
  query parameter is not accepted: query strings end up in logs. Tokens are compared by
  their SHA-256 digests with `hmac.compare_digest`, in constant time whatever their length.
- Host (`LX_ALLOWED_HOSTS`): by default the loopback names, the bound address and, when the
  gateway listens on every address, this machine's names and addresses; `*` turns the check
  off. A name an attacker controls (DNS rebinding) is never in that list.
- Origin (`LX_CORS_ORIGINS`): a request a browser sends from a page (it says its `Origin`)
  that changes state (POST, PUT, DELETE, PATCH), a WebSocket upgrade or a CORS preflight is
  refused unless its origin is listed, preflighted or not: a `text/plain` POST is a
  "simple" request that no preflight precedes. Requests without an Origin (curl, SDKs) pass.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

BEARER_SUBPROTOCOL = "bearer"
_TOKEN_SUBPROTOCOL_PREFIX = BEARER_SUBPROTOCOL + "."

STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})


class BearerToken:
    """The configured token; `matches` compares in constant time."""

    def __init__(self, token: str) -> None:
        self._digest = _digest(token)

    def matches(self, candidate: str) -> bool:
        return hmac.compare_digest(_digest(candidate), self._digest)

    def matches_authorization(self, header: str | None) -> bool:
        """`Authorization: Bearer <token>` (the scheme in any case, RFC 6750)."""
        if header is None:
            return False
        scheme, _, credentials = header.strip().partition(" ")
        return scheme.lower() == "bearer" and self.matches(credentials.strip())

    def matches_subprotocols(self, offered: Sequence[str]) -> bool:
        """Whether one offered subprotocol is `bearer.<token>`."""
        return any(
            self.matches(p[len(_TOKEN_SUBPROTOCOL_PREFIX) :])
            for p in offered
            if p.startswith(_TOKEN_SUBPROTOCOL_PREFIX)
        )


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def without_token_subprotocols(offered: Sequence[str]) -> list[str]:
    """The offered subprotocols the routes may see: the token ones are the gateway's."""
    return [p for p in offered if not p.startswith(_TOKEN_SUBPROTOCOL_PREFIX)]


def subprotocol_to_answer(offered: Sequence[str]) -> str | None:
    """What to accept a WebSocket with when the route names none: a browser that offered
    subprotocols fails a handshake that selects none of them. `bearer` when offered, else
    the first offered (to close a refused one with a code the browser sees), else none."""
    if BEARER_SUBPROTOCOL in offered:
        return BEARER_SUBPROTOCOL
    return offered[0] if offered else None


def host_name(host_header: str) -> str:
    """The name or address of a Host header, without port, brackets or trailing dot."""
    value = host_header.strip().lower()
    if value.startswith("["):  # [v6]:port
        return value[1:].partition("]")[0]
    if value.count(":") == 1:
        value = value.partition(":")[0]
    return value.rstrip(".")


def allowed_host_names(
    configured: Sequence[str], bound_host: str, machine_names: Iterable[str] = ()
) -> frozenset[str] | None:
    """The host names a request may name (None: any). `machine_names` count only when the
    gateway listens on every address (then it may be reached by any of them)."""
    if "*" in configured:
        return None
    if configured:
        return frozenset(host_name(h) for h in configured)
    bound = host_name(bound_host)
    names = set(LOOPBACK_NAMES)
    if bound in _WILDCARD_ADDRESSES:
        names |= {host_name(n) for n in machine_names if n}
    else:
        names.add(bound)
    return frozenset(names)


def host_allowed(host_header: str | None, allowed: frozenset[str] | None) -> bool:
    """An HTTP/1.1 request without Host is malformed: refused unless any host will do."""
    if allowed is None:
        return True
    return host_header is not None and host_name(host_header) in allowed


def normal_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def origin_allowed(origin: str, allowed: Iterable[str]) -> bool:
    """`null` (sandboxed frames, files) and anything not listed exactly is refused."""
    return normal_origin(origin) in {normal_origin(o) for o in allowed}


def origin_checked(method: str, websocket: bool, preflight: bool) -> bool:
    """Which requests from a page must come from an allowed origin: those that act, and the
    preflights that ask leave to act. A page's GET cannot read the answer without CORS."""
    return websocket or preflight or method.upper() in STATE_CHANGING_METHODS
