"""MLflow tracking for pipeline stages.

Every stage opens one MLflow run (:func:`stage_run`) and logs its parameters, counts and a small
summary artifact. Runs of one ``snakemake`` invocation share the tag ``pipeline_run`` so they can
be grouped in the UI.

Where it logs is decided by the environment, which the Snakefile fills from ``config.yaml``:

- ``MLFLOW_TRACKING_URI`` (default ``sqlite:///results/mlflow/mlflow.db``, embedded, no server),
- ``MLFLOW_EXPERIMENT_NAME`` (default ``litshift``),
- ``LITSHIFT_PIPELINE_RUN`` (the grouping tag),
- ``LITSHIFT_TRACKING=0`` switches tracking off (unit tests, quick CLI use).

Stages running in parallel share one SQLite file, so every write to a local SQLite store is
serialized through a file lock next to the database.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["StageRun", "stage_run", "tracking_enabled", "tracking_uri", "DEFAULT_TRACKING_URI"]

logger = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///results/mlflow/mlflow.db"
DEFAULT_EXPERIMENT = "litshift"


def tracking_enabled() -> bool:
    """Tracking is on unless ``LITSHIFT_TRACKING`` is ``0``/``false``/``off``."""
    return os.environ.get("LITSHIFT_TRACKING", "1").lower() not in {"0", "false", "off", "no"}


def tracking_uri() -> str:
    """The MLflow tracking URI in force (environment, else the embedded SQLite default)."""
    return os.environ.get("MLFLOW_TRACKING_URI", DEFAULT_TRACKING_URI)


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


@contextmanager
def _store_lock(uri: str) -> Iterator[None]:
    """Serialize writers of a local SQLite store; remote stores need no lock."""
    db = _sqlite_path(uri)
    if db is None:
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.parent / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> ``{"train.lr": "0.0004"}``; MLflow params are flat strings."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = json.dumps(value) if isinstance(value, list | tuple) else str(value)
    return flat


class StageRun:
    """Handle on one stage's MLflow run; every method is a no-op when tracking is off."""

    def __init__(self, client: Any | None, run_id: str | None, uri: str) -> None:
        self._client = client
        self.run_id = run_id
        self._uri = uri

    @property
    def active(self) -> bool:
        return self._client is not None

    def log_params(self, params: Mapping[str, Any]) -> None:
        if self._client is None:
            return
        from mlflow.entities import Param

        flat = [Param(k, v[:6000]) for k, v in _flatten(params).items()]
        with _store_lock(self._uri):
            for start in range(0, len(flat), 100):
                self._client.log_batch(self.run_id, params=flat[start : start + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        if self._client is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(k, float(v), now, step or 0) for k, v in metrics.items()]
        with _store_lock(self._uri):
            self._client.log_batch(self.run_id, metrics=batch)

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> None:
        """Log a JSON summary (the stage's counts and reasons) as an artifact."""
        if self._client is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / artifact_file
            path.write_text(json.dumps(data, indent=2, default=str))
            self.log_artifact(path)

    def log_artifact(self, path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        if self._client is None:
            return
        with _store_lock(self._uri):
            self._client.log_artifact(self.run_id, str(path), artifact_path)


def _experiment_id(client: Any, name: str, uri: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    db = _sqlite_path(uri)
    # Keep artifacts beside the embedded store instead of in ./mlruns of the current directory.
    location = (db.parent / "artifacts").resolve().as_uri() if db is not None else None
    return client.create_experiment(name, artifact_location=location)


@contextmanager
def stage_run(stage: str, params: Mapping[str, Any] | None = None) -> Iterator[StageRun]:
    """Open an MLflow run named ``stage`` for the duration of the block.

    The run ends ``FINISHED`` when the block succeeds and ``FAILED`` when it raises, so a
    crashed stage is visible in the UI rather than left ``RUNNING``.
    """
    uri = tracking_uri()
    if not tracking_enabled():
        yield StageRun(None, None, uri)
        return
    from mlflow.tracking import MlflowClient

    db = _sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME", DEFAULT_EXPERIMENT)
    tags = {"stage": stage, "pipeline_run": os.environ.get("LITSHIFT_PIPELINE_RUN", "manual")}
    with _store_lock(uri):  # creating the client may create/migrate the SQLite schema
        client = MlflowClient(tracking_uri=uri)
        run = client.create_run(_experiment_id(client, experiment, uri), run_name=stage, tags=tags)
    handle = StageRun(client, run.info.run_id, uri)
    if params:
        handle.log_params(params)
    status = "FAILED"
    try:
        yield handle
        status = "FINISHED"
    finally:
        with _store_lock(uri):
            client.set_terminated(run.info.run_id, status=status)
        logger.info("MLflow run %s (%s) %s", run.info.run_id, stage, status.lower())
