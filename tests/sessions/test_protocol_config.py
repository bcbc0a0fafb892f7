"""The config Structs: schema strictness, omitted optionals, and patches mirroring configs."""

from __future__ import annotations

import msgspec
import pytest

from protocol.api import config as schema
from protocol.api.config import ModelConfig

PAIRS = [
    (schema.AsrParameters, schema.AsrParametersPatch),
    (schema.AsrComputeConfig, schema.AsrComputeConfigPatch),
    (schema.AsrConfig, schema.AsrConfigPatch),
    (schema.MtParameters, schema.MtParametersPatch),
    (schema.MtComputeConfig, schema.MtComputeConfigPatch),
    (schema.MtConfig, schema.MtConfigPatch),
]


@pytest.mark.parametrize(("full", "patch"), PAIRS)
def test_patch_has_the_same_fields_as_the_config(
    full: type[msgspec.Struct], patch: type[msgspec.Struct]
) -> None:
    assert patch.__struct_fields__ == full.__struct_fields__


def test_unknown_field_is_rejected(defaults: ModelConfig) -> None:
    data = msgspec.to_builtins(defaults)
    data["mt"]["compute_config"]["threads"] = 2
    with pytest.raises(msgspec.ValidationError, match="unknown field `threads`"):
        msgspec.convert(data, ModelConfig)


def test_unset_optionals_are_omitted_and_round_trip(defaults: ModelConfig) -> None:
    encoded = msgspec.json.encode(defaults)
    for optional in (b'"language"', b'"initial_prompt"', b'"cpu_threads"', b'"source_language"'):
        assert optional not in encoded
    assert msgspec.json.decode(encoded, type=ModelConfig) == defaults


def test_defaults_are_faster_whisper_and_nllb_ones(defaults: ModelConfig) -> None:
    asr = defaults.asr.parameters
    assert (asr.beam_size, asr.best_of, asr.temperature) == (5, 5, 0.0)
    assert (asr.compression_ratio_threshold, asr.no_speech_threshold) == (2.4, 0.6)
    assert defaults.mt.compute_config.batch_size == 16
    assert defaults.mt.target_language == "fr"


def test_response_leaves_out_unset_estimate(defaults: ModelConfig) -> None:
    from datetime import UTC, datetime

    response = schema.UpdateModelConfigResponse(
        updated_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        config=defaults,
        restart_required=False,
    )
    data = msgspec.json.decode(msgspec.json.encode(response))
    assert data["updated_at"] == "2025-01-02T03:04:05Z"
    assert "estimated_restart_time_ms" not in data
