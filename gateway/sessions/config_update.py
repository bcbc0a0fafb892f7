"""Apply a deep partial update to a session's ModelConfig, validating everything first.

Steps, each failing with a `ServiceError` whose `details["field"]` names the offending field
(`asr.parameters.beam_size`):
1. decode the body as plain JSON (so an explicit `null` survives and can clear a field);
2. refuse keys the schema does not have (the schema is read off the protocol Structs);
3. check types and ranges of the supplied values against the patch Structs;
4. deep-merge into the current config and convert the result into `ModelConfig`;
5. check what needs the machine and the catalog: device, compute type, model ids, languages.
Nothing is written here: the caller stores the result only if all of this passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET

from protocol.api.config import (
    AsrConfig,
    CreateSessionRequest,
    ModelConfig,
    MtConfig,
    UpdateModelConfigRequest,
)
from protocol.errors import ErrorCode, ServiceError
from protocol.model_ids import check_model_id
from protocol.vocabulary import ModelKind

_T = TypeVar("_T")
_KINDS: tuple[ModelKind, ...] = ("asr", "mt")

# msgspec error messages end with " - at `$.a.b[0]`" when the error is below the root.
_AT_PATH = re.compile(r"^(?P<reason>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_UPDATE_INFO = msgspec.inspect.type_info(UpdateModelConfigRequest)
_CREATE_INFO = msgspec.inspect.type_info(CreateSessionRequest)


@dataclass(frozen=True)
class ConfigChecks:
    """What a config is checked against besides its schema: this deployment's devices and
    the catalog. Built by the gateway from the worker pool and the model catalog."""

    # Device ("cpu", "cuda") -> compute types its workers can run; no "cuda" key: no GPU.
    supported_compute_types: Mapping[str, frozenset[str]]
    is_known_model: Callable[[str, ModelKind], bool]
    is_known_language: Callable[[str], bool]

    def resolve_device(self, device: str) -> str:
        """'auto' means the GPU when there is one, else the CPU."""
        if device != "auto":
            return device
        return "cuda" if "cuda" in self.supported_compute_types else "cpu"


@dataclass(frozen=True)
class ConfigUpdate:
    config: ModelConfig
    # True when a different model instance must be loaded (see `_model_identity`).
    restart_required: bool
    # Which of 'asr' / 'mt' need that reload; empty when restart_required is False.
    changed_models: frozenset[ModelKind]
    # The request's apply_immediately: load the new model now. False when left out: the
    # session then loads it on its next use.
    apply_immediately: bool


def apply_config_update(current: ModelConfig, body: bytes, checks: ConfigChecks) -> ConfigUpdate:
    """The PUT /api/sessions/{id}/models/config body (UpdateModelConfigRequest JSON) applied to
    `current`. Raises ServiceError; never returns a config that failed any check."""
    patch = _decode_object(body)
    request = _validate_patch(patch, _UPDATE_INFO, UpdateModelConfigRequest)
    config = _merge(current, patch, prefix="")
    validate_model_config(config, checks)
    changed = frozenset(
        kind
        for kind in _KINDS
        if _model_identity(current, kind, checks) != _model_identity(config, kind, checks)
    )
    apply_immediately = request.apply_immediately
    return ConfigUpdate(
        config=config,
        restart_required=bool(changed),
        changed_models=changed,
        apply_immediately=False if apply_immediately is UNSET else apply_immediately,
    )


def config_for_new_session(defaults: ModelConfig, body: bytes, checks: ConfigChecks) -> ModelConfig:
    """The POST /api/sessions body (CreateSessionRequest JSON, may be empty) applied to the
    defaults. Error paths start with `config.`."""
    if not body.strip():
        validate_model_config(defaults, checks)
        return defaults
    request = _decode_object(body)
    _validate_patch(request, _CREATE_INFO, CreateSessionRequest)
    patch = request.get("config")
    config = defaults if patch is None else _merge(defaults, patch, prefix="config.")
    validate_model_config(config, checks, prefix="config.")
    return config


def validate_model_config(config: ModelConfig, checks: ConfigChecks, *, prefix: str = "") -> None:
    """Checks a schema-valid config against the machine and the catalog. Also usable at
    startup on the defaults from the settings."""
    asr, mt = config.asr, config.mt
    _check_compute(
        f"{prefix}asr", asr.compute_config.device, asr.compute_config.compute_type, checks
    )
    _check_compute(f"{prefix}mt", mt.compute_config.device, mt.compute_config.compute_type, checks)
    _check_model(f"{prefix}asr.model_id", asr.model_id, "asr", checks)
    _check_model(f"{prefix}mt.model_id", mt.model_id, "mt", checks)
    languages = (
        (f"{prefix}asr.language", asr.language),
        (f"{prefix}mt.source_language", mt.source_language),
        (f"{prefix}mt.target_language", mt.target_language),
    )
    for field, code in languages:
        if code is not None and not checks.is_known_language(code):
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                f"Unknown language {code!r} for {field}",
                {"field": field, "language": code},
            )


def _decode_object(body: bytes) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, "Request body is not valid JSON", {"reason": str(exc)}
        ) from exc
    if not isinstance(value, dict):
        raise ServiceError(ErrorCode.INVALID_REQUEST, "Request body must be a JSON object")
    return value


def _validate_patch(
    patch: dict[str, Any], info: msgspec.inspect.Type, request_type: type[_T]
) -> _T:
    """Unknown keys first (own walk, for a clean path), then types and ranges via msgspec."""
    _check_keys(patch, info, "")
    return _convert(patch, request_type, "")


def _check_keys(value: Any, info: msgspec.inspect.Type, path: str) -> None:
    struct = _struct_of(info)
    if struct is None or not isinstance(value, dict):
        return  # a leaf, or a wrong type that the msgspec conversion reports
    fields = {field.encode_name: field for field in struct.fields}
    for key, item in value.items():
        field_path = f"{path}.{key}" if path else key
        field = fields.get(key)
        if field is None:
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                f"Unknown field {field_path!r}",
                {"field": field_path, "allowed_fields": sorted(fields)},
            )
        _check_keys(item, field.type, field_path)


def _struct_of(info: msgspec.inspect.Type) -> msgspec.inspect.StructType | None:
    """The Struct inside `X`, `X | None` or `X | UnsetType`, if any."""
    if isinstance(info, msgspec.inspect.StructType):
        return info
    if isinstance(info, msgspec.inspect.UnionType):
        for member in info.types:
            if isinstance(member, msgspec.inspect.StructType):
                return member
    return None


def _merge(current: ModelConfig, patch: Any, prefix: str) -> ModelConfig:
    base = msgspec.to_builtins(current)
    changes = {key: patch[key] for key in ("asr", "mt") if key in patch}
    return _convert(_deep_merge(base, changes), ModelConfig, prefix)


def _deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Objects merge key by key; anything else, `null` included, replaces the old value."""
    merged = dict(base)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            merged[key] = _deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def _convert(data: Any, target: type[_T], prefix: str) -> _T:
    try:
        return msgspec.convert(data, target)
    except msgspec.ValidationError as exc:
        field, reason = _field_path(str(exc), prefix)
        raise ServiceError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Invalid value for {field or 'config'}: {reason}",
            {"field": field, "reason": reason},
        ) from exc


