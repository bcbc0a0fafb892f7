"""Translation models in a real worker process: load with progress, translate, unload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.options import TranslateOptions
from protocol.vocabulary import ComputeType
from protocol.wire import messages as ipc
from tests.support.builders.nllb_copy import build_nllb_copy_model
from tests.support.worker_peer import Peer, running_worker

pytestmark = pytest.mark.integration

SPEECH = Path(__file__).parent.parent / "fixtures" / "audio" / "kitchen_lights.wav"
TEXTS = ["Hello world, this is a test.", "Hi.", "Ünïcödé ✓ 🙂"]


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    with running_worker(tmp_path) as peer:
        yield peer


@pytest.fixture(scope="module")
def weighty_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """d_model 256, 4 + 4 layers, float32: 32 MB of weights, enough to see in RSS."""
    out_dir = tmp_path_factory.mktemp("weighty") / "model"
    return build_nllb_copy_model(out_dir, d_model=256, layers=4, heads=4)


def load_mt(model_id: str, model_dir: Path, compute_type: ComputeType = "int8") -> ipc.LoadModel:
    return ipc.LoadModel(
        request_id=f"load-{model_id}",
        model_id=model_id,
        kind="mt",
        source=ipc.ModelSource(local_path=str(model_dir)),
        compute_type=compute_type,
    )


def test_load_translate_unload(peer: Peer, weighty_model: Path) -> None:
    peer.send(load_mt("nllb", weighty_model, "float32"))
    stages: list[str] = []
    while not isinstance(reply := peer.recv(), ipc.LoadResult):
        assert isinstance(reply, ipc.LoadProgress), reply
        stages.append(reply.stage)
    assert stages == ["resolving", "loading_weights", "warming_up"]
    assert (reply.model.kind, reply.model.compute_type) == ("mt", "float32")
    assert reply.model.memory_usage_mb > 16  # half the weights at least, measured in RSS

    options = TranslateOptions(return_scores=True)
    translate = ipc.Translate(
        request_id="t",
        model_id="nllb",
        texts=TEXTS,
        source_language="eng_Latn",
        target_language="fra_Latn",
        options=options,
    )
    result = peer.request(translate)
    assert isinstance(result, ipc.TranslateResult), result
    assert (result.request_id, result.model_id, result.device) == ("t", "nllb", "cpu")
    assert [t.text for t in result.translations] == TEXTS
    assert all(t.score is not None and -1.0 < t.score <= 0.0 for t in result.translations)
    assert all(t.tokens > 0 for t in result.translations)
    assert result.inference_ms > 0

    status = peer.request(ipc.StatusRequest(request_id="s"))
    assert isinstance(status, ipc.StatusReply)
    assert [(m.model_id, m.inference_count) for m in status.models] == [("nllb", 1)]

    unloaded = peer.request(ipc.UnloadModel(request_id="u", model_id="nllb"))
    assert isinstance(unloaded, ipc.UnloadResult), unloaded
    assert unloaded.memory_freed_mb > 16
    again = peer.request(translate)
    assert isinstance(again, ipc.ErrorReply)
    assert (again.request_id, again.code) == ("t", "MODEL_NOT_LOADED")


def test_m2m_errors_are_replies_and_the_worker_keeps_serving(
    peer: Peer, m2m_copy_model: Path
) -> None:
    loaded = peer.request(load_mt("m2m", m2m_copy_model))
    assert isinstance(loaded, ipc.LoadResult), loaded
    assert (loaded.model.kind, loaded.model.compute_type) == ("mt", "int8")

    def translate(rid: str, source: str, target: str) -> ipc.WorkerMessage:
        return peer.request(
            ipc.Translate(
                request_id=rid,
                model_id="m2m",
                texts=TEXTS,
                source_language=source,
                target_language=target,
            )
        )

    bad = translate("bad", "en", "fra_Latn")
    assert isinstance(bad, ipc.ErrorReply), bad
    assert bad.code == "CONFIGURATION_ERROR"
    assert bad.details == {
        "language": "fra_Latn",
        "supported": ["en", "fr", "de", "es", "zh", "ar"],
    }

    peer.send(ipc.Transcribe(request_id="asr", model_id="m2m"), SPEECH.read_bytes())
    wrong_kind = peer.recv()
    assert isinstance(wrong_kind, ipc.ErrorReply), wrong_kind
    assert (wrong_kind.code, wrong_kind.details["kind"]) == ("CONFIGURATION_ERROR", "mt")

    good = translate("good", "en", "fr")
    assert isinstance(good, ipc.TranslateResult), good
    assert [t.text for t in good.translations] == TEXTS
    assert all(t.score is None for t in good.translations)  # not asked for
    status = peer.request(ipc.StatusRequest(request_id="s"))
    assert isinstance(status, ipc.StatusReply)
    [model] = status.models
    assert (model.inference_count, model.inference_errors) == (2, 1)
