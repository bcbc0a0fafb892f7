"""Recommendations follow the machine: a small box and a GPU server get different answers."""

from __future__ import annotations

import pytest

from gateway.catalog import load_catalog
from gateway.catalog.recommendations import (
    MachineResources,
    place_asr,
    place_mt,
    recommend,
    recommend_mt,
)
from protocol.api.catalog import ASRModelInfo, ModelLocation, ModelRecommendation, MTModelInfo

CATALOG = load_catalog()
SMALL_BOX = MachineResources(cpu_cores=2, ram_mb=4096)
CPU_SERVER = MachineResources(cpu_cores=16, ram_mb=65536)
GPU_SERVER = MachineResources(cpu_cores=16, ram_mb=65536, gpu_memory_mb=[24576.0])
BUNDLED = {"openai/whisper-tiny.en": ModelLocation(kind="bundled", path="/pkg/model")}
USE_CASES = ["real_time", "accuracy", "multilingual", "low_resource"]


def by_use(recs: list[ModelRecommendation]) -> dict[str, ModelRecommendation]:
    return {r.use_case: r for r in recs}


def picks(recs: list[ModelRecommendation]) -> dict[str, str]:
    return {r.use_case: r.recommended_model for r in recs}


def test_small_box_gets_small_models_that_fit() -> None:
    recs = by_use(recommend(CATALOG, SMALL_BOX, BUNDLED))

    assert list(recs) == USE_CASES
    assert picks(list(recs.values())) == {
        "real_time": "openai/whisper-base.en",  # RTF 0.19 on 2 cores; small would be 0.64
        "accuracy": "openai/whisper-small.en",  # medium wants 4 cores
        "multilingual": "openai/whisper-base",
        "low_resource": "openai/whisper-tiny.en",
    }
    for rec in recs.values():
        info = _asr(rec.recommended_model)
        assert info.hardware_requirements.min_cpu_cores <= 2
        assert info.hardware_requirements.min_ram_mb <= 4096
        # The reason names this machine's measured figures.
        assert "2 CPU cores" in rec.reason and "4.0 GB RAM" in rec.reason
    assert "RTF 0.19" in recs["real_time"].reason
    assert "already on disk (bundled)" in recs["low_resource"].reason
    assert "needs a download" in recs["accuracy"].reason


def test_gpu_server_gets_large_models_on_its_gpu() -> None:
    recs = by_use(recommend(CATALOG, GPU_SERVER, BUNDLED))

    assert picks(list(recs.values())) == {
        "real_time": "openai/whisper-large-v3-turbo",
        "accuracy": "openai/whisper-large-v3",
        "multilingual": "openai/whisper-large-v3-turbo",
        "low_resource": "openai/whisper-tiny.en",
    }
    assert "24.0 GB GPU" in recs["accuracy"].reason
    assert "100 languages" in recs["multilingual"].reason


def test_the_same_gpu_server_without_its_gpu_stays_on_cpu() -> None:
    recs = by_use(recommend(CATALOG, CPU_SERVER))
    assert "16 CPU cores" in recs["accuracy"].reason and "GPU" not in recs["accuracy"].reason
    placed = place_asr(_asr("openai/whisper-large-v3"), CPU_SERVER)
    on_gpu = place_asr(_asr("openai/whisper-large-v3"), GPU_SERVER)
    assert placed is not None and on_gpu is not None
    assert not placed.on_gpu and on_gpu.on_gpu and on_gpu.rtf < placed.rtf


def test_a_model_on_disk_wins_when_close() -> None:
    cached = {"openai/whisper-large-v2": ModelLocation(kind="cached", path="/hub/snap")}
    recs = by_use(recommend(CATALOG, CPU_SERVER, cached))

    assert recs["accuracy"].recommended_model == "openai/whisper-large-v2"  # 87 vs 89
    assert "already on disk (cached)" in recs["accuracy"].reason
    assert "openai/whisper-large-v3" in recs["accuracy"].reason


def test_a_model_on_disk_does_not_win_when_far_behind() -> None:
    cached = {"openai/whisper-small": ModelLocation(kind="local", path="/models/small")}
    recs = by_use(recommend(CATALOG, CPU_SERVER, cached))
    assert recs["accuracy"].recommended_model == "openai/whisper-large-v3"  # 89 vs 83


def test_download_required_is_not_on_disk() -> None:
    cached = {"openai/whisper-large-v2": ModelLocation(kind="download_required", repo_id="x/y")}
    recs = by_use(recommend(CATALOG, CPU_SERVER, cached))
    assert recs["accuracy"].recommended_model == "openai/whisper-large-v3"


def test_a_machine_too_small_for_any_model_gets_none() -> None:
    assert recommend(CATALOG, MachineResources(cpu_cores=1, ram_mb=8192)) == []
    assert recommend(CATALOG, MachineResources(cpu_cores=4, ram_mb=256)) == []


@pytest.mark.parametrize("ram_mb", [600.0, 1100.0, 2700.0])
def test_every_pick_fits_the_ram(ram_mb: float) -> None:
    box = MachineResources(cpu_cores=8, ram_mb=ram_mb)
    for rec in recommend(CATALOG, box):
        assert _asr(rec.recommended_model).hardware_requirements.min_ram_mb <= ram_mb


def test_mt_small_box_and_gpu_server_differ() -> None:
    small = picks(recommend_mt(CATALOG, SMALL_BOX))
    big = picks(recommend_mt(CATALOG, GPU_SERVER))

    assert small == {
        "real_time": "facebook/nllb-200-distilled-600M",
        "accuracy": "facebook/nllb-200-distilled-1.3B",  # 3.3B needs 3.6 GB of the 4 GB
        "multilingual": "facebook/nllb-200-distilled-600M",
        "low_resource": "facebook/m2m100_418M",
    }
    assert big["accuracy"] == "facebook/nllb-200-3.3B"
    assert big["real_time"] == "facebook/nllb-200-distilled-1.3B"
    for rec in recommend_mt(CATALOG, SMALL_BOX):
        assert _mt(rec.recommended_model).memory_requirement_mb <= 4096 / 2
        assert "4.0 GB RAM" in rec.reason
    assert place_mt(_mt("facebook/nllb-200-3.3B"), SMALL_BOX) is None


def _asr(model_id: str) -> ASRModelInfo:
    return next(m for m in CATALOG.asr_models() if m.model_id == model_id)


def _mt(model_id: str) -> MTModelInfo:
    return next(m for m in CATALOG.mt_models() if m.model_id == model_id)
