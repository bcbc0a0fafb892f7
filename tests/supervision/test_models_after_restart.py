"""A gateway that died (SIGKILL) and is started again on the same state folder loads again
the models it held; one an operator unloaded stays unloaded."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.supervision.harness import MODEL, gateway_running
from tests.support.gateway_process import next_event

pytestmark = pytest.mark.integration


def test_models_come_back_after_a_gateway_restart_and_unloaded_ones_do_not(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "state" / "loaded_models.json"
    with gateway_running(tmp_path) as first:
        with first.events() as ws:
            assert first.load(compute_config={"device": "cpu"}).status_code == 202
            next_event(ws, {"model.load.completed"}, timeout_s=60)
        assert [m["model_id"] for m in json.loads(saved.read_text())["models"]] == [MODEL]
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(5)

    with gateway_running(tmp_path) as second:
        # Nobody asks: the model is loaded again from the state folder.
        second.wait_for(lambda: second.model_status() == "loaded", 60, "the model back")
        worker = second.worker("cpu")
        assert worker["models"] == [MODEL]
        assert second.transcribe().status_code == 200
        with second.client() as client:
            assert client.post(f"/api/models/{MODEL}/unload").status_code == 200
        assert json.loads(saved.read_text())["models"] == []

    with gateway_running(tmp_path) as third:
        time.sleep(3)  # time enough for a load it should not start
        assert third.model_status() == "not_loaded"
        assert third.worker("cpu")["models"] == []
