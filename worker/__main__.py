"""`python -m worker --device cpu --id cpu --connect ipc:///run/lx/workers.sock`

A worker on another host connects over TCP with CURVE keys (see gateway/curve_keys.py):

    python -m worker --device cuda:0 --connect tcp://gateway:5555 \\
        --server-key gateway.key --secret-key-file this-host.key_secret

Such a worker is restarted by its own supervisor (systemd, Kubernetes), not the gateway.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from worker.curve_client import CurveKeys, load_curve_keys
from worker.memory_cap import MemoryCap
from worker.scheduling.inference import QueueSettings
from worker.server import WorkerConfig, WorkerServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m worker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--id", dest="worker_id", help="worker id (default: the device; HOST-device over tcp)"
    )
    parser.add_argument("--connect", required=True, help="gateway endpoint (ipc:// or tcp://)")
    parser.add_argument("--parent-pid", type=int, help="exit when this process is gone")
    parser.add_argument("--cpu-threads", type=int, default=0, help="0: CTranslate2 decides")
    parser.add_argument("--heartbeat-interval", type=float, default=1.0, help="seconds")
    parser.add_argument(
        "--memory-limit-mb", type=float, default=0.0, help="exit (code 86) past this RSS; 0: none"
    )
    parser.add_argument("--server-key", help="the gateway's public key: its .key file or z85")
    parser.add_argument("--secret-key-file", type=Path, help="this worker's .key_secret file")
    defaults = QueueSettings()
    parser.add_argument(
        "--batch-max-size",
        type=_at_least(1),
        default=defaults.batch_max_size,
        help="texts per translation batch of one model; 1: no batching",
    )
    parser.add_argument(
        "--batch-timeout-ms",
        type=_at_least(0, float),
        default=defaults.batch_timeout_ms,
        help="how long a translation waits for others to share its batch",
    )
    parser.add_argument(
        "--queue-limit",
        type=_at_least(1),
        default=defaults.queue_limit,
        help="requests waiting per model; more are refused with QUEUE_FULL",
    )
    parser.add_argument(
        "--asr-concurrency",
        type=_at_least(1),
        default=defaults.asr_concurrency,
        help="transcriptions of one model running at once",
    )
    return parser


def _at_least(minimum: float, kind: type[int] | type[float] = int) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text} is below {minimum}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> tuple[WorkerConfig, float]:
    """The worker's configuration and its memory limit in MB (0: none)."""
    parser = _parser()
    args = parser.parse_args(argv)
    device: str = args.device
    if device == "cuda":
        device = "cuda:0"
    curve: CurveKeys | None = None
    if args.server_key or args.secret_key_file:
        if not (args.server_key and args.secret_key_file):
            parser.error("--server-key and --secret-key-file go together")
        try:
            curve = load_curve_keys(args.server_key, args.secret_key_file)
        except ValueError as exc:
            parser.error(str(exc))
    default_id = device.replace(":", "-")
    if args.connect.startswith("tcp://"):
        # Remote: ids must not collide with the gateway's own local workers.
        default_id = f"{socket.gethostname()}-{default_id}"
    config = WorkerConfig(
        worker_id=args.worker_id or default_id,
        device=device,
        connect=args.connect,
        parent_pid=args.parent_pid,
        heartbeat_interval_s=args.heartbeat_interval,
        cpu_threads=args.cpu_threads,
        curve=curve,
        queues=QueueSettings(
            batch_max_size=args.batch_max_size,
            batch_timeout_ms=args.batch_timeout_ms,
            queue_limit=args.queue_limit,
            asr_concurrency=args.asr_concurrency,
        ),
    )
    return config, args.memory_limit_mb


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LX_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s worker[{os.getpid()}] %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    config, memory_limit_mb = parse_args()
    server = WorkerServer(config)
    if memory_limit_mb > 0:
        MemoryCap(memory_limit_mb, lambda why: server.say_goodbye("oom", why)).start()
    # SIGTERM ends the loop cleanly (the default would skip closing sockets).
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    server.serve()
    # The loop ended and the sockets are closed: work still running on model threads is
    # abandoned (the gateway already failed it), not waited for deep in native code.
    os._exit(0)


if __name__ == "__main__":
    main()
