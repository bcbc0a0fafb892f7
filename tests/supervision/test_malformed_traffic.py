"""Frames from a worker that do not decode, or do not belong, are logged and dropped."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
import zmq

from protocol.wire import messages as ipc
from tests.supervision.harness import gateway_running

pytestmark = pytest.mark.integration

MEMORY = ipc.MemoryInfo(total_mb=1, available_mb=1, process_rss_mb=1)


def test_garbage_from_a_raw_dealer_is_dropped_and_the_gateway_keeps_serving(
    tmp_path: Path,
) -> None:
    with gateway_running(tmp_path) as gateway:
        (worker,) = gateway.workers()
        command = psutil.Process(worker["pid"]).cmdline()
        endpoint = command[command.index("--connect") + 1]
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        dealer = context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.IDENTITY, b"intruder")
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.connect(endpoint)
        try:
            dealer.send(b"\xc1 not msgpack")
            dealer.send(b"")
            dealer.send(b"\x81\xa4type\xa5Hello")  # msgpack, but not a valid Hello
            dealer.send_multipart(
                # A code this gateway does not know, for a request it never sent.
                [ipc.encode(ipc.ErrorReply(request_id="x-1", code="X", message="?"))]  # type: ignore[arg-type]
            )
            # Claims to be the real worker: its hello names another id than its identity.
            dealer.send(
                ipc.encode(ipc.Hello(worker_id="cpu", device="cpu", pid=1, host="h", memory=MEMORY))
            )
            # A heartbeat without a hello: the gateway asks it to introduce itself.
            dealer.send(ipc.encode(ipc.Heartbeat(worker_id="intruder", seq=1, memory=MEMORY)))
            assert dealer.poll(5000), "the gateway did not answer the heartbeat"
            asked = ipc.decode_from_gateway(dealer.recv())
            assert isinstance(asked, ipc.HelloRequest)
        finally:
            dealer.close()
            context.term()
        gateway.wait_for(lambda: "dropped a malformed frame" in gateway.log(), 5, "the log")
        log = gateway.log()
        assert "naming itself 'cpu'" in log
        with gateway.client() as client:
            workers = client.get("/api/workers").json()["workers"]
        assert [(w["worker_id"], w["pid"], w["state"]) for w in workers] == [
            ("cpu", worker["pid"], "ready")
        ]
        answer = gateway.transcribe()
        assert answer.status_code == 200, answer.text
