"""Checks every run of a live stream must pass, whatever decoded it."""

from __future__ import annotations

from collections.abc import Sequence

from worker.live.events import FinalCaption, LiveEvent, PartialCaption


def finals_of(events: Sequence[LiveEvent]) -> list[FinalCaption]:
    return [e for e in events if isinstance(e, FinalCaption)]


def transcript(events: Sequence[LiveEvent]) -> str:
    return " ".join(final.text for final in finals_of(events))


def check_caption_order(events: Sequence[LiveEvent], audio_ms: int, first_index: int = 0) -> None:
    """Segment ids count up from `first_index`, one final each; partials of a segment come
    before its final and their stable text only grows; finals are in order, inside the
    audio, and never overlap."""
    finals = finals_of(events)
    assert [f.segment_index for f in finals] == list(range(first_index, first_index + len(finals)))
    finalized: set[int] = set()
    stable: dict[int, str] = {}
    for event in events:
        assert event.segment_index not in finalized, "a caption after its segment's final"
        if isinstance(event, PartialCaption):
            assert event.text.startswith(event.stable_text)
            assert event.stable_text.startswith(stable.get(event.segment_index, ""))
            stable[event.segment_index] = event.stable_text
        else:
            finalized.add(event.segment_index)
    previous_end = 0
    previous_sample = 0
    for final in finals:
        assert previous_end <= final.start_ms <= final.end_ms <= audio_ms
        assert final.end_sample > previous_sample
        for word in final.words:
            assert final.start_ms <= word.start_ms <= word.end_ms <= final.end_ms
        assert final.resume.segment_index == final.segment_index + 1
        assert final.resume.start_sample == final.end_sample
        previous_end, previous_sample = final.end_ms, final.end_sample
