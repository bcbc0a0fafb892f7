"""The model configuration a new session starts from.

The model ids, device and compute types come from the service settings (`LX_*`); the decoding
parameters are the engines' own defaults, so a session that changes nothing decodes exactly as
faster-whisper and ctranslate2 would by default.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.api.config import (
    AsrComputeConfig,
    AsrConfig,
    AsrParameters,
    ComputeType,
    Device,
    ModelConfig,
    MtComputeConfig,
    MtConfig,
    MtParameters,
)


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
            task="transcribe",
            # faster-whisper's WhisperModel.transcribe defaults (temperature: first of its
            # fallback list).
            parameters=AsrParameters(
                beam_size=5,
                best_of=5,
                temperature=0.0,
                compression_ratio_threshold=2.4,
                logprob_threshold=-1.0,
                no_speech_threshold=0.6,
                condition_on_previous_text=True,
            ),
            compute_config=AsrComputeConfig(
                device=defaults.device, compute_type=defaults.asr_compute_type
            ),
        ),
        mt=MtConfig(
            model_id=defaults.mt_model,
            target_language=defaults.target_language,
            # Usual NLLB / M2M100 generation settings on ctranslate2's Translator.
            parameters=MtParameters(
                beam_size=4,
                length_penalty=1.0,
                no_repeat_ngram_size=0,
                max_input_length=512,
                max_new_tokens=256,
                early_stopping=True,
            ),
            compute_config=MtComputeConfig(
                device=defaults.device, compute_type=defaults.mt_compute_type, batch_size=16
            ),
        ),
    )
