"""The model shipped inside the package, and which model a command uses by default.

A chemist who installs litshift can predict and verify at once, with the release model trained
by ``make release`` (``config.release.yaml``) and described by ``MODEL_CARD.md`` next to it.
Inside a pipeline checkout, the pipeline's own headline models take precedence (``semi``, with
``supervised`` when it trained too: their mean beats either), because they were trained on the
user's data; an explicit ``--model`` always wins.

The release model is a deep ensemble: ``members/<run>/model.pt`` (each with the
``calibration.json`` of its run) under the package folder; a command loads them all and
predicts their mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "MEMBERS_DIR",
    "PIPELINE_MODEL",
    "PIPELINE_PARTNER",
    "RELEASE_DIR",
    "RELEASE_NAME",
    "default_model",
    "ensemble_name",
    "model_group",
    "model_name",
    "release_members",
]

#: the package folder holding the shipped files (data only; ``make release`` fills it)
RELEASE_DIR = Path(__file__).resolve().parents[1] / "release"
#: the predictor name of the release model in evaluation tables (its folder's name)
RELEASE_NAME = RELEASE_DIR.name
#: the folder of a release package that holds one run folder per ensemble member
MEMBERS_DIR = "members"
#: the pipeline's headline model, relative to the working directory (a pipeline checkout)
PIPELINE_MODEL = Path("results/models/semi/model.pt")
#: the other headline run, averaged with it when present (the report's ``supervised+semi``)
PIPELINE_PARTNER = Path("results/models/supervised/model.pt")


def release_members(package: Path | None = None) -> list[Path]:
    """The member checkpoints of a release package (default: the shipped one), in run order;
    empty when it holds none."""
    return sorted(((package or RELEASE_DIR) / MEMBERS_DIR).glob("*/model.pt"))


def model_group(spec: str | Path) -> list[Path]:
    """The checkpoints one predictor is made of, from a command-line spec.

    A checkpoint file is one model; several joined by ``,`` are a deep ensemble (named
    :func:`model_name`); a release package folder (``src/litshift/release``) is its members.

    Raises
    ------
    FileNotFoundError
        A folder that holds no ``members/*/model.pt``.
    """
    text = str(spec)
    if "," in text:
        return [Path(part) for part in text.split(",") if part]
    path = Path(text)
    if path.is_dir():
        members = release_members(path)
        if not members:
            raise FileNotFoundError(f"{path} holds no {MEMBERS_DIR}/*/model.pt (a release package)")
        return members
    return [path]


def ensemble_name(runs: Iterable[str]) -> str:
    """The evaluation name of the runs averaged as one predictor (``supervised+semi``)."""
    return "+".join(runs)


def model_name(spec: str | Path) -> str:
    """The name a predictor made from a spec (:func:`model_group`) goes by in evaluation
    tables: a release package's folder name, else the run folders of its checkpoints
    (``results/models/<run>/model.pt`` -> ``<run>``) joined by ``+``."""
    path = Path(str(spec))
    if path.is_dir():
        return path.name
    return ensemble_name(Path(part).parent.name for part in str(spec).split(",") if part)


def default_model(workdir: Path | None = None) -> tuple[list[Path], str]:
    """The checkpoints to use when no ``--model`` is given, and a line saying which and why.

    Raises
    ------
    FileNotFoundError
        Neither a pipeline model nor the release model exists (a source tree without the
        shipped checkpoints).
    """
    root = workdir or Path.cwd()
    pipeline = root / PIPELINE_MODEL
    if pipeline.exists():
        partner = root / PIPELINE_PARTNER
        if partner.exists():
            return [partner, pipeline], (
                f"model: {partner} and {pipeline} averaged (this checkout's headline runs; "
                "--model to change)"
            )
        return [pipeline], f"model: {pipeline} (this checkout's pipeline model; --model to change)"
    members = release_members()
    if members:
        return members, (
            f"model: litshift release model ({RELEASE_DIR}, an ensemble of {len(members)}; "
            "see MODEL_CARD.md there)"
        )
    raise FileNotFoundError(
        f"no model: neither {PIPELINE_MODEL} (run `make report`) nor the release model "
        f"{RELEASE_DIR / MEMBERS_DIR} (run `make release`) exists; pass --model PATH"
    )
