"""Deep partial updates: merging, every kind of validation error, and restart rules."""

from __future__ import annotations

import msgspec
import pytest

from gateway.sessions.config_update import (
    ConfigChecks,
    apply_config_update,
    config_for_new_session,
    validate_model_config,
)
from protocol.api.config import ModelConfig
from protocol.errors import ErrorCode, ServiceError


def _body(patch: object) -> bytes:
    return msgspec.json.encode(patch)


def _error(current: ModelConfig, patch: object, checks: ConfigChecks) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        apply_config_update(current, _body(patch), checks)
    return caught.value


# --- deep merge ---


def test_beam_size_alone_keeps_every_other_field(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    update = apply_config_update(
        defaults, _body({"asr": {"parameters": {"beam_size": 2}}}), cpu_checks
    )
    assert update.config.asr.parameters.beam_size == 2
    expected = msgspec.to_builtins(defaults)
    expected["asr"]["parameters"]["beam_size"] = 2
    assert msgspec.to_builtins(update.config) == expected


def test_target_language_alone_returns_whole_config_with_that_change(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    update = apply_config_update(defaults, _body({"mt": {"target_language": "de"}}), cpu_checks)
    assert update.config == msgspec.structs.replace(
        defaults, mt=msgspec.structs.replace(defaults.mt, target_language="de")
    )


def test_empty_update_changes_nothing(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    update = apply_config_update(defaults, b"{}", cpu_checks)
    assert update.config == defaults
    assert update.restart_required is False
    assert update.apply_immediately is False


def test_apply_immediately_is_returned(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    update = apply_config_update(defaults, _body({"apply_immediately": True}), cpu_checks)
    assert update.apply_immediately is True


def test_null_clears_an_optional_field(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    set_update = apply_config_update(
        defaults,
        _body({"asr": {"language": "en", "parameters": {"initial_prompt": "Hello."}}}),
        cpu_checks,
    )
    assert set_update.config.asr.language == "en"
    assert set_update.config.asr.parameters.initial_prompt == "Hello."
    cleared = apply_config_update(
        set_update.config, _body({"asr": {"parameters": {"initial_prompt": None}}}), cpu_checks
    )
    assert cleared.config.asr.parameters.initial_prompt is None
    assert cleared.config.asr.language == "en"  # untouched sibling section stays
    assert b"initial_prompt" not in msgspec.json.encode(cleared.config)


# --- validation: one test per kind ---


def test_unknown_field_names_its_path(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"asr": {"parameters": {"beam_sizee": 3}}}, cpu_checks)
    assert err.code is ErrorCode.CONFIGURATION_ERROR
    assert err.details["field"] == "asr.parameters.beam_sizee"
    assert "beam_size" in err.details["allowed_fields"]


def test_unknown_top_level_field(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"tts": {}}, cpu_checks)
    assert err.details["field"] == "tts"


def test_wrong_type(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"asr": {"parameters": {"beam_size": "five"}}}, cpu_checks)
    assert err.code is ErrorCode.CONFIGURATION_ERROR
    assert err.details["field"] == "asr.parameters.beam_size"


def test_object_where_value_expected(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"mt": {"parameters": 4}}, cpu_checks)
    assert err.code is ErrorCode.CONFIGURATION_ERROR
    assert err.details["field"] == "mt.parameters"


def test_null_on_required_field_is_refused(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"mt": {"target_language": None}}, cpu_checks)
    assert err.code is ErrorCode.CONFIGURATION_ERROR
    assert err.details["field"] == "mt.target_language"


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"asr": {"parameters": {"beam_size": 21}}}, "asr.parameters.beam_size"),
        ({"asr": {"parameters": {"temperature": 1.5}}}, "asr.parameters.temperature"),
        (
            {"asr": {"parameters": {"compression_ratio_threshold": 0}}},
            "asr.parameters.compression_ratio_threshold",
        ),
        (
            {"asr": {"compute_config": {"gpu_memory_fraction": 0}}},
            "asr.compute_config.gpu_memory_fraction",
        ),
        ({"mt": {"compute_config": {"batch_size": 0}}}, "mt.compute_config.batch_size"),
    ],
)
def test_out_of_range(
    defaults: ModelConfig, cpu_checks: ConfigChecks, patch: object, field: str
) -> None:
    err = _error(defaults, patch, cpu_checks)
    assert err.code is ErrorCode.CONFIGURATION_ERROR
    assert err.details["field"] == field


