"""The model cache holds translation models beside speech models, with the same lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.options import TranslateOptions
from protocol.vocabulary import ComputeType, ModelKind
from protocol.wire.messages import LoadModel, LoadStage, ModelSource
from protocol.wire.tuning import WorkerTuning
from worker import memory
from worker.engines.translation import TranslationEngine
from worker.engines.whisper import WhisperEngine
from worker.models.cache import ModelCache

Stages = list[tuple[LoadStage, float, float]]
# Allocations between the cache's own memory readings and the test's, around a load or unload.
_RSS_SLACK_MB = 2.0


def load(
    cache: ModelCache,
    model_dir: Path,
    *,
    kind: ModelKind = "mt",
    compute_type: ComputeType = "int8",
    model_id: str = "copy",
) -> Stages:
    stages: Stages = []
    request = LoadModel(
        request_id="r",
        model_id=model_id,
        kind=kind,
        source=ModelSource(local_path=str(model_dir)),
        compute_type=compute_type,
    )
    cache.load(request, lambda stage, pct, mb: stages.append((stage, pct, mb)))
    return stages


def test_mt_load_reports_stages_and_runs_at_the_type_sent(nllb_copy_model: Path) -> None:
    cache = ModelCache("cpu", WorkerTuning(cpu_threads=2), cores=2)
    rss_before = memory.process_rss_mb()
    stages = load(cache, nllb_copy_model)
    grown = max(memory.process_rss_mb() - rss_before, 0.0)
    assert [s[0] for s in stages] == ["resolving", "loading_weights", "warming_up"]
    assert [s[1] for s in stages] == sorted(s[1] for s in stages)
    [info] = cache.snapshot()
    assert (info.model_id, info.kind, info.compute_type) == ("copy", "mt", "int8")
    assert info.load_time_ms > 0
    # The figure is what the load added to this process (on CPU its RSS), not the whole RSS.
    assert info.memory_usage_mb == pytest.approx(grown, abs=_RSS_SLACK_MB)


def test_use_counts_inferences_and_errors(nllb_copy_model: Path) -> None:
    cache = ModelCache("cpu", WorkerTuning(cpu_threads=2), cores=2)
    load(cache, nllb_copy_model, compute_type="float32")
    with cache.use("copy", TranslationEngine) as engine:
        assert cache.in_flight() == 1
        [out] = engine.translate_batch(["Hi."], "eng_Latn", "spa_Latn", TranslateOptions())
    assert out.text == "Hi."
    with pytest.raises(ServiceError), cache.use("copy", TranslationEngine) as engine:
        engine.translate_batch(["Hi."], "eng_Latn", "xx", TranslateOptions())
    [info] = cache.snapshot()
    assert (info.compute_type, info.inference_count, info.inference_errors) == ("float32", 2, 1)
    assert info.in_flight == 0


def test_a_model_of_the_other_kind_is_refused_and_not_counted(nllb_copy_model: Path) -> None:
    cache = ModelCache("cpu", WorkerTuning(cpu_threads=2), cores=2)
    load(cache, nllb_copy_model)
    with pytest.raises(ServiceError) as caught, cache.use("copy", WhisperEngine):
        pass
    assert caught.value.code == ErrorCode.CONFIGURATION_ERROR
    assert caught.value.details["kind"] == "mt"
    [info] = cache.snapshot()
    assert (info.inference_count, info.in_flight) == (0, 0)


def test_two_mt_models_side_by_side_then_one_unloaded(
    nllb_copy_model: Path, m2m_copy_model: Path
) -> None:
    cache = ModelCache("cpu", WorkerTuning(cpu_threads=2), cores=2)
    load(cache, nllb_copy_model, model_id="nllb")
    load(cache, m2m_copy_model, model_id="m2m")
    assert sorted(m.model_id for m in cache.snapshot()) == ["m2m", "nllb"]
    rss_before = memory.process_rss_mb()
    freed = cache.unload("nllb")
    shrunk = max(rss_before - memory.process_rss_mb(), 0.0)
    # What the unload measured leaving this process, as measured around it here.
    assert freed == pytest.approx(shrunk, abs=_RSS_SLACK_MB)
    with pytest.raises(ServiceError) as caught, cache.use("nllb", TranslationEngine):
        pass
    assert caught.value.code == ErrorCode.MODEL_NOT_LOADED
    with cache.use("m2m", TranslationEngine) as engine:
        assert engine.flavour == "m2m"


def test_mt_folder_without_vocabulary_is_a_configuration_error(
    nllb_copy_model: Path, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes((nllb_copy_model / "model.bin").read_bytes())
    cache = ModelCache("cpu", WorkerTuning(cpu_threads=2), cores=2)
    with pytest.raises(ServiceError) as caught:
        load(cache, tmp_path)
    assert caught.value.code == ErrorCode.CONFIGURATION_ERROR
    assert cache.snapshot() == []


def test_float16_on_cpu_is_an_unsupported_device(nllb_copy_model: Path) -> None:
    cache = ModelCache("cpu", WorkerTuning(cpu_threads=2), cores=2)
    with pytest.raises(ServiceError) as caught:
        load(cache, nllb_copy_model, compute_type="float16")
    assert caught.value.code == ErrorCode.UNSUPPORTED_DEVICE
    assert cache.snapshot() == []
