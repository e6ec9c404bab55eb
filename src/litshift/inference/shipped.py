"""The model shipped inside the package, and which model a command uses by default.

A chemist who installs litshift can predict and verify at once, with the release model trained
by ``make release`` (``config.release.yaml``) and described by ``MODEL_CARD.md`` next to it.
Inside a pipeline checkout, the pipeline's own ``semi`` model takes precedence, because it was
trained on the user's data; an explicit ``--model`` always wins.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PIPELINE_MODEL", "RELEASE_DIR", "RELEASE_MODEL", "RELEASE_NAME", "default_model"]

#: the package folder holding the shipped files (data only; ``make release`` fills it)
RELEASE_DIR = Path(__file__).resolve().parents[1] / "release"
#: the predictor name of the release model in evaluation tables (its folder's name)
RELEASE_NAME = RELEASE_DIR.name
#: the shipped checkpoint; its calibration.json and MODEL_CARD.md lie beside it
RELEASE_MODEL = RELEASE_DIR / "model.pt"
#: the pipeline's headline model, relative to the working directory (a pipeline checkout)
PIPELINE_MODEL = Path("results/models/semi/model.pt")


def default_model(workdir: Path | None = None) -> tuple[Path, str]:
    """The checkpoint to use when no ``--model`` is given, and a line saying which and why.

    Raises
    ------
    FileNotFoundError
        Neither a pipeline model nor the release model exists (a source tree without the
        shipped checkpoint).
    """
    pipeline = (workdir or Path.cwd()) / PIPELINE_MODEL
    if pipeline.exists():
        return pipeline, f"model: {pipeline} (this checkout's pipeline model; --model to change)"
    if RELEASE_MODEL.exists():
        return RELEASE_MODEL, (
            f"model: litshift release model ({RELEASE_MODEL}; see MODEL_CARD.md beside it)"
        )
    raise FileNotFoundError(
        f"no model: neither {PIPELINE_MODEL} (run `make report`) nor the release model "
        f"{RELEASE_MODEL} (run `make release`) exists; pass --model PATH"
    )
