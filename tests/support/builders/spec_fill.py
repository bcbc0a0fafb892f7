"""Fill ctranslate2 spec layers with numpy weights: exact ones, random ones and silent ones.

"Silent" sublayers read their input with random projections but write back almost nothing
(an output projection of ~1e-6 noise), so a model can have real size and real compute while
its output is decided by a few hand-wired weights elsewhere. The noise is not exact zeros on
purpose: ctranslate2 aliases equal matrices (the model would be smaller than its shape says)
and int16 quantization divides by each matrix's largest value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

FILLER_STD = 0.02
SILENT_STD = 1e-6


class Filler:
    """Deterministic random matrices for the weights that must not change the output."""

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def random(self, *shape: int, std: float = FILLER_STD) -> Matrix:
        return self._rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    def silent(self, *shape: int) -> Matrix:
        return self.random(*shape, std=SILENT_STD)


# Spec layers are untyped ctranslate2 objects whose attributes are set by name.
def set_layer_norm(spec: Any, d_model: int) -> None:
    """Identity LayerNorm: gamma 1, beta 0."""
    spec.gamma = np.ones(d_model, dtype=np.float32)
    spec.beta = np.zeros(d_model, dtype=np.float32)


def set_linear(spec: Any, weight: Matrix, bias: Matrix | None = None) -> None:
    spec.weight = weight
    spec.bias = np.zeros(weight.shape[0], dtype=np.float32) if bias is None else bias


def fill_attention(spec: Any, d_model: int, fill: Filler, *, silent: bool = True) -> None:
    """Random input projections; a silent (or, with silent=False, random) output projection.

    Self-attention specs have two linears (fused query/key/value, output); cross-attention
    specs have three (query, fused key/value, output).
    """
    set_layer_norm(spec.layer_norm, d_model)
    linears = spec.linear
    if len(linears) == 2:
        set_linear(linears[0], fill.random(3 * d_model, d_model))
    else:
        set_linear(linears[0], fill.random(d_model, d_model))
        set_linear(linears[1], fill.random(2 * d_model, d_model))
    output = fill.silent(d_model, d_model) if silent else fill.random(d_model, d_model)
    set_linear(linears[-1], output)


def fill_ffn(spec: Any, d_model: int, ffn_dim: int, fill: Filler, *, silent: bool = True) -> None:
    set_layer_norm(spec.layer_norm, d_model)
    set_linear(spec.linear_0, fill.random(ffn_dim, d_model))
    output = fill.silent(d_model, ffn_dim) if silent else fill.random(d_model, ffn_dim)
    set_linear(spec.linear_1, output)
