"""The access decisions from plain strings: token, Host, Origin (gateway/http/access_rules.py)."""

from __future__ import annotations

import pytest

from gateway.http.access_rules import (
    BearerToken,
    allowed_host_names,
    host_allowed,
    host_name,
    origin_allowed,
    origin_checked,
    subprotocol_to_answer,
    without_token_subprotocols,
)

TOKEN = "s3cret-token-0123456789"


def test_the_token_matches_only_itself() -> None:
    token = BearerToken(TOKEN)
    assert token.matches(TOKEN)
    assert not token.matches(TOKEN[:-1])
    assert not token.matches(TOKEN + "x")
    assert not token.matches("")


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),  # the scheme is case-insensitive (RFC 6750)
        (f"  Bearer   {TOKEN}  ", True),
        (f"Basic {TOKEN}", False),
        (TOKEN, False),
        ("Bearer", False),
        ("Bearer wrong-token-0123456789", False),
        (None, False),
    ],
)
def test_authorization_header(header: str | None, ok: bool) -> None:
    assert BearerToken(TOKEN).matches_authorization(header) is ok


def test_the_token_may_come_as_a_subprotocol() -> None:
    token = BearerToken(TOKEN)
    assert token.matches_subprotocols(["bearer", f"bearer.{TOKEN}"])
    assert token.matches_subprotocols([f"bearer.{TOKEN}"])
    assert not token.matches_subprotocols(["bearer", "bearer.wrong"])
    assert not token.matches_subprotocols([TOKEN])  # without the prefix it is not a token
    assert not token.matches_subprotocols([])


def test_the_routes_never_see_the_token_and_the_answer_never_holds_it() -> None:
    offered = ["bearer", f"bearer.{TOKEN}", "captions.v1"]
    assert without_token_subprotocols(offered) == ["bearer", "captions.v1"]
    assert subprotocol_to_answer(offered) == "bearer"
    assert subprotocol_to_answer(["captions.v1"]) == "captions.v1"
    assert subprotocol_to_answer([]) is None


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8000", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("[::1]:8000", "::1"),
        ("::1", "::1"),
        ("models.example.com.", "models.example.com"),
        ("evil.example:80", "evil.example"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_default_hosts_are_loopback_and_the_bound_address() -> None:
    allowed = allowed_host_names((), "10.1.2.3", machine_names=["box", "192.168.1.9"])
    assert allowed == frozenset({"localhost", "127.0.0.1", "::1", "10.1.2.3"})
    assert host_allowed("10.1.2.3:8000", allowed)
    assert host_allowed("localhost:8000", allowed)
    assert not host_allowed("box:8000", allowed)  # the gateway does not listen there
    assert not host_allowed("attacker.example:8000", allowed)  # DNS rebinding
    assert not host_allowed(None, allowed)


def test_listening_everywhere_answers_to_the_machine_names() -> None:
    allowed = allowed_host_names((), "0.0.0.0", machine_names=["Box", "192.168.1.9", "fe80::1"])
    assert allowed is not None
    assert {"box", "192.168.1.9", "fe80::1", "localhost"} <= allowed
    assert not host_allowed("attacker.example", allowed)


def test_configured_hosts_replace_the_defaults_and_star_allows_any() -> None:
    allowed = allowed_host_names(("models.internal",), "127.0.0.1")
    assert allowed == frozenset({"models.internal"})
    assert not host_allowed("127.0.0.1:8000", allowed)
    assert allowed_host_names(("*",), "127.0.0.1") is None
    assert host_allowed("anything.example", None)


def test_origins_match_exactly() -> None:
    allowed = ["https://app.example.com", "http://localhost:5173"]
    assert origin_allowed("https://app.example.com", allowed)
    assert origin_allowed("HTTPS://APP.EXAMPLE.COM/", allowed)
    assert not origin_allowed("https://app.example.com:8443", allowed)
    assert not origin_allowed("http://app.example.com", allowed)  # another scheme
    assert not origin_allowed("https://evil.app.example.com", allowed)
    assert not origin_allowed("null", allowed)  # sandboxed frames and files
    assert not origin_allowed("https://app.example.com", [])


@pytest.mark.parametrize(
    ("method", "websocket", "preflight", "checked"),
    [
        ("POST", False, False, True),  # a text/plain POST needs no preflight: still checked
        ("PUT", False, False, True),
        ("DELETE", False, False, True),
        ("PATCH", False, False, True),
        ("GET", True, False, True),  # a WebSocket upgrade
        ("OPTIONS", False, True, True),  # a preflight
        ("GET", False, False, False),  # the page cannot read the answer without CORS
        ("HEAD", False, False, False),
        ("OPTIONS", False, False, False),  # not a preflight: the route answers
    ],
)
def test_which_requests_need_an_allowed_origin(
    method: str, websocket: bool, preflight: bool, checked: bool
) -> None:
    assert origin_checked(method, websocket, preflight) is checked
