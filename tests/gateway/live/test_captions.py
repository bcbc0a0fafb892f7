"""Which worker captions reach the client: each final once and in order, no partial of a
segment already final; the payloads the protocol names."""

from __future__ import annotations

from gateway.live.captions import FinalLedger, final_data, partial_data
from protocol.wire.messages import CaptionFinal, CaptionPartial, CaptionWord, LiveResume


def _final(index: int, end_sample: int = 0) -> CaptionFinal:
    return CaptionFinal(
        request_id="r",
        segment_index=index,
        text=f"segment {index}",
        start_ms=index * 1000,
        end_ms=index * 1000 + 900,
        end_sample=end_sample,
        resume=LiveResume(start_sample=end_sample, segment_index=index + 1, prompt=f"p{index}"),
    )


def _partial(index: int) -> CaptionPartial:
    return CaptionPartial(request_id="r", segment_index=index, text="so far", stable_text="so")


def test_finals_are_taken_once_in_order_and_remember_where_to_resume() -> None:
    ledger = FinalLedger()
    assert ledger.resume is None
    assert ledger.accept_final(_final(0, 16_000))
    assert ledger.accept_final(_final(1, 32_000))
    assert (ledger.next_index, ledger.finals) == (2, 2)
    assert ledger.resume == LiveResume(start_sample=32_000, segment_index=2, prompt="p1")


def test_a_final_sent_again_after_a_reopen_is_dropped() -> None:
    # The old worker's final 1 arrived; the new worker, opened from final 0's resume,
    # computes segment 1 again: the client must not get it twice.
    ledger = FinalLedger()
    ledger.accept_final(_final(0, 16_000))
    ledger.accept_final(_final(1, 32_000))
    assert not ledger.accept_final(_final(1, 32_000))
    assert not ledger.accept_final(_final(0, 16_000))
    assert ledger.finals == 2
    assert ledger.resume is not None and ledger.resume.segment_index == 2
    assert ledger.accept_final(_final(2, 48_000))


def test_partials_of_a_segment_already_final_are_stale() -> None:
    ledger = FinalLedger()
    assert ledger.accept_partial(_partial(0))
    ledger.accept_final(_final(0))
    assert not ledger.accept_partial(_partial(0))
    assert ledger.accept_partial(_partial(1))


def test_payloads_carry_the_wire_ids_and_times() -> None:
    partial = partial_data(_partial(3))
    assert (partial.segment_id, partial.text, partial.stable_text) == ("seg_000003", "so far", "so")
    assert partial.final is False
    final = CaptionFinal(
        request_id="r",
        segment_index=12,
        text="Hello there.",
        start_ms=100,
        end_ms=900,
        words=[
            CaptionWord(text=" Hello", start_ms=100, end_ms=400, probability=0.91234),
            CaptionWord(text=" there.", start_ms=400, end_ms=900, probability=0.5),
        ],
    )
    data = final_data(final)
    assert (data.segment_id, data.start_ms, data.end_ms) == ("seg_000012", 100, 900)
    assert data.words is not None
    assert [(w.word, w.start_ms, w.end_ms, w.confidence) for w in data.words] == [
        ("Hello", 100, 400, 0.9123),
        ("there.", 400, 900, 0.5),
    ]
    assert final_data(_final(0)).words is None  # no words: left out of the message
