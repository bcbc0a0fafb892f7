"""One Settings object, read from the LX_* environment once and passed in explicitly."""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

import msgspec

from protocol.vocabulary import ComputeType, Device
from protocol.wire.tuning import WorkerTuning


class SettingsError(ValueError):
    """A bad environment value; the message names the variable and what it accepts."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    # None: one CPU worker plus one per GPU found; () runs no local worker at all.
    devices: tuple[str, ...] | None = None
    state_dir: Path = field(default_factory=lambda: Path("state"))
    offline: bool = False
    worker_python: str = sys.executable
    heartbeat_interval_s: float = 1.0
    worker_ready_timeout_s: float = 30.0
    restart_backoff_initial_s: float = 0.25
    restart_backoff_max_s: float = 10.0
    load_timeout_ms: int = 600_000
    max_upload_mb: float = 100.0
    default_asr_model: str = "openai/whisper-tiny.en"
    default_device: Device = "auto"
    subscriber_queue_size: int = 256
    asr_compute_type: ComputeType = "int8"
    mt_compute_type: ComputeType = "int8"
    mt_provider: Literal["nllb", "m2m100"] = "nllb"
    nllb_model: str = "facebook/nllb-200-distilled-600M"
    m2m_model: str = "facebook/m2m100_418M"
    target_language: str = "fr"
    # Folders searched for CTranslate2 models beside the Hugging Face cache.
    model_dirs: tuple[Path, ...] = ()
    # Memory one worker may use (MiB); None: what the device has. Loads are admitted
    # against it before any weights are read.
    worker_memory_limit_mb: int | None = None
    # Cache policy (contract ModelCacheConfig).
    max_models_loaded: int = 3
    cache_eviction_policy: Literal["lru", "lfu", "ttl"] = "lru"
    idle_unload_timeout_ms: int = 300_000
    memory_pressure_threshold: float = 0.8
    preload_popular_models: bool = False
    preload_models: tuple[str, ...] = ()
    cache_check_interval_s: float = 1.0
    result_cache_size: int = 512
    max_text_chars: int = 20_000
    # Every worker's threads, batching and lanes (contract InferenceOptimization.batching).
    worker_tuning: WorkerTuning = field(default_factory=WorkerTuning)
    # Supervision: a worker silent this long is hung; crash loops; drains; remote workers.
    heartbeat_timeout_s: float = 10.0
    crash_loop_limit: int = 5
    crash_loop_window_s: float = 60.0
    drain_timeout_s: float = 30.0
    shutdown_timeout_s: float = 10.0
    # tcp:// endpoint where remote workers connect over CURVE; None: local workers only.
    worker_listen: str | None = None
    curve_server_secret_key_file: Path | None = None
    curve_allowed_keys_dir: Path | None = None
    # Access control and logs (README "Security"). The token stays out of repr (and logs).
    api_token: str | None = field(default=None, repr=False)
    allow_insecure: bool = False
    cors_origins: tuple[str, ...] = ()
    # (): the loopback names and the bound address; ("*",): any Host header.
    allowed_hosts: tuple[str, ...] = ()
    max_websockets: int = 256
    max_websockets_per_client: int = 64
    log_format: Literal["text", "json"] = "text"
    # Live caption streams (README "Live captions"): heartbeats, how long a dropped stream
    # waits for its client, the client's window, a frame's size, audio not yet final.
    live_heartbeat_interval_ms: int = 10_000
    live_heartbeat_timeout_ms: int = 30_000
    live_resume_seconds: int = 300
    live_max_in_flight: int = 64
    live_max_msg_bytes: int = 131_072
    live_backlog_seconds: int = 30

    @property
    def default_mt_model(self) -> str:
        return self.nllb_model if self.mt_provider == "nllb" else self.m2m_model

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        devices = env.get("LX_WORKER_DEVICES")
        return cls(
            host=env.get("LX_HOST", cls.host),
            port=_int(env, "LX_PORT", cls.port, 1, 65535),
            devices=None if devices is None else _devices(devices),
            state_dir=Path(env.get("LX_STATE_DIR", "state")),
            offline=_bool(env, "LX_OFFLINE") or _bool(env, "HF_HUB_OFFLINE"),
            load_timeout_ms=_int(env, "LX_LOAD_TIMEOUT_MS", cls.load_timeout_ms, 1, 86_400_000),
            max_upload_mb=float(_int(env, "LX_MAX_UPLOAD_MB", 100, 1, 10_240)),
            default_asr_model=env.get("LX_ASR_MODEL", cls.default_asr_model),
            default_device=cast(Device, _choice(env, "LX_DEVICE", "auto", get_args(Device))),
            asr_compute_type=cast(ComputeType, _choice(env, "LX_ASR_COMPUTE", "int8", _TYPES)),
            mt_compute_type=cast(ComputeType, _choice(env, "LX_MT_COMPUTE_TYPE", "int8", _TYPES)),
            mt_provider=cast(
                Literal["nllb", "m2m100"],
                _choice(env, "LX_MT_PROVIDER", "nllb", ("nllb", "m2m100")),
            ),
            nllb_model=env.get("LX_NLLB_MODEL", cls.nllb_model),
            m2m_model=env.get("LX_M2M_MODEL", cls.m2m_model),
            target_language=env.get("LX_MT_TARGET_LANGUAGE", cls.target_language),
            model_dirs=tuple(
                Path(p) for p in env.get("LX_MODEL_DIRS", "").split(os.pathsep) if p.strip()
            ),
            worker_memory_limit_mb=_int(env, "LX_WORKER_MEMORY_LIMIT_MB", 0, 0, 10_000_000) or None,
            max_models_loaded=_int(env, "LX_MODEL_CACHE_SIZE", 3, 1, 1000),
            cache_eviction_policy=cast(
                Literal["lru", "lfu", "ttl"],
                _choice(env, "LX_CACHE_EVICTION_POLICY", "lru", _POLICIES),
            ),
            idle_unload_timeout_ms=_int(env, "LX_AUTO_UNLOAD_TIMEOUT_MS", 300_000, 0, 2**31),
            memory_pressure_threshold=_fraction(env, "LX_MEMORY_PRESSURE_THRESHOLD", 0.8),
            preload_popular_models=_bool(env, "LX_PRELOAD_POPULAR_MODELS"),
            preload_models=tuple(
                m.strip() for m in env.get("LX_PRELOAD_MODELS", "").split(",") if m.strip()
            ),
            cache_check_interval_s=_int(env, "LX_CACHE_CHECK_INTERVAL_MS", 1000, 10, 3_600_000)
            / 1000,
            result_cache_size=_int(env, "LX_RESULT_CACHE_SIZE", 512, 0, 1_000_000),
            max_text_chars=_int(env, "LX_MAX_TEXT_CHARS", 20_000, 1, 10_000_000),
            worker_tuning=_worker_tuning(env),
            heartbeat_interval_s=_ms(env, "LX_WORKER_HEARTBEAT_INTERVAL_MS", 1000, 10),
            heartbeat_timeout_s=_ms(env, "LX_WORKER_HEARTBEAT_TIMEOUT_MS", 10_000, 50),
            restart_backoff_initial_s=_ms(env, "LX_WORKER_RESTART_BACKOFF_MS", 250, 0),
            restart_backoff_max_s=_ms(env, "LX_WORKER_RESTART_BACKOFF_MAX_MS", 10_000, 0),
            crash_loop_limit=_int(env, "LX_WORKER_CRASH_LOOP_LIMIT", 5, 1, 1000),
            crash_loop_window_s=_ms(env, "LX_WORKER_CRASH_LOOP_WINDOW_MS", 60_000, 1),
            drain_timeout_s=_ms(env, "LX_WORKER_DRAIN_TIMEOUT_MS", 30_000, 0),
            shutdown_timeout_s=_ms(env, "LX_SHUTDOWN_TIMEOUT_MS", 10_000, 0),
            worker_listen=_listen(env),
            curve_server_secret_key_file=_path(env, "LX_CURVE_SERVER_SECRET_KEY_FILE"),
            curve_allowed_keys_dir=_path(env, "LX_CURVE_ALLOWED_KEYS_DIR"),
            api_token=_api_token(env),
            allow_insecure=_bool(env, "LX_ALLOW_INSECURE"),
            cors_origins=_origins(env.get("LX_CORS_ORIGINS", "")),
            allowed_hosts=_hosts(env.get("LX_ALLOWED_HOSTS", "")),
            max_websockets=_int(env, "LX_MAX_WEBSOCKETS", 256, 1, 100_000),
            max_websockets_per_client=_int(env, "LX_MAX_WEBSOCKETS_PER_CLIENT", 64, 1, 100_000),
            log_format=cast(
                Literal["text", "json"], _choice(env, "LX_LOG_FORMAT", "text", ("text", "json"))
            ),
            live_heartbeat_interval_ms=_int(
                env, "LX_LIVE_HEARTBEAT_INTERVAL_MS", cls.live_heartbeat_interval_ms, 100, 600_000
            ),
            live_heartbeat_timeout_ms=_int(
                env, "LX_LIVE_HEARTBEAT_TIMEOUT_MS", cls.live_heartbeat_timeout_ms, 200, 3_600_000
            ),
            live_resume_seconds=_int(
                env, "LX_LIVE_RESUME_SECONDS", cls.live_resume_seconds, 0, 86_400
            ),
            live_max_in_flight=_int(
                env, "LX_LIVE_MAX_IN_FLIGHT", cls.live_max_in_flight, 1, 100_000
            ),
            live_max_msg_bytes=_int(
                env, "LX_LIVE_MAX_MSG_BYTES", cls.live_max_msg_bytes, 1024, 64 * 1024 * 1024
            ),
            live_backlog_seconds=_int(
                env, "LX_LIVE_BACKLOG_SECONDS", cls.live_backlog_seconds, 1, 3600
            ),
        )._exposed_safely()

    def _exposed_safely(self) -> Settings:
        """Refuse to serve a non-loopback address to anyone who asks, unless told to."""
        if self.api_token is None and not self.allow_insecure and not is_loopback(self.host):
            raise SettingsError(
                f"LX_HOST={self.host!r} is not a loopback address and no token is set: set "
                "LX_API_TOKEN (or LX_API_TOKEN_FILE) so that only clients holding it are served, "
                "or LX_ALLOW_INSECURE=1 to serve every client that can reach it"
            )
        return self


_TYPES = get_args(ComputeType)
_POLICIES = ("lru", "lfu", "ttl")

# Each WorkerTuning field is read from LX_<FIELD>, but for these names.
_TUNING_VARIABLES = {"cpu_threads": "LX_WORKER_CPU_THREADS"}


def tuning_variable(field_name: str) -> str:
    return _TUNING_VARIABLES.get(field_name, f"LX_{field_name.upper()}")


def _worker_tuning(env: Mapping[str, str]) -> WorkerTuning:
    """Defaults and ranges are the Struct's own (protocol/wire/tuning.py)."""
    defaults = WorkerTuning()
    values = {}
    for tuning_field in msgspec.structs.fields(WorkerTuning):
        name = tuning_field.name
        info = msgspec.inspect.type_info(tuning_field.type)
        bounds = info.type if isinstance(info, msgspec.inspect.Metadata) else info
        if not isinstance(bounds, msgspec.inspect.IntType) or bounds.ge is None or not bounds.le:
            raise TypeError(f"WorkerTuning.{name}: only bounded whole numbers are read")
        values[name] = _int(
            env, tuning_variable(name), getattr(defaults, name), bounds.ge, bounds.le
        )
    return WorkerTuning(**values)


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number from 0 to 1") from None
    if not 0.0 < value <= 1.0:
        raise SettingsError(f"{name}={value}: expected a number above 0 and at most 1")
    return value