def _field_path(message: str, prefix: str) -> tuple[str, str]:
    """`Expected int <= 20 - at $.asr.parameters.beam_size` -> ('asr.parameters.beam_size', ...)."""
    match = _AT_PATH.match(message)
    if match is None:
        return prefix.rstrip("."), message
    return prefix + match["path"].lstrip("."), match["reason"]


def _check_compute(section: str, device: str, compute_type: str, checks: ConfigChecks) -> None:
    resolved = checks.resolve_device(device)
    supported = checks.supported_compute_types.get(resolved)
    if supported is None:
        raise ServiceError(
            ErrorCode.UNSUPPORTED_DEVICE,
            f"Device {device!r} is not available on this service",
            {
                "field": f"{section}.compute_config.device",
                "device": device,
                "supported_devices": sorted(checks.supported_compute_types),
            },
        )
    if compute_type not in supported:
        raise ServiceError(
            ErrorCode.UNSUPPORTED_DEVICE,
            f"Compute type {compute_type!r} is not supported on {resolved}",
            {
                "field": f"{section}.compute_config.compute_type",
                "device": resolved,
                "compute_type": compute_type,
                "supported_compute_types": sorted(supported),
            },
        )


def _check_model(field: str, model_id: str, kind: ModelKind, checks: ConfigChecks) -> None:
    check_model_id(model_id, field)  # 400 for an id that would leave a folder
    if not checks.is_known_model(model_id, kind):
        raise ServiceError(
            ErrorCode.MODEL_NOT_FOUND,
            f"Unknown {kind} model {model_id!r}",
            {"field": field, "model_id": model_id},
        )


def _model_identity(config: ModelConfig, kind: ModelKind, checks: ConfigChecks) -> tuple[Any, ...]:
    """What decides which loaded model instance serves `kind`: a change here needs a (re)load.
    Decoding parameters and languages are per request, so they are not part of it."""
    section: AsrConfig | MtConfig = config.asr if kind == "asr" else config.mt
    compute = section.compute_config
    identity: tuple[Any, ...] = (
        section.model_id,
        checks.resolve_device(compute.device),  # 'auto' vs 'cpu' on a CPU box: same model
        compute.compute_type,
    )
    if isinstance(section, AsrConfig):
        identity += (section.compute_config.cpu_threads, section.compute_config.gpu_memory_fraction)
    return identity
