"""`python -m worker --device cpu --id cpu-0 --connect ipc:///run/lx/workers.sock`"""

from __future__ import annotations

import argparse
import logging
import os
import signal

from worker.server import WorkerConfig, WorkerServer


def parse_args(argv: list[str] | None = None) -> WorkerConfig:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--id", dest="worker_id", help="worker id (default: the device name)")
    parser.add_argument("--connect", required=True, help="gateway endpoint (ipc:// or tcp://)")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--cpu-threads", type=int, default=0, help="0: CTranslate2 decides")
    parser.add_argument("--heartbeat-interval", type=float, default=1.0, help="seconds")
    args = parser.parse_args(argv)
    device: str = args.device
    if device == "cuda":
        device = "cuda:0"
    return WorkerConfig(
        worker_id=args.worker_id or device.replace(":", "-"),
        device=device,
        connect=args.connect,
        parent_pid=args.parent_pid,
        heartbeat_interval_s=args.heartbeat_interval,
        cpu_threads=args.cpu_threads,
    )


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LX_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s worker[{os.getpid()}] %(levelname)s %(name)s: %(message)s",
    )
    server = WorkerServer(parse_args())
    # SIGTERM ends the loop cleanly (the default would skip closing sockets).
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    server.serve()


if __name__ == "__main__":
    main()
