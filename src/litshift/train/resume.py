"""When a training job may continue from ``checkpoints/last.pt`` (``litshift train --resume``).

A job killed by SLURM (preemption, requeue, node failure) or retried by Snakemake reruns the
same command; ``--resume auto`` then continues from the last checkpoint, but only if it belongs
to this very run:

- its run config equals the current one (changed params make Snakemake rerun the job, and the
  old weights must not leak into the new run);
- it was trained on the same examples (:func:`data_fingerprint`; new inputs rerun the job too);
- the run it belongs to did not finish (``checkpoints/finished.json``, written once the outputs
  are complete): a forced rerun of a finished run, e.g. after a code change, trains afresh.

Anything else starts from scratch and says why. ``always`` resumes unconditionally (the
architecture is still checked), ``never`` always starts afresh.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

from litshift.data.datasets import LabeledExample
from litshift.model.checkpoint import CheckpointError, load_checkpoint
from litshift.train.config import TrainConfig
from litshift.train.trainer import TrainData

__all__ = [
    "FINISHED",
    "MODES",
    "clear_checkpoints",
    "data_fingerprint",
    "mark_finished",
    "resume_decision",
]

#: --resume values
MODES = ("auto", "always", "never")
#: marker a finished run leaves next to its checkpoints
FINISHED = "finished.json"


def data_fingerprint(data: TrainData) -> str:
    """A digest of every training and validation example (structure, conformer, labels).

    Cost: one pass over the examples' arrays (seconds for a million weak molecules).
    """
    digest = hashlib.blake2b(digest_size=16)
    for name, examples in (("train", data.train), ("valid", data.valid), ("weak", data.weak)):
        digest.update(f"{name}:{len(examples)};".encode())
        for example in examples:
            digest.update(f"{example.key}:{example.solvent_class};".encode())
            digest.update(example.coords.tobytes())
            if isinstance(example, LabeledExample):
                digest.update(example.targets.tobytes())
                digest.update(example.mask.tobytes())
            else:
                for plan in example.plans:
                    if plan is not None:
                        digest.update(f"{plan.branch}:{plan.groups}:{plan.targets};".encode())
    return digest.hexdigest()


def _normalized(config: dict[str, Any]) -> dict[str, Any]:
    """JSON round trip: tuples and lists compare equal, as they do in config files."""
    return json.loads(json.dumps(config, sort_keys=True, default=str))


def resume_decision(
    ckpt_dir: Path, mode: str, config: TrainConfig, fingerprint: str
) -> tuple[bool, str]:
    """Whether to continue from ``ckpt_dir/last.pt``, and the reason (for the log).

    Parameters
    ----------
    ckpt_dir
        The run's ``checkpoints`` directory.
    mode
        ``auto`` | ``always`` | ``never`` (see the module docstring).
    config
        The current run configuration.
    fingerprint
        :func:`data_fingerprint` of the current examples.
    """
    if mode not in MODES:
        raise ValueError(f"--resume must be one of {MODES}, got {mode!r}")
    last = ckpt_dir / "last.pt"
    if mode == "never":
        return False, "--resume never"
    if mode == "always":
        return True, "--resume always"
    if not last.exists():
        return False, f"no checkpoint {last}"
    if (ckpt_dir / FINISHED).exists():
        return False, f"{last} belongs to a finished run ({ckpt_dir / FINISHED})"
    try:
        state = load_checkpoint(last)
    except (CheckpointError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        return False, f"{last} is unreadable ({error})"
    saved, current = _normalized(state.get("train_config", {})), _normalized(config.to_dict())
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if changed:
        details = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
        return False, f"{last} was trained with another run config ({details})"
    if state.get("data_fingerprint") != fingerprint:
        return False, f"{last} was trained on other data (the inputs changed)"
    return True, f"{last} is this run's, interrupted at step {state['step']}"


def clear_checkpoints(ckpt_dir: Path) -> None:
    """Remove the checkpoints and marker of an earlier run before training afresh."""
    for name in ("last.pt", "best.pt", FINISHED):
        (ckpt_dir / name).unlink(missing_ok=True)


def mark_finished(ckpt_dir: Path, step: int) -> None:
    """Record that the run's outputs are complete, so no later job resumes it."""
    (ckpt_dir / FINISHED).write_text(json.dumps({"step": step}) + "\n")
