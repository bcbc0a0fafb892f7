"""Start-up refuses defaults that no request could use, naming the variable to fix."""

from __future__ import annotations

from gateway.sessions.config_update import ConfigChecks, validate_model_config
from gateway.settings import Settings, SettingsError
from protocol.api.config import ModelConfig
from protocol.errors import ServiceError


def _variable_for(field: str, settings: Settings) -> str:
    mt_model = "LX_NLLB_MODEL" if settings.mt_provider == "nllb" else "LX_M2M_MODEL"
    for prefix, name in (
        ("asr.model_id", "LX_ASR_MODEL"),
        ("mt.model_id", mt_model),
        ("mt.target_language", "LX_MT_TARGET_LANGUAGE"),
        ("asr.compute_config.compute_type", "LX_ASR_COMPUTE"),
        ("mt.compute_config.compute_type", "LX_MT_COMPUTE_TYPE"),
    ):
        if field.startswith(prefix):
            return name
    return "LX_DEVICE"


def check_preloads(settings: Settings, known: set[str]) -> None:
    unknown = [m for m in settings.preload_models if m not in known]
    if unknown:
        raise SettingsError(
            f"LX_PRELOAD_MODELS: unknown model(s) {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(known))})"
        )


def check_defaults(
    settings: Settings,
    defaults: ModelConfig,
    checks: ConfigChecks,
    known_models: dict[str, list[str]],
) -> None:
    """Raise SettingsError naming the LX_* variable whose value no request could use."""
    try:
        validate_model_config(defaults, checks)
    except ServiceError as exc:
        field = str(exc.details.get("field", ""))
        allowed = (
            exc.details.get("supported_compute_types")
            or exc.details.get("supported_devices")
            or known_models.get(field.partition(".")[0] if "model_id" in field else "")
        )
        hint = f" (allowed: {', '.join(map(str, allowed))})" if allowed else ""
        raise SettingsError(f"{_variable_for(field, settings)}: {exc.message}{hint}") from exc
