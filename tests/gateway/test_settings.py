from __future__ import annotations

import dataclasses
from pathlib import Path

import msgspec
import pytest

from gateway.app import create_app
from gateway.settings import Settings, SettingsError, tuning_variable
from protocol.wire.tuning import WorkerTuning


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.devices is None
    assert settings.default_asr_model == "openai/whisper-tiny.en"


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "LX_HOST": "0.0.0.0",
            "LX_PORT": "9001",
            "LX_WORKER_DEVICES": "cpu, cuda:1",
            "LX_OFFLINE": "1",
            # Listening on every address without a token must be asked for (test_access_settings).
            "LX_ALLOW_INSECURE": "1",
        }
    )
    assert (settings.host, settings.port) == ("0.0.0.0", 9001)
    assert settings.devices == ("cpu", "cuda:1")
    assert settings.offline is True


def test_batching_and_queue_settings() -> None:
    settings = Settings.from_env(
        {"LX_BATCH_MAX_SIZE": "8", "LX_BATCH_TIMEOUT_MS": "0", "LX_QUEUE_LIMIT": "4"}
    )
    tuning = settings.worker_tuning
    assert (tuning.batch_max_size, tuning.batch_timeout_ms, tuning.queue_limit) == (8, 0, 4)
    with pytest.raises(SettingsError, match="LX_QUEUE_LIMIT"):
        Settings.from_env({"LX_QUEUE_LIMIT": "0"})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LX_PORT": "eighty"}, "LX_PORT"),
        ({"LX_PORT": "70000"}, "LX_PORT"),
        ({"LX_DEVICE": "tpu"}, "LX_DEVICE"),
        ({"LX_OFFLINE": "maybe"}, "LX_OFFLINE"),
        ({"LX_WORKER_DEVICES": "gpu0"}, "LX_WORKER_DEVICES"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_unknown_preload_model_stops_start_up(tmp_path: Path) -> None:
    settings = Settings(devices=(), state_dir=tmp_path, preload_models=("acme/nope",))
    with pytest.raises(SettingsError, match="LX_PRELOAD_MODELS"):
        create_app(settings)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"default_asr_model": "openai/whisper-huge"}, "LX_ASR_MODEL"),
        ({"nllb_model": "facebook/nllb-9000"}, "LX_NLLB_MODEL"),
        ({"asr_compute_type": "float16"}, "LX_ASR_COMPUTE"),
        ({"default_device": "cuda"}, "LX_DEVICE"),
        ({"target_language": "klingon"}, "LX_MT_TARGET_LANGUAGE"),
    ],
)
def test_defaults_no_request_could_use_stop_start_up(
    tmp_path: Path, changes: dict[str, str], named: str
) -> None:
    # devices=("cpu",): a CPU-only machine, whatever this one has.
    settings = Settings(devices=("cpu",), state_dir=tmp_path)
    with pytest.raises(SettingsError, match=named):
        create_app(dataclasses.replace(settings, **changes))  # type: ignore[arg-type]


def test_worker_tuning_comes_from_its_variables_with_the_structs_defaults_and_ranges() -> None:
    assert Settings.from_env({}).worker_tuning == WorkerTuning()
    env = {
        "LX_WORKER_CPU_THREADS": "3",
        "LX_BATCH_MAX_SIZE": "16",
        "LX_BATCH_TIMEOUT_MS": "20",
        "LX_QUEUE_LIMIT": "9",
        "LX_ASR_CONCURRENCY": "2",
        "LX_ASR_BATCH_SIZE": "4",
        "LX_ASR_WINDOW_SECONDS": "60",
    }
    assert Settings.from_env(env).worker_tuning == WorkerTuning(
        cpu_threads=3,
        batch_max_size=16,
        batch_timeout_ms=20,
        queue_limit=9,
        asr_concurrency=2,
        asr_batch_size=4,
        asr_window_seconds=60,
    )
    # Every field has its variable, and out of the field's range it names it.
    for field in msgspec.structs.fields(WorkerTuning):
        variable = tuning_variable(field.name)
        assert variable in env
        with pytest.raises(SettingsError, match=rf"{variable}=100001: expected a value from \d"):
            Settings.from_env({variable: "100001"})
    with pytest.raises(SettingsError, match=r"LX_BATCH_TIMEOUT_MS='2\.5': expected a whole"):
        Settings.from_env({"LX_BATCH_TIMEOUT_MS": "2.5"})
