"""Which model suits each use case on this machine, and why, from its measured resources.

Pure functions of the catalog, a `MachineResources` and (optionally) discovery's locations.
ASR speed is estimated as a real-time factor (processing time / audio time) scaled from the
faster-whisper README benchmarks (13 min of audio, beam 5):
  CPU: small, int8, 8 threads (Xeon Gold 6226R): 2m04s -> RTF 0.159 for 488 MB of fp16 weights
  GPU: large-v2, fp16 (Tesla V100S): 54 s -> RTF 0.069 for 3100 MB
linearly with weight size and, on CPU, with 8 / cores (at most 16 cores count).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, TypeVar

from gateway.catalog.store import Catalog
from gateway.hardware.machine_resources import MachineResources, measure_resources
from protocol.api.catalog import (
    ASRModelInfo,
    ModelLocation,
    ModelRecommendation,
    MTModelInfo,
    UseCase,
)

__all__ = ["MachineResources", "measure_resources", "recommend", "recommend_mt"]

_CPU_RTF, _CPU_REF_MB, _CPU_REF_CORES, _CPU_MAX_CORES = 124 / 780, 488, 8, 16
_GPU_RTF, _GPU_REF_MB = 54 / 780, 3100
LIVE_RTF = 0.3  # headroom for re-decoding the live window, VAD and a busy machine
ACCURACY_RTF = 1.0  # slower than the audio itself is no recommendation
CLOSE_QUALITY = 3  # quality points worth giving up to need no download
CLOSE_MEMORY_MB = 50
MT_RAM_SHARE = 0.5  # a translation model may take half the RAM: ASR and the system need room
MT_LIVE_SPEED = {False: 75, True: 50}  # speed_score a live MT model needs, on CPU / on a GPU
_MT_GPU_RUNTIME_MB = 512

Info = TypeVar("Info", ASRModelInfo, MTModelInfo)
Locations = Mapping[str, ModelLocation] | None


class Placement(NamedTuple):
    on_gpu: bool
    where: str  # "2 CPU cores with 4.0 GB RAM", "a 24.0 GB GPU (needs 4.4 GB)"
    rtf: float = 0.0  # estimated real-time factor (ASR only)


def _gb(mb: float) -> str:
    return f"{mb / 1024:.1f} GB"


def _cpu(res: MachineResources, need_mb: float) -> str:
    return f"{res.cpu_cores} CPU cores, {_gb(res.ram_mb)} RAM (needs {_gb(need_mb)})"


def place_asr(info: ASRModelInfo, res: MachineResources) -> Placement | None:
    """Where the model would run here and how fast; None if the machine is too small."""
    hw = info.hardware_requirements
    if res.cpu_cores < hw.min_cpu_cores or res.ram_mb < hw.min_ram_mb:
        return None
    gpu_need = hw.gpu_memory_mb or info.size_mb + 1440  # the catalog's fp16 rule
    gpus = [mb for mb in res.gpu_memory_mb if mb >= gpu_need]
    if gpus:
        rtf = _GPU_RTF * info.size_mb / _GPU_REF_MB
        return Placement(True, f"a {_gb(max(gpus))} GPU (needs {_gb(gpu_need)})", rtf)
    cores = min(res.cpu_cores, _CPU_MAX_CORES)
    rtf = _CPU_RTF * (info.size_mb / _CPU_REF_MB) * (_CPU_REF_CORES / cores)
    return Placement(False, _cpu(res, hw.min_ram_mb), rtf)


def place_mt(info: MTModelInfo, res: MachineResources) -> Placement | None:
    gpu_need = info.size_mb + _MT_GPU_RUNTIME_MB  # fp16 weights on the GPU
    gpus = [mb for mb in res.gpu_memory_mb if mb >= gpu_need]
    if gpus:
        return Placement(True, f"a {_gb(max(gpus))} GPU (needs {_gb(gpu_need)})")
    if info.memory_requirement_mb <= MT_RAM_SHARE * res.ram_mb:
        return Placement(False, _cpu(res, info.memory_requirement_mb))
    return None


def _on_disk(model_id: str, locations: Locations) -> str | None:
    found = (locations or {}).get(model_id)
    return found.kind if found is not None and found.kind != "download_required" else None


def _choose(
    candidates: Sequence[Info], score: Callable[[Info], float], margin: float, locations: Locations
) -> tuple[Info, str] | None:
    """The best by `score` (ties: faster), or the best one already on disk within `margin`
    of it; with a note saying which and why."""
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda m: (score(m), m.speed_score), reverse=True)
    best = ranked[0]
    here = [
        m for m in ranked if score(m) >= score(best) - margin and _on_disk(m.model_id, locations)
    ]
    chosen = here[0] if here else best
    kind = _on_disk(chosen.model_id, locations)
    if kind is None:
        return chosen, "; needs a download"
    if chosen is best:
        return chosen, f"; already on disk ({kind})"
    return chosen, (
        f"; already on disk ({kind}), so preferred to the close {best.model_id} "
        f"({best.quality_score}/100), which needs a download"
    )


def _recommendation(
    use_case: UseCase, picked: tuple[Info, str] | None, why: str
) -> list[ModelRecommendation]:
    if picked is None:
        return []
    model, note = picked
    return [
        ModelRecommendation(use_case=use_case, recommended_model=model.model_id, reason=why + note)
    ]


def recommend(
    catalog: Catalog, resources: MachineResources, locations: Locations = None
) -> list[ModelRecommendation]:
    """One ASR model per use case, among those that fit this machine; a use case that no
    model fits is left out."""
    where = {m.model_id: p for m in catalog.asr_models() if (p := place_asr(m, resources))}
    fits = [m for m in catalog.asr_models() if m.model_id in where]
    live = [m for m in fits if m.features.real_time and where[m.model_id].rtf <= LIVE_RTF]
    usable = [m for m in fits if where[m.model_id].rtf <= ACCURACY_RTF]
    many = [m for m in live if m.features.multilingual]

    def quality(m: ASRModelInfo) -> float:
        return m.quality_score

    def speed(m: ASRModelInfo) -> str:
        p = where[m.model_id]
        return f"estimated RTF {p.rtf:.2f} on {p.where}"

    out: list[ModelRecommendation] = []
    if picked := _choose(live, quality, CLOSE_QUALITY, locations):
        m = picked[0]
        why = (
            f"Best quality ({m.quality_score}/100) that keeps up with live audio "
            f"(RTF <= {LIVE_RTF}): {speed(m)}"
        )
        out += _recommendation("real_time", picked, why)
    if picked := _choose(usable, quality, CLOSE_QUALITY, locations):
        m = picked[0]
        why = (
            f"Highest quality ({m.quality_score}/100) that fits and runs faster than the "
            f"audio: {speed(m)}"
        )
        out += _recommendation("accuracy", picked, why)
    if picked := _choose(many, quality, CLOSE_QUALITY, locations):
        m = picked[0]
        why = (
            f"Best live model for {len(m.languages)} languages ({m.quality_score}/100): {speed(m)}"
        )
        out += _recommendation("multilingual", picked, why)
    if picked := _choose(fits, lambda m: -m.memory_requirement_mb, CLOSE_MEMORY_MB, locations):
        m = picked[0]
        share = m.memory_requirement_mb / resources.ram_mb
        why = (
            f"Smallest footprint: about {m.memory_requirement_mb} MB, {share:.1%} of the RAM; "
            f"{speed(m)}"
        )
        out += _recommendation("low_resource", picked, why)
    return out


def recommend_mt(
    catalog: Catalog, resources: MachineResources, locations: Locations = None
) -> list[ModelRecommendation]:
    """One translation model per use case among those that fit: live means fast enough to
    follow captions (speed_score >= 75 on CPU, >= 50 on a GPU)."""
    where = {m.model_id: p for m in catalog.mt_models() if (p := place_mt(m, resources))}
    fits = [m for m in catalog.mt_models() if m.model_id in where]
    live = [m for m in fits if m.speed_score >= MT_LIVE_SPEED[where[m.model_id].on_gpu]]

    def quality(m: MTModelInfo) -> float:
        return m.quality_score

    def breadth(m: MTModelInfo) -> float:
        # More languages first; among equals the better one (quality < 100 breaks ties).
        return len(m.supported_languages) * 100 + m.quality_score

    def figures(m: MTModelInfo) -> str:
        scores = f"quality {m.quality_score}/100, speed {m.speed_score}/100"
        return f"{scores}, on {where[m.model_id].where}"

    out: list[ModelRecommendation] = []
    if picked := _choose(live, quality, CLOSE_QUALITY, locations):
        out += _recommendation(
            "real_time", picked, f"Best quality fast enough for live captions: {figures(picked[0])}"
        )
    if picked := _choose(fits, quality, CLOSE_QUALITY, locations):
        out += _recommendation(
            "accuracy", picked, f"Highest quality that fits: {figures(picked[0])}"
        )
    if picked := _choose(live, breadth, CLOSE_QUALITY, locations):
        m = picked[0]
        why = f"Most languages ({len(m.supported_languages)}) of the live models: {figures(m)}"
        out += _recommendation("multilingual", picked, why)
    if picked := _choose(fits, lambda m: -m.memory_requirement_mb, CLOSE_MEMORY_MB, locations):
        m = picked[0]
        why = f"Smallest footprint: about {m.memory_requirement_mb} MB of RAM; {figures(m)}"
        out += _recommendation("low_resource", picked, why)
    return out
