"""Shared fixtures: the default config and the checks of a CPU-only and of a GPU machine."""

from __future__ import annotations

import pytest

from gateway.sessions.config_update import ConfigChecks
from gateway.sessions.defaults import ConfigDefaults, default_model_config
from protocol.api.config import ModelConfig
from protocol.vocabulary import ModelKind

CPU_TYPES = frozenset({"int8", "int8_float32", "int16", "float32"})
CUDA_TYPES = frozenset({"int8", "int8_float16", "float16", "float32"})
ASR_MODELS = {"openai/whisper-tiny.en", "openai/whisper-small"}
MT_MODELS = {"facebook/nllb-200-distilled-600M", "facebook/m2m100_418M"}
LANGUAGES = {"en", "fr", "de", "es"}


def _is_known_model(model_id: str, kind: ModelKind) -> bool:
    return model_id in (ASR_MODELS if kind == "asr" else MT_MODELS)


def make_checks(*, gpu: bool) -> ConfigChecks:
    supported = {"cpu": CPU_TYPES, "cuda": CUDA_TYPES} if gpu else {"cpu": CPU_TYPES}
    return ConfigChecks(
        supported_compute_types=supported,
        is_known_model=_is_known_model,
        is_known_language=LANGUAGES.__contains__,
    )


@pytest.fixture
def defaults() -> ModelConfig:
    return default_model_config(
        ConfigDefaults(
            asr_model="openai/whisper-tiny.en",
            mt_model="facebook/nllb-200-distilled-600M",
            device="cpu",
            asr_compute_type="int8",
            mt_compute_type="int8",
            target_language="fr",
        )
    )


@pytest.fixture
def cpu_checks() -> ConfigChecks:
    return make_checks(gpu=False)


@pytest.fixture
def gpu_checks() -> ConfigChecks:
    return make_checks(gpu=True)
