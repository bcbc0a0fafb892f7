"""A real gateway for the OpenAI-compatible API tests, one per test module.

Besides the bundled `openai/whisper-tiny.en`, its hub cache holds the suite's multilingual tiny
Whisper as `openai/whisper-tiny` (it hears French and says "hello world"), so translation can
succeed without a download. Uploads are capped at 2 MB so the limit is cheap to cross.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai import OpenAI

from tests.support.builders.fixtures import tiny_whisper_multilingual_model
from tests.support.gateway_process import GatewayProcess, running_gateway
from tests.support.hub_cache import place_in_hub_cache

MULTILINGUAL_MODEL = "openai/whisper-tiny"
UPLOAD_LIMIT_MB = 2


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    hub_cache = tmp_path_factory.mktemp("hub")
    built = tiny_whisper_multilingual_model(tmp_path_factory)
    place_in_hub_cache(hub_cache, "Systran/faster-whisper-tiny", built)
    env = {"HF_HUB_CACHE": str(hub_cache), "LX_MAX_UPLOAD_MB": str(UPLOAD_LIMIT_MB)}
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as process:
        yield process


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess) -> Iterator[OpenAI]:
    # No retries: a test must see the first answer, not a retried one.
    with OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0) as openai:
        yield openai
