"""The worker's command line: its tuning as one JSON argument and as one flag per field."""

from __future__ import annotations

import pytest

from protocol.wire.tuning import WorkerTuning, tuning_to_json
from worker.__main__ import parse_args

CONNECT = ["--connect", "ipc:///tmp/nowhere.sock"]


def test_the_tuning_the_gateway_passes_arrives_whole() -> None:
    tuning = WorkerTuning(cpu_threads=2, batch_timeout_ms=40, queue_limit=7, asr_concurrency=3)
    config, _ = parse_args([*CONNECT, "--tuning", tuning_to_json(tuning)])
    assert config.tuning == tuning
    config, _ = parse_args(CONNECT)
    assert config.tuning == WorkerTuning()


def test_every_field_has_a_flag_and_a_flag_wins_over_the_json() -> None:
    flags = ["--cpu-threads", "4", "--batch-max-size", "8", "--batch-timeout-ms", "5.0"]
    flags += ["--queue-limit", "3", "--asr-concurrency", "2", "--asr-batch-size", "2"]
    config, _ = parse_args([*CONNECT, *flags])
    assert config.tuning == WorkerTuning(
        cpu_threads=4,
        batch_max_size=8,
        batch_timeout_ms=5,
        queue_limit=3,
        asr_concurrency=2,
        asr_batch_size=2,
    )
    config, _ = parse_args(
        [*CONNECT, "--tuning", '{"queue_limit": 9, "batch_max_size": 4}', "--queue-limit", "1"]
    )
    assert (config.tuning.queue_limit, config.tuning.batch_max_size) == (1, 4)


@pytest.mark.parametrize(
    "args",
    [
        ["--queue-limit", "0"],
        ["--asr-concurrency", "65"],
        ["--batch-timeout-ms", "2.5"],
        ["--tuning", '{"queue_limit": 0}'],
        ["--tuning", '{"queue_limt": 5}'],
        ["--tuning", "not json"],
    ],
)
def test_values_out_of_the_fields_range_are_refused(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args([*CONNECT, *args])
    assert exited.value.code == 2
    assert args[0] in capsys.readouterr().err
