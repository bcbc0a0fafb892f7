"""Which tests start processes, seen as they run: the check behind `make unit`.

Python raises an audit event whenever a process is started (`subprocess.Popen`, `os.fork`,
`os.posix_spawn`, `os.system`, `os.exec`...). The root conftest records those events while a
test sets up and runs, and fails a test that started one unless its module says
`pytestmark = pytest.mark.integration`: `make unit` (`pytest -m "not integration"`) then
starts none, whatever harness or fixture a test uses.
"""

from __future__ import annotations

import types
from collections.abc import Sequence

_PROCESS_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.exec",
        "pty.spawn",
    }
)


class ProcessStarts:
    """The processes started while `watching`, as one line each."""

    def __init__(self) -> None:
        self.watching = False
        self.seen: list[str] = []

    def on_audit(self, event: str, args: Sequence[object]) -> None:
        # Called for every audit event of the test process: keep the common path short.
        if self.watching and event in _PROCESS_EVENTS:
            detail = args[1] if event == "subprocess.Popen" and len(args) > 1 else args[:1]
            self.seen.append(f"{event} {detail!r}"[:200])

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


def module_marked_integration(module: types.ModuleType | None) -> bool:
    """Whether the module's own `pytestmark` holds the integration mark."""
    marks = getattr(module, "pytestmark", [])
    if not isinstance(marks, list | tuple):
        marks = [marks]
    return any(getattr(mark, "name", None) == "integration" for mark in marks)


def unmarked_process_test(nodeid: str, started: list[str]) -> str:
    return (
        f"{nodeid} started a process ({'; '.join(started[:3])}) but its module is not marked: "
        "add `pytestmark = pytest.mark.integration` at its top, so `make unit` skips it"
    )
