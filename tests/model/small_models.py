"""The tiny preset shrunk further: the model the model-layer tests build (shared by the
transformer and checkpoint tests)."""

from __future__ import annotations

from dataclasses import replace

from litshift.model.transformer import ELEMENT_TOKENS, PRESETS, ModelConfig


def small_config(**overrides: object) -> ModelConfig:
    """The tiny preset shrunk further so each test runs in well under a second."""
    base = replace(PRESETS["tiny"], n_layers=2, n_heads=4, d_model=32, d_ffn=64, n_kernels=16)
    # geometry-only by default: these tests feed atomic numbers and coordinates alone
    return replace(base, dropout=0.0, attn_dropout=0.0, **(ELEMENT_TOKENS | overrides))
