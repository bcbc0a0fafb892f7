"""The model configuration a new session starts from.

The model ids, device and compute types come from the service settings (`LX_*`); the decoding
parameters are the defaults of `protocol.options` (the engines' own), so a session that
changes nothing decodes exactly as a request without a session does.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.api.config import (
    AsrComputeConfig,
    AsrConfig,
    AsrParameters,
    ModelConfig,
    MtComputeConfig,
    MtConfig,
    MtParameters,
)
from protocol.options import TranscribeOptions, TranslateOptions
from protocol.vocabulary import ComputeType, Device

_ASR = TranscribeOptions()
_MT = TranslateOptions()


@dataclass(frozen=True, kw_only=True)
class ConfigDefaults:
    """What the settings decide: LX_ASR_MODEL, LX_NLLB_MODEL / LX_M2M_MODEL (per
    LX_MT_PROVIDER), LX_DEVICE, LX_ASR_COMPUTE, LX_MT_COMPUTE_TYPE, and a target language."""

    asr_model: str
    mt_model: str
    device: Device
    asr_compute_type: ComputeType
    mt_compute_type: ComputeType
    target_language: str


def default_model_config(defaults: ConfigDefaults) -> ModelConfig:
    return ModelConfig(
        asr=AsrConfig(
            model_id=defaults.asr_model,
            task=_ASR.task,
            parameters=AsrParameters(
                beam_size=_ASR.beam_size,
                best_of=_ASR.best_of,
                temperature=_ASR.temperature,
                compression_ratio_threshold=_ASR.compression_ratio_threshold,
                logprob_threshold=_ASR.logprob_threshold,
                no_speech_threshold=_ASR.no_speech_threshold,
                condition_on_previous_text=_ASR.condition_on_previous_text,
            ),
            compute_config=AsrComputeConfig(
                device=defaults.device, compute_type=defaults.asr_compute_type
            ),
        ),
        mt=MtConfig(
            model_id=defaults.mt_model,
            target_language=defaults.target_language,
            parameters=MtParameters(
                beam_size=_MT.beam_size,
                length_penalty=_MT.length_penalty,
                no_repeat_ngram_size=_MT.no_repeat_ngram_size,
                max_input_length=_MT.max_input_length,
                max_new_tokens=_MT.max_new_tokens,
                # The contract's field; not sent to the worker, whose decoding ends at </s>.
                early_stopping=True,
            ),
            compute_config=MtComputeConfig(
                device=defaults.device, compute_type=defaults.mt_compute_type, batch_size=16
            ),
        ),
    )
