"""litshift.model: the SE(3)-invariant shift transformer."""

from litshift.model.transformer import PRESETS, SOLVENT_MODES, ModelConfig, ShiftTransformer

__all__ = ["PRESETS", "SOLVENT_MODES", "ModelConfig", "ShiftTransformer"]
