from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.builders.fixtures import TINY_WHISPER_LANGUAGE, tiny_whisper_multilingual_model
from tests.support.builders.nllb_copy import build_nllb_copy_model
from tests.support.gateway_process import GatewayProcess, running_gateway
from tests.support.hub_cache import place_in_hub_cache

# A multilingual Whisper the suite builds, cached where `openai/whisper-tiny` is looked for.
CACHED_MODEL = "openai/whisper-tiny"
CACHED_REPO = "Systran/faster-whisper-tiny"
CACHED_MODEL_LANGUAGE = TINY_WHISPER_LANGUAGE
# An NLLB-style copy model (translation = source text) in a folder of LX_MODEL_DIRS.
LOCAL_MT_MODEL = "local/nllb-copy"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    hub_cache = tmp_path_factory.mktemp("hub")
    place_in_hub_cache(hub_cache, CACHED_REPO, tiny_whisper_multilingual_model(tmp_path_factory))
    model_dirs = tmp_path_factory.mktemp("models")
    build_nllb_copy_model(model_dirs / LOCAL_MT_MODEL.removeprefix("local/"))
    state = tmp_path_factory.mktemp("state")
    env = {"HF_HUB_CACHE": str(hub_cache), "LX_MODEL_DIRS": str(model_dirs)}
    with running_gateway(state, **env) as process:
        yield process
