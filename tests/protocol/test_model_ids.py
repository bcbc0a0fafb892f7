"""Model ids that would leave a folder are refused (protocol/model_ids.py)."""

from __future__ import annotations

import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.model_ids import check_model_id, model_id_problem, stays_inside


@pytest.mark.parametrize(
    "model_id",
    [
        "openai/whisper-tiny.en",
        "facebook/nllb-200-distilled-600M",
        "local/my-model",
        "local/owner/name",
        "Systran/faster-whisper-large-v3",
        "whisper-1",
        "a..b/c",  # dots inside a name are not a parent folder
    ],
)
def test_ordinary_ids_pass(model_id: str) -> None:
    assert model_id_problem(model_id) is None
    assert check_model_id(model_id) == model_id


@pytest.mark.parametrize(
    "model_id",
    [
        "..",
        "../etc/passwd",
        "openai/../../etc",
        "local/..",
        "local/../../secrets",
        "./model",
        "/etc/passwd",
        "//server/share",
        "C:/Windows",
        "c:model",
        "local\\..\\..\\x",
        "openai\\whisper",
        "openai/whisper\x00.bin",
        "line\nbreak",
        "a//b",
        "trailing/",
        "",
        "x" * 257,
    ],
)
def test_ids_that_leave_a_folder_are_refused(model_id: str) -> None:
    assert model_id_problem(model_id) is not None
    with pytest.raises(ServiceError) as refused:
        check_model_id(model_id, "repo_id")
    assert refused.value.code == ErrorCode.INVALID_REQUEST
    assert refused.value.details["field"] == "repo_id"
    assert refused.value.details["model_id"] == model_id


def test_stays_inside_judges_the_normalised_path() -> None:
    assert stays_inside("/cache", "models--a--b")
    assert stays_inside("/cache/", "a/b/../c")  # /cache/a/c
    assert not stays_inside("/cache", "a/../../etc")
    assert not stays_inside("/cache", "/etc/passwd")
    assert not stays_inside("/cache", "..")
    assert not stays_inside("/cache", ".")  # the folder itself is not inside it
    assert not stays_inside("/cache", "../cache-other/x")  # a sibling sharing the prefix
