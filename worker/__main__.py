"""`python -m worker --device cpu --id cpu --connect ipc:///run/lx/workers.sock`

A worker on another host connects over TCP with CURVE keys (see gateway/curve_keys.py):

    python -m worker --device cuda:0 --connect tcp://gateway:5555 \\
        --server-key gateway.key --secret-key-file this-host.key_secret

Such a worker is restarted by its own supervisor (systemd, Kubernetes), not the gateway.
Its tuning comes in one piece (`--tuning '{"queue_limit": 64}'`, what the gateway passes
to the workers it spawns) and/or as one flag per field of protocol.wire.tuning.WorkerTuning
(`--queue-limit 64`); a flag wins over the same field in `--tuning`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from protocol.log_lines import configure_logging, log_format_from_env
from protocol.wire.tuning import WorkerTuning, tuning_from_json
from worker.curve_client import CurveKeys, load_curve_keys
from worker.memory_cap import MemoryCap
from worker.parent_death import die_with_parent
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
    parser.add_argument("--heartbeat-interval", type=float, default=1.0, help="seconds")
    parser.add_argument(
        "--memory-limit-mb", type=float, default=0.0, help="exit (code 86) past this RSS; 0: none"
    )
    parser.add_argument("--server-key", help="the gateway's public key: its .key file or z85")
    parser.add_argument("--secret-key-file", type=Path, help="this worker's .key_secret file")
    parser.add_argument("--tuning", type=_tuning, help="all tuning fields as one JSON object")
    _add_tuning_flags(parser)
    return parser


def _add_tuning_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per WorkerTuning field (`queue_limit`: `--queue-limit`), checked against
    the field's own type and range."""
    defaults = WorkerTuning()
    for field in msgspec.structs.fields(WorkerTuning):
        info = msgspec.inspect.type_info(field.type)
        extra = info.extra_json_schema if isinstance(info, msgspec.inspect.Metadata) else None
        bounds = info.type if isinstance(info, msgspec.inspect.Metadata) else info
        limits = ""
        if isinstance(bounds, msgspec.inspect.IntType):
            limits = f"{bounds.ge} to {bounds.le}, "
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=f"tuning_{field.name}",
            metavar="N",
            type=_field_value(field.type),
            default=None,
            help=f"{(extra or {}).get('description', '')} "
            f"({limits}default {getattr(defaults, field.name)})",
        )


def _field_value(annotation: Any) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return msgspec.convert(text, annotation, strict=False)
        except msgspec.ValidationError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None

    return parse


def _tuning(text: str) -> WorkerTuning:
    try:
        return tuning_from_json(text)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _tuning_of(args: argparse.Namespace) -> WorkerTuning:
    base: WorkerTuning = args.tuning or WorkerTuning()
    flags = {
        field.name: getattr(args, f"tuning_{field.name}")
        for field in msgspec.structs.fields(WorkerTuning)
        if getattr(args, f"tuning_{field.name}") is not None
    }
    return msgspec.structs.replace(base, **flags)


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
        curve=curve,
        tuning=_tuning_of(args),
        memory_limit_mb=max(args.memory_limit_mb, 0.0),
    )
    return config, args.memory_limit_mb


def main() -> None:
    configure_logging(
        "worker", os.environ.get("LX_LOG_LEVEL", "INFO"), log_format_from_env(), pid_in_text=True
    )
    config, memory_limit_mb = parse_args()
    if config.parent_pid is not None:
        die_with_parent(config.parent_pid)
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