def _ms(env: Mapping[str, str], name: str, default: int, low: int) -> float:
    """A duration given in milliseconds, as seconds."""
    return _int(env, name, default, low, 86_400_000) / 1000


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def _listen(env: Mapping[str, str]) -> str | None:
    # Remote workers only ever come in over CURVE: both key settings are required.
    endpoint = env.get("LX_WORKER_LISTEN", "").strip()
    if not endpoint:
        return None
    if not endpoint.startswith("tcp://"):
        raise SettingsError(f"LX_WORKER_LISTEN={endpoint!r}: expected tcp://HOST:PORT")
    for name in ("LX_CURVE_SERVER_SECRET_KEY_FILE", "LX_CURVE_ALLOWED_KEYS_DIR"):
        if not env.get(name, "").strip():
            raise SettingsError(f"LX_WORKER_LISTEN is set: {name} is required as well")
    return endpoint


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value}: expected a value from {low} to {high}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return False
    if raw in {"1", "true", "yes", "on"}:
        return True
    raise SettingsError(f"{name}={raw!r}: expected one of 1, 0, true, false, yes, no, on, off")


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower() or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _devices(raw: str) -> tuple[str, ...]:
    devices = tuple(d.strip() for d in raw.split(",") if d.strip())
    for device in devices:
        kind, _, index = device.partition(":")
        if kind not in {"cpu", "cuda"} or (index and not index.isdigit()):
            raise SettingsError(
                f"LX_WORKER_DEVICES: {device!r} is not a device; expected cpu, cuda:N (comma list)"
            )
    return devices