def test_float16_on_cpu_only_is_unsupported_device(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    err = _error(defaults, {"asr": {"compute_config": {"compute_type": "float16"}}}, cpu_checks)
    assert err.code is ErrorCode.UNSUPPORTED_DEVICE
    assert err.details["field"] == "asr.compute_config.compute_type"
    assert err.details["device"] == "cpu"


def test_auto_on_cpu_only_resolves_to_cpu(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(
        defaults,
        {"mt": {"compute_config": {"device": "auto", "compute_type": "float16"}}},
        cpu_checks,
    )
    assert err.code is ErrorCode.UNSUPPORTED_DEVICE
    assert err.details["device"] == "cpu"


def test_cuda_on_cpu_only_is_unsupported_device(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    err = _error(defaults, {"mt": {"compute_config": {"device": "cuda"}}}, cpu_checks)
    assert err.code is ErrorCode.UNSUPPORTED_DEVICE
    assert err.details["field"] == "mt.compute_config.device"


def test_float16_on_cuda_is_accepted(defaults: ModelConfig, gpu_checks: ConfigChecks) -> None:
    patch = {"asr": {"compute_config": {"device": "auto", "compute_type": "float16"}}}
    update = apply_config_update(defaults, _body(patch), gpu_checks)
    assert update.config.asr.compute_config.compute_type == "float16"


def test_unknown_model(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"mt": {"model_id": "openai/whisper-small"}}, cpu_checks)
    assert err.code is ErrorCode.MODEL_NOT_FOUND  # an ASR model is not a translation model
    assert err.details["field"] == "mt.model_id"


def test_unknown_language(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    err = _error(defaults, {"asr": {"language": "xx"}}, cpu_checks)
    assert err.code is ErrorCode.CONFIGURATION_ERROR
    assert err.details["field"] == "asr.language"


def test_malformed_json_is_invalid_request(defaults: ModelConfig, cpu_checks: ConfigChecks) -> None:
    with pytest.raises(ServiceError) as caught:
        apply_config_update(defaults, b'{"asr": ', cpu_checks)
    assert caught.value.code is ErrorCode.INVALID_REQUEST


# --- restart rules ---


@pytest.mark.parametrize(
    ("patch", "kinds"),
    [
        ({"asr": {"model_id": "openai/whisper-small"}}, {"asr"}),
        ({"mt": {"model_id": "facebook/m2m100_418M"}}, {"mt"}),
        ({"asr": {"compute_config": {"device": "cuda"}}}, {"asr"}),
        ({"mt": {"compute_config": {"compute_type": "float32"}}}, {"mt"}),
        ({"asr": {"compute_config": {"cpu_threads": 2}}}, {"asr"}),
    ],
)
def test_model_changes_require_restart(
    defaults: ModelConfig, gpu_checks: ConfigChecks, patch: object, kinds: set[str]
) -> None:
    update = apply_config_update(defaults, _body(patch), gpu_checks)
    assert update.restart_required is True
    assert update.changed_models == kinds


@pytest.mark.parametrize(
    "patch",
    [
        {"asr": {"parameters": {"beam_size": 1}}},
        {"mt": {"parameters": {"beam_size": 1}}},
        {"asr": {"language": "de"}},
        {"mt": {"source_language": "en", "target_language": "es"}},
        {"mt": {"compute_config": {"batch_size": 4}}},
        # 'auto' on a CPU-only machine is the CPU: the same loaded model serves it.
        {"asr": {"compute_config": {"device": "auto"}}},
    ],
)
def test_decoding_changes_do_not_require_restart(
    defaults: ModelConfig, cpu_checks: ConfigChecks, patch: object
) -> None:
    update = apply_config_update(defaults, _body(patch), cpu_checks)
    assert update.restart_required is False
    assert update.changed_models == frozenset()


# --- new sessions and startup checks ---


def test_new_session_empty_body_is_defaults(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    assert config_for_new_session(defaults, b"", cpu_checks) == defaults
    assert config_for_new_session(defaults, b'{"config": null}', cpu_checks) == defaults


def test_new_session_applies_partial_config(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    body = _body({"config": {"mt": {"target_language": "es"}}})
    config = config_for_new_session(defaults, body, cpu_checks)
    assert config.mt.target_language == "es"
    assert config.asr == defaults.asr


def test_new_session_error_paths_start_with_config(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    for patch, field in [
        ({"config": {"asr": {"parameters": {"beam_size": 0}}}}, "config.asr.parameters.beam_size"),
        ({"config": {"asr": {"task": "summarise"}}}, "config.asr.task"),
        ({"config": {"asr": {"bogus": 1}}}, "config.asr.bogus"),
        ({"config": {"asr": {"language": "xx"}}}, "config.asr.language"),
    ]:
        with pytest.raises(ServiceError) as caught:
            config_for_new_session(defaults, _body(patch), cpu_checks)
        assert caught.value.details["field"] == field


def test_validate_defaults_on_cpu_only_refuses_cuda(
    defaults: ModelConfig, cpu_checks: ConfigChecks
) -> None:
    validate_model_config(defaults, cpu_checks)  # the CPU defaults are fine
    cuda = msgspec.structs.replace(
        defaults,
        asr=msgspec.structs.replace(
            defaults.asr,
            compute_config=msgspec.structs.replace(defaults.asr.compute_config, device="cuda"),
        ),
    )
    with pytest.raises(ServiceError) as caught:
        validate_model_config(cuda, cpu_checks)
    assert caught.value.code is ErrorCode.UNSUPPORTED_DEVICE
