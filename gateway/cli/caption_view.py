"""What `loquilex-models captions` shows of each server message (plain code, no I/O).

On a terminal a partial caption is a line rewritten in place until its final replaces it;
in a pipe only finals, translations, status changes and errors are printed, one per line,
so `captions talk.wav > talk.txt` is a transcript. `--json` prints every message as it
came (NDJSON) and is handled by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["partial", "line", "error"]


@dataclass(frozen=True)
class Shown:
    kind: Kind  # partial: replaces the previous partial; line: stays; error: on stderr
    text: str


def clock(ms: int) -> str:
    """Milliseconds on the stream's clock as mm:ss.s (h:mm:ss.s past an hour)."""
    tenths = max(0, ms) // 100
    seconds, tenth = divmod(tenths, 10)
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minute:02d}:{second:02d}.{tenth}"
    return f"{minute:02d}:{second:02d}.{tenth}"


class CaptionView:
    def __init__(self, partials: bool) -> None:
        self._partials = partials

    def show(self, message: dict[str, Any]) -> list[Shown]:
        kind = message.get("t")
        data = message.get("data") or {}
        if kind == "asr.partial":
            text = str(data.get("text", "")).strip()
            return [Shown("partial", f"… {text}")] if self._partials and text else []
        if kind == "asr.final":
            start, end = clock(int(data.get("start_ms", 0))), clock(int(data.get("end_ms", 0)))
            return [Shown("line", f"[{start} → {end}] {str(data.get('text', '')).strip()}")]
        if kind in ("mt.final", "mt.partial") and (kind == "mt.final" or self._partials):
            text = f"  ↳ [{data.get('tgt', '?')}] {str(data.get('text', '')).strip()}"
            return [Shown("line" if kind == "mt.final" else "partial", text)]
        if kind == "status":
            detail = data.get("detail")
            stage = str(data.get("stage", ""))
            return [Shown("line", f"# {stage}" + (f": {detail}" if detail else ""))]
        if kind == "server.error":
            return [Shown("error", f"error {data.get('code', '?')}: {data.get('detail', '')}")]
        return []
