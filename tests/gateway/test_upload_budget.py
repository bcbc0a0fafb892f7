"""The gateway's budget for the audio requests hold (gateway/transcription/upload_budget.py)."""

from __future__ import annotations

import pytest

from gateway.settings import Settings, SettingsError
from gateway.transcription.upload_budget import UploadBudget
from protocol.errors import ErrorCode, ServiceError


def test_holds_add_up_and_are_given_back_when_their_request_ends() -> None:
    budget = UploadBudget(100)
    with budget.hold() as first:
        first.add(60)
        with budget.hold() as second:
            with pytest.raises(ServiceError) as refused:
                second.add(50)
            assert refused.value.code == ErrorCode.QUEUE_FULL
            assert refused.value.details["retry_after_s"] > 0
            second.add(40)
            assert budget.held_bytes == 100
        assert budget.held_bytes == 60
    assert budget.held_bytes == 0


def test_a_declared_length_is_refused_before_any_byte_is_held() -> None:
    budget = UploadBudget(100)
    with budget.hold() as first, budget.hold() as second:
        first.add(70)
        with pytest.raises(ServiceError):
            second.expect(31)
        second.expect(30)
        assert budget.held_bytes == 70


def test_a_hold_can_shrink_to_what_stays() -> None:
    budget = UploadBudget(100)
    with budget.hold() as hold:
        hold.add(90)
        hold.set(40)  # a multipart body gone, its file's bytes kept
        assert budget.held_bytes == 40
    assert budget.held_bytes == 0


def test_the_budget_must_hold_one_upload_of_the_largest_size() -> None:
    with pytest.raises(SettingsError, match="LX_UPLOAD_BUDGET_MB=150"):
        Settings.from_env({"LX_MAX_UPLOAD_MB": "100", "LX_UPLOAD_BUDGET_MB": "150"})
    assert Settings.from_env({"LX_MAX_UPLOAD_MB": "100", "LX_UPLOAD_BUDGET_MB": "200"})
    settings = Settings.from_env({"LX_MAX_AUDIO_SECONDS": "600"})
    assert (settings.upload_budget_mb, settings.max_audio_seconds) == (256, 600)
