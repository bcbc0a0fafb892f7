"""`loquilex-models captions` against a real gateway, worker and tiny.en, run as a user runs
it (a subprocess in a pipe): a fixture WAV streamed faster than real time over the caption
socket, its finals and their translations printed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audio import LONG_CLIP, clip_path, load_references
from tests.support.builders.nllb_copy import build_nllb_copy_model
from tests.support.cli import run_cli
from tests.support.gateway_process import GatewayProcess, free_port, running_gateway
from tests.support.wer import word_error_rate

pytestmark = pytest.mark.integration

MT_MODEL = "local/nllb-copy"  # the suite's copy model: a "translation" is the source text
FINAL_LINE = re.compile(r"^\[(\d\d):(\d\d\.\d) → (\d\d):(\d\d\.\d)\] (.+)$")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    model_dirs = tmp_path_factory.mktemp("models")
    build_nllb_copy_model(model_dirs / MT_MODEL.removeprefix("local/"))
    env = {"LX_MODEL_DIRS": str(model_dirs), "LX_OFFLINE": "1"}
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as gw:
        yield gw


def test_a_wav_in_a_pipe_prints_its_finals_in_order_then_ended(gateway: GatewayProcess) -> None:
    done = run_cli(
        "captions", str(clip_path(LONG_CLIP)), "--speed", "6", url=gateway.base_url, timeout_s=240
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    finals = [FINAL_LINE.match(line) for line in lines]
    texts = [m.group(5) for m in finals if m]
    assert len(texts) >= 5, done.stdout
    starts = [int(m.group(1)) * 60 + float(m.group(2)) for m in finals if m]
    assert starts == sorted(starts)
    assert word_error_rate(load_references()[LONG_CLIP], " ".join(texts)) <= 0.15
    assert lines[-1].startswith("# ended"), done.stdout
    assert not any(line.startswith("…") for line in lines)  # no partials in a pipe
    # The session it made for the stream (named on stderr) is gone.
    (sid,) = re.findall(r"# session (sess_[0-9a-f]{16})", done.stderr)
    with gateway.client() as client:
        assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_json_prints_every_message_numbered_with_the_translations(
    gateway: GatewayProcess,
) -> None:
    done = run_cli(
        "captions",
        str(clip_path("kitchen_lights.wav")),
        "--speed",
        "4",
        "--target",
        "fra_Latn",
        "--mt-model",
        MT_MODEL,
        "--json",
        url=gateway.base_url,
        timeout_s=180,
    )
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    numbered = [m["seq"] for m in messages if m["seq"] is not None]
    assert numbered == list(range(1, len(numbered) + 1))
    finals = [m["data"] for m in messages if m["t"] == "asr.final"]
    translated = [m["data"] for m in messages if m["t"] == "mt.final"]
    assert [f["text"] for f in finals] and [t["segment_id"] for t in translated] == [
        f["segment_id"] for f in finals
    ]
    assert [t["text"] for t in translated] == [f["text"] for f in finals]  # the copy model
    assert translated[0]["tgt"] == "fr"  # the session keeps the target as ISO 639-1
    assert messages[-1]["t"] == "status" and messages[-1]["data"]["stage"] == "ended"


def test_a_session_that_does_not_exist_exits_1_saying_so(gateway: GatewayProcess) -> None:
    done = run_cli(
        "captions",
        str(clip_path("kitchen_lights.wav")),
        "--sid",
        "sess_0000000000000000",
        url=gateway.base_url,
    )
    assert done.returncode == 1
    assert "SESSION_NOT_FOUND" in done.stderr


def test_a_file_it_cannot_stream_exits_2_with_the_conversion(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3\x04" + bytes(64))
    done = run_cli("captions", str(song), url=gateway.base_url)
    assert done.returncode == 2
    assert "ffmpeg -i" in done.stderr


def test_no_gateway_exits_3() -> None:
    done = run_cli(
        "captions", str(clip_path("kitchen_lights.wav")), url=f"http://127.0.0.1:{free_port()}"
    )
    assert done.returncode == 3
