"""LX_API_TOKEN(_FILE), LX_ALLOW_INSECURE, LX_CORS_ORIGINS, LX_ALLOWED_HOSTS, the WebSocket
limits and LX_LOG_FORMAT, as Settings.from_env reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import Settings, SettingsError, is_loopback

TOKEN = "0123456789abcdef-token"


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.api_token is None
    assert settings.allow_insecure is False
    assert settings.cors_origins == ()
    assert settings.allowed_hosts == ()
    assert (settings.max_websockets, settings.max_websockets_per_client) == (256, 64)
    assert settings.log_format == "text"


def test_token_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert Settings.from_env({"LX_API_TOKEN": TOKEN}).api_token == TOKEN
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")  # the trailing newline an editor leaves
    assert Settings.from_env({"LX_API_TOKEN_FILE": str(token_file)}).api_token == TOKEN


def test_the_token_stays_out_of_repr() -> None:
    assert TOKEN not in repr(Settings.from_env({"LX_API_TOKEN": TOKEN}))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LX_API_TOKEN": TOKEN, "LX_API_TOKEN_FILE": "/x"}, "both set"),
        ({"LX_API_TOKEN": "short"}, "at least 16"),
        ({"LX_API_TOKEN": "has spaces in the middle of it"}, "visible ASCII"),
        ({"LX_API_TOKEN": "comma,separated,token,value"}, "without ','"),
        ({"LX_API_TOKEN_FILE": "/no/such/token/file"}, "cannot read"),
    ],
)
def test_bad_tokens_stop_start_up(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_an_empty_token_file_is_an_error_not_no_token(tmp_path: Path) -> None:
    empty = tmp_path / "token"
    empty.write_text("\n")
    with pytest.raises(SettingsError, match="LX_API_TOKEN_FILE"):
        Settings.from_env({"LX_API_TOKEN_FILE": str(empty)})


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "models.example.com"])
def test_a_non_loopback_address_needs_a_token_or_insecure(host: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"LX_HOST": host})
    assert "LX_API_TOKEN" in str(refused.value)
    assert "LX_ALLOW_INSECURE=1" in str(refused.value)
    assert Settings.from_env({"LX_HOST": host, "LX_API_TOKEN": TOKEN}).host == host
    assert Settings.from_env({"LX_HOST": host, "LX_ALLOW_INSECURE": "1"}).allow_insecure


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
def test_loopback_addresses_need_nothing(host: str) -> None:
    assert is_loopback(host)
    assert Settings.from_env({"LX_HOST": host}).host == host


def test_cors_origins() -> None:
    settings = Settings.from_env(
        {"LX_CORS_ORIGINS": " https://App.example.com/ , http://localhost:5173,"}
    )
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")


@pytest.mark.parametrize(
    "origin", ["*", "app.example.com", "https://app.example.com/path", "ftp://x"]
)
def test_cors_origins_are_exact_origins(origin: str) -> None:
    with pytest.raises(SettingsError, match="LX_CORS_ORIGINS"):
        Settings.from_env({"LX_CORS_ORIGINS": origin})


def test_allowed_hosts() -> None:
    settings = Settings.from_env({"LX_ALLOWED_HOSTS": "Models.Internal, 10.0.0.5,[::1]"})
    assert settings.allowed_hosts == ("models.internal", "10.0.0.5", "::1")
    assert Settings.from_env({"LX_ALLOWED_HOSTS": "*"}).allowed_hosts == ("*",)
    with pytest.raises(SettingsError, match="LX_ALLOWED_HOSTS"):
        Settings.from_env({"LX_ALLOWED_HOSTS": "http://models.internal"})


def test_websocket_limits_and_log_format() -> None:
    settings = Settings.from_env(
        {
            "LX_MAX_WEBSOCKETS": "10",
            "LX_MAX_WEBSOCKETS_PER_CLIENT": "2",
            "LX_LOG_FORMAT": "JSON",
        }
    )
    assert (settings.max_websockets, settings.max_websockets_per_client) == (10, 2)
    assert settings.log_format == "json"
    with pytest.raises(SettingsError, match="LX_MAX_WEBSOCKETS"):
        Settings.from_env({"LX_MAX_WEBSOCKETS": "0"})
    with pytest.raises(SettingsError, match="LX_LOG_FORMAT"):
        Settings.from_env({"LX_LOG_FORMAT": "xml"})
