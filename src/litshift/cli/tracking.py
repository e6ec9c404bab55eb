"""MLflow tracking for pipeline stages.

Every stage opens one MLflow run (:func:`stage_run`) and logs its parameters, counts and a small
summary artifact. Every run is tagged with the code's git commit (and whether the checkout had
uncommitted changes), the configuration hash and the litshift version; runs of one ``snakemake``
invocation share the tag ``pipeline_run`` so they can be grouped in the UI.

Tracking is opt-in, so a command typed to try something never adds runs to the pipeline's
store. It is on when asked for:

- a tracking URI is given: ``--tracking-uri`` (every Snakemake rule passes ``tracking.uri`` of
  ``config.yaml``), else ``LITSHIFT_TRACKING_URI``, else ``MLFLOW_TRACKING_URI``;
- or ``LITSHIFT_TRACKING=1``, which logs to the URI given or to
  ``sqlite:///results/mlflow/mlflow.db`` (embedded, no server);
- ``LITSHIFT_TRACKING=0`` switches it off whatever else is set.

``MLFLOW_EXPERIMENT_NAME`` (default ``litshift``), ``LITSHIFT_PIPELINE_RUN`` (the grouping tag)
and ``LITSHIFT_CONFIG_HASH`` (the pipeline config's hash; without it, the hash of the run's own
parameters) come from the environment, which ``workflow/rules/common.smk`` fills.

Stages running in parallel share one SQLite file, so every write to a local SQLite store is
serialized through a file lock next to the database.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from litshift.provenance import config_hash, git_state, litshift_version

__all__ = [
    "DEFAULT_TRACKING_URI",
    "TRACKING_HELP",
    "StageRun",
    "add_tracking_option",
    "given_tracking_uri",
    "provenance_tags",
    "stage_run",
    "tracking_enabled",
    "tracking_uri",
]

logger = logging.getLogger(__name__)

DEFAULT_TRACKING_URI = "sqlite:///results/mlflow/mlflow.db"
DEFAULT_EXPERIMENT = "litshift"


#: the ``--tracking-uri`` of the command being run (set by :func:`given_tracking_uri`)
_URI_OPTION: ContextVar[str | None] = ContextVar("litshift_tracking_uri", default=None)
_OFF = {"0", "false", "off", "no"}
#: characters MLflow does not allow in a metric name
_METRIC_UNSAFE = re.compile(r"[^\w\-. :/]")

TRACKING_HELP = (
    "log this run to the MLflow store at URI (e.g. sqlite:///results/mlflow/mlflow.db). "
    "Default: no tracking, unless LITSHIFT_TRACKING=1 (then sqlite:///results/mlflow/mlflow.db) "
    "or a URI is set in LITSHIFT_TRACKING_URI or MLFLOW_TRACKING_URI; LITSHIFT_TRACKING=0 "
    "switches tracking off. The Snakemake rules pass tracking.uri of config.yaml"
)


def add_tracking_option(parser: argparse.ArgumentParser) -> None:
    """``--tracking-uri`` for a command that logs, its help stating the opt-in default."""
    parser.add_argument("--tracking-uri", metavar="URI", default=None, help=TRACKING_HELP)


@contextmanager
def given_tracking_uri(uri: str | None) -> Iterator[None]:
    """Make ``uri`` (a command's ``--tracking-uri``) the tracking URI for the block.

    Scoped rather than exported to the environment, so one in-process command (a test calling
    ``main``) does not switch tracking on for the next.
    """
    token = _URI_OPTION.set(uri)
    try:
        yield
    finally:
        _URI_OPTION.reset(token)


def _given_uri() -> str | None:
    """The URI the user gave: the option, else ``LITSHIFT_TRACKING_URI``/``MLFLOW_TRACKING_URI``."""
    return (
        _URI_OPTION.get()
        or os.environ.get("LITSHIFT_TRACKING_URI")
        or os.environ.get("MLFLOW_TRACKING_URI")
        or None
    )


def tracking_enabled() -> bool:
    """On when asked for: ``LITSHIFT_TRACKING`` says so, or (unset) a tracking URI was given."""
    switch = os.environ.get("LITSHIFT_TRACKING", "").strip().lower()
    if switch:
        return switch not in _OFF
    return _given_uri() is not None


def tracking_uri() -> str:
    """The MLflow tracking URI in force (the one given, else the embedded SQLite default)."""
    return _given_uri() or DEFAULT_TRACKING_URI


def provenance_tags(params: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Tags naming what produced a run: commit, dirty flag, config hash, litshift version.

    The config hash is the pipeline's (``LITSHIFT_CONFIG_HASH``, the hash the report shows) when
    Snakemake runs the stage, else that of the run's own parameters.
    """
    state = git_state()
    return {
        "git_commit": state[0] if state else "unknown",
        "git_dirty": str(state[1]).lower() if state else "unknown",
        "config_hash": os.environ.get("LITSHIFT_CONFIG_HASH") or config_hash(params or {}),
        "litshift_version": litshift_version(),
    }


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


def _metric_key(name: str) -> str:
    """``name`` with every character MLflow refuses in a metric name as ``_`` (an ensemble's
    evaluation name joins its runs with ``+``)."""
    return _METRIC_UNSAFE.sub("_", name)


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
        batch = [Metric(_metric_key(k), float(v), now, step or 0) for k, v in metrics.items()]
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
def stage_run(
    stage: str, params: Mapping[str, Any] | None = None, run_name: str | None = None
) -> Iterator[StageRun]:
    """Open an MLflow run of ``stage`` (tag ``stage``) for the duration of the block.

    ``run_name`` (default ``stage``) names one job of a per-wildcard stage, e.g.
    ``ingest_literature:nmrbank``, while the ``stage`` tag still groups them all.
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
    tags = {
        "stage": stage,
        "pipeline_run": os.environ.get("LITSHIFT_PIPELINE_RUN", "manual"),
        **provenance_tags(params),
    }
    with _store_lock(uri):  # creating the client may create/migrate the SQLite schema
        client = MlflowClient(tracking_uri=uri)
        run = client.create_run(
            _experiment_id(client, experiment, uri), run_name=run_name or stage, tags=tags
        )
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