def is_loopback(host: str) -> bool:
    """`localhost`, or an address on the loopback network (127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another name: it may resolve to anything


_MIN_TOKEN_CHARS = 16
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # visible ASCII: fits a header and a subprotocol


def _api_token(env: Mapping[str, str]) -> str | None:
    raw = env.get("LX_API_TOKEN", "")
    path = env.get("LX_API_TOKEN_FILE", "").strip()
    if raw and path:
        raise SettingsError("LX_API_TOKEN and LX_API_TOKEN_FILE are both set: set only one")
    name = "LX_API_TOKEN"
    if path:
        name = f"LX_API_TOKEN_FILE={path!r}"
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{name}: cannot read the token ({exc})") from None
    token = raw.strip()
    if not raw and not path:
        return None  # no token: only loopback clients, unless LX_ALLOW_INSECURE
    if len(token) < _MIN_TOKEN_CHARS or not _TOKEN.match(token) or ";" in token or "," in token:
        raise SettingsError(
            f"{name}: expected a token of at least {_MIN_TOKEN_CHARS} visible ASCII characters "
            "without ',' or ';' (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return token


_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$")


def _origins(raw: str) -> tuple[str, ...]:
    """Exact origins (`scheme://host[:port]`, as browsers send them); no wildcard."""
    origins = []
    for item in (o.strip().lower().rstrip("/") for o in raw.split(",")):
        if not item:
            continue
        if not _ORIGIN.match(item):
            raise SettingsError(
                f"LX_CORS_ORIGINS: {item!r} is not an origin; expected a comma list of "
                "scheme://host[:port] such as https://app.example.com,http://localhost:5173"
            )
        origins.append(item)
    return tuple(dict.fromkeys(origins))


def _hosts(raw: str) -> tuple[str, ...]:
    """Host names or addresses (any port), or `*` for any Host header."""
    hosts = []
    for item in (h.strip().lower() for h in raw.split(",")):
        if not item:
            continue
        name = item.strip("[]")
        if item != "*" and not re.match(r"^[a-z0-9.:-]+$", name):
            raise SettingsError(
                f"LX_ALLOWED_HOSTS: {item!r} is not a host name or address; expected a comma "
                "list such as models.internal,10.0.0.5 (no port, no scheme), or *"
            )
        hosts.append(name)
    return tuple(dict.fromkeys(hosts))
