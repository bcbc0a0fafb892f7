"""One Settings object, read from the LX_* environment once and passed in explicitly."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


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
    worker_cpu_threads: int = 0
    heartbeat_interval_s: float = 1.0
    worker_ready_timeout_s: float = 30.0
    restart_backoff_initial_s: float = 0.25
    restart_backoff_max_s: float = 10.0
    load_timeout_ms: int = 600_000
    max_upload_mb: float = 100.0
    default_asr_model: str = "openai/whisper-tiny.en"
    default_device: str = "auto"
    subscriber_queue_size: int = 256
    asr_compute_type: str = "int8"
    mt_compute_type: str = "int8"
    mt_provider: str = "nllb"
    nllb_model: str = "facebook/nllb-200-distilled-600M"
    m2m_model: str = "facebook/m2m100_418M"
    target_language: str = "fr"
    # Folders searched for CTranslate2 models beside the Hugging Face cache.
    model_dirs: tuple[Path, ...] = ()

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
            worker_cpu_threads=_int(env, "LX_WORKER_CPU_THREADS", 0, 0, 1024),
            load_timeout_ms=_int(env, "LX_LOAD_TIMEOUT_MS", cls.load_timeout_ms, 1, 86_400_000),
            max_upload_mb=float(_int(env, "LX_MAX_UPLOAD_MB", 100, 1, 10_240)),
            default_asr_model=env.get("LX_ASR_MODEL", cls.default_asr_model),
            default_device=_choice(env, "LX_DEVICE", "auto", ("cpu", "cuda", "auto")),
            asr_compute_type=_choice(env, "LX_ASR_COMPUTE", "int8", _COMPUTE_TYPES),
            mt_compute_type=_choice(env, "LX_MT_COMPUTE_TYPE", "int8", _COMPUTE_TYPES),
            mt_provider=_choice(env, "LX_MT_PROVIDER", "nllb", ("nllb", "m2m100")),
            nllb_model=env.get("LX_NLLB_MODEL", cls.nllb_model),
            m2m_model=env.get("LX_M2M_MODEL", cls.m2m_model),
            target_language=env.get("LX_MT_TARGET_LANGUAGE", cls.target_language),
            model_dirs=tuple(
                Path(p) for p in env.get("LX_MODEL_DIRS", "").split(os.pathsep) if p.strip()
            ),
        )


_COMPUTE_TYPES = ("int8", "float16", "float32")


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
