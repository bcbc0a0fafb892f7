"""Weights that make a pre-norm Transformer copy its source sentence to its output.

The residual stream is split into two blocks: the first head's width holds position vectors,
the rest holds token vectors. Every attention and feed-forward sublayer writes (almost) nothing
back, except the first decoder layer's cross-attention, whose heads all attend from decoding
step t to source position t (positions match through the query/key projections) and copy that
position's token block into the decoder. The output projection is the token embedding matrix,
scaled so the copied token wins by a wide margin: output text == input text, for greedy and
beam search, in float32 and in int8.

Vectors in each block sum to zero, so LayerNorm only rescales them (it subtracts the mean).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from ctranslate2.specs import transformer_spec

from tests.support.builders.spec_fill import (
    Filler,
    Matrix,
    fill_attention,
    fill_ffn,
    set_layer_norm,
    set_linear,
)

# Logit margins (in nats) for the right source position and the right output token.
_ATTENTION_GAP = 25.0
_TOKEN_GAP = 25.0
# Norm of the copied token vector relative to the decoder's own position vector.
_COPY_NORM = 4.0


@dataclass(frozen=True)
class CopyGeometry:
    """Position and token vectors of one model, with the margins they give."""

    positions: Matrix  # (max_positions, d_model), nonzero only in the position block
    tokens: Matrix  # (vocab_size, d_model), nonzero only in the token block
    position_margin: float  # 1 - max cosine between two different positions
    token_margin: float  # 1 - max cosine between two different tokens


def zero_sum_basis(size: int) -> Matrix:
    """Orthonormal basis (size, size - 1) of the vectors whose entries sum to zero."""
    ones_first = np.eye(size, dtype=np.float64)
    ones_first[:, 0] = 1.0
    q, _ = np.linalg.qr(ones_first)
    return q[:, 1:].astype(np.float32)


def _position_vectors(count: int, width: int, rng: np.random.Generator) -> tuple[Matrix, float]:
    """`count` unit vectors of `width` whose cosine peaks sharply at equal positions.

    Sine/cosine pairs give cos(t, s) = mean_k cos(w_k (t - s)); a short random search picks
    frequencies whose worst off-peak value over all offsets is low.
    """
    pairs = (width - 1) // 2
    offsets = np.arange(1, count, dtype=np.float64)[:, None]
    best, best_worst = np.zeros(pairs), np.inf
    for _ in range(64):
        freqs = rng.uniform(0.05, np.pi, pairs)
        worst = float(np.cos(offsets * freqs).mean(axis=1).max()) if count > 1 else 0.0
        if worst < best_worst:
            best, best_worst = freqs, worst
    angles = np.arange(count, dtype=np.float64)[:, None] * best
    features = np.concatenate([np.cos(angles), np.sin(angles)], axis=1) / np.sqrt(pairs)
    vectors = features @ zero_sum_basis(width)[:, : 2 * pairs].T.astype(np.float64)
    return vectors.astype(np.float32), 1.0 - best_worst


def _token_vectors(count: int, width: int, rng: np.random.Generator) -> tuple[Matrix, float]:
    raw = rng.standard_normal((count, width - 1))
    raw /= np.linalg.norm(raw, axis=1, keepdims=True)
    cosines = raw @ raw.T
    np.fill_diagonal(cosines, -1.0)
    vectors = raw @ zero_sum_basis(width).T.astype(np.float64)
    return vectors.astype(np.float32), 1.0 - float(cosines.max())


def make_geometry(
    d_model: int, heads: int, vocab_size: int, max_positions: int, seed: int
) -> CopyGeometry:
    head_dim = d_model // heads
    rng = np.random.default_rng(seed)
    positions = np.zeros((max_positions, d_model), dtype=np.float32)
    tokens = np.zeros((vocab_size, d_model), dtype=np.float32)
    positions[:, :head_dim], position_margin = _position_vectors(max_positions, head_dim, rng)
    tokens[:, head_dim:], token_margin = _token_vectors(vocab_size, d_model - head_dim, rng)
    if position_margin <= 0.05 or token_margin <= 0.02:
        raise ValueError(
            f"d_model={d_model}, heads={heads} leave too little room to copy "
            f"{vocab_size} tokens over {max_positions} positions"
        )
    return CopyGeometry(positions, tokens, position_margin, token_margin)


def _wire_copy_attention(spec: Any, geometry: CopyGeometry, heads: int) -> None:
    """Cross-attention where decoding step t reads the token at source position t."""
    d_model = geometry.tokens.shape[1]
    head_dim = d_model // heads
    set_layer_norm(spec.layer_norm, d_model)
    # The decoder's normalized input is P_t * sqrt(d); memory is (e_s + P_s) * sqrt(d / 2).
    score_scale = d_model / np.sqrt(2.0) / np.sqrt(head_dim)
    beta = _ATTENTION_GAP / (score_scale * geometry.position_margin)
    gamma = _COPY_NORM / np.sqrt(d_model / 2.0)
    eye = np.eye(head_dim, dtype=np.float32)
    query = np.zeros((d_model, d_model), dtype=np.float32)
    key_value = np.zeros((2 * d_model, d_model), dtype=np.float32)
    for head in range(heads):
        rows = slice(head * head_dim, (head + 1) * head_dim)
        query[rows, :head_dim] = beta * eye
        key_value[rows, :head_dim] = eye
    # Values and output: identity on the token block (head 0's slot carries positions only).
    key_value[d_model + head_dim :, head_dim:] = np.eye(d_model - head_dim, dtype=np.float32)
    output = np.zeros((d_model, d_model), dtype=np.float32)
    output[head_dim:, head_dim:] = gamma * np.eye(d_model - head_dim, dtype=np.float32)
    linears = spec.linear
    set_linear(linears[0], query)
    set_linear(linears[1], key_value)
    set_linear(linears[2], output)


def output_scale(geometry: CopyGeometry) -> float:
    """Scale of the output projection giving the copied token a `_TOKEN_GAP` logit margin."""
    d_model = geometry.tokens.shape[1]
    token_share = _COPY_NORM / np.sqrt(1.0 + _COPY_NORM**2)  # after the final LayerNorm
    return float(_TOKEN_GAP / (token_share * np.sqrt(d_model) * geometry.token_margin))


def fill_copy_transformer(
    spec: transformer_spec.TransformerSpec,
    geometry: CopyGeometry,
    *,
    heads: int,
    ffn_dim: int,
    seed: int,
) -> None:
    """Set every variable of a pre-norm `TransformerSpec` (from `from_config`) to copy weights."""
    d_model = geometry.tokens.shape[1]
    fill = Filler(seed)
    encoder, decoder = spec.encoder, spec.decoder
    # Embeddings are used as they are: the vectors above already have the scale we want.
    encoder.scale_embeddings = False
    decoder.scale_embeddings = False

    encoder.embeddings[0].weight = geometry.tokens
    encoder.position_encodings.encodings = geometry.positions
    for layer in encoder.layer:
        fill_attention(layer.self_attention, d_model, fill)
        fill_ffn(layer.ffn, d_model, ffn_dim, fill)
    set_layer_norm(encoder.layer_norm, d_model)

    # The decoder ignores which token it was fed: only its position matters.
    decoder.embeddings.weight = fill.silent(*geometry.tokens.shape)
    decoder.position_encodings.encodings = geometry.positions
    for index, layer in enumerate(decoder.layer):
        fill_attention(layer.self_attention, d_model, fill)
        if index == 0:
            _wire_copy_attention(layer.attention, geometry, heads)
        else:
            fill_attention(layer.attention, d_model, fill)
        fill_ffn(layer.ffn, d_model, ffn_dim, fill)
    set_layer_norm(decoder.layer_norm, d_model)
    set_linear(decoder.projection, geometry.tokens * np.float32(output_scale(geometry)))
