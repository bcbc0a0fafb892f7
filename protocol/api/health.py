"""The contract's ModelHealthCheckResponse."""

from __future__ import annotations

from typing import Literal

import msgspec

from protocol.api.lifecycle import Health

CheckStatus = Literal["pass", "fail"]


class LoadingCheck(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: CheckStatus
    message: str | None = None


class InferenceCheck(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: CheckStatus
    message: str | None = None
    latency_ms: float | None = None


class MemoryCheck(msgspec.Struct, kw_only=True):
    status: CheckStatus
    usage_mb: float
    limit_mb: float


class GpuCheck(msgspec.Struct, kw_only=True, omit_defaults=True):
    status: CheckStatus
    usage_percent: float | None = None


class HealthChecks(msgspec.Struct, kw_only=True, omit_defaults=True):
    loading: LoadingCheck
    inference: InferenceCheck
    memory: MemoryCheck
    gpu: GpuCheck | None = None


class ModelHealthCheckResponse(msgspec.Struct, kw_only=True):
    model_id: str
    status: Health
    checks: HealthChecks
    recommendations: list[str]
    checked_at: str
