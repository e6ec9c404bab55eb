"""The SLURM profile against a real one-node SLURM: jobs go through sbatch, squeue and sacct
report them, and the tables equal those of a local run of the same DAG."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import REPO
from tests.workflow.slurm_cluster import Cluster, one_node_cluster, unavailable_reason
from tests.workflow.tiny_pipeline import TARGET, snakemake, write_workdir

PROFILE = REPO / "workflow" / "profiles" / "slurm"
#: the default partition and the one LITSHIFT_SLURM_PARTITION names
PARTITIONS = ("debug", "batch")
#: rules of the tiny DAG that must run as SLURM jobs, and the ones kept local
CLUSTER_RULES = {
    "curate_assigned",
    "curate_unassigned",
    "ingest_literature",
    "split",
    "conformers_shard",
    "train",
    "evaluate",
    "report",
}
LOCAL_RULES = {"gather_literature", "gather_rejected", "collect_molecules", "conformers", "catalog"}
#: what the test cluster lacks, passed on top of the profile: no slurmdbd, so the plugin polls
#: squeue (MinJobAge keeps finished jobs listed); a 1 s first poll instead of 40 s.
TEST_CLUSTER_ARGS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "1",
)
#: not a speed limit: a job SLURM never runs would keep Snakemake (and CI) waiting for ever
HANG_GUARD_S = 900

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"no SLURM test cluster: {REASON}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with one_node_cluster(tmp_path_factory.mktemp("slurm"), PARTITIONS) as running:
        yield running


@pytest.fixture
def tracked_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow on, and no site or tracking settings leaking in from the calling shell."""
    monkeypatch.setenv("LITSHIFT_TRACKING", "1")
    for name in (
        "MLFLOW_TRACKING_URI",
        "LITSHIFT_PIPELINE_RUN",
        "LITSHIFT_SLURM_ACCOUNT",
        "LITSHIFT_SLURM_GPU_PARTITION",
    ):
        monkeypatch.delenv(name, raising=False)


def _tables(workdir: Path) -> dict[str, pl.DataFrame]:
    """Every Parquet output; the conformer cache is not an output (its chunk names are random)."""
    results = workdir / "results"
    return {
        str(path.relative_to(results)): pl.read_parquet(path)
        for path in sorted(results.rglob("*.parquet"))
        if path.relative_to(results).parts[0] != "cache"
    }


def _stages(workdir: Path, experiment: str) -> tuple[set[str], set[str]]:
    """Stages with an MLflow run, and the distinct pipeline_run tags of those runs."""
    client = MlflowClient(tracking_uri=f"sqlite:///{workdir}/results/mlflow/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    assert all(run.info.status == "FINISHED" for run in runs)
    return (
        {run.data.tags["stage"] for run in runs},
        {run.data.tags["pipeline_run"] for run in runs},
    )


def test_pipeline_through_slurm_equals_local_run(
    cluster: Cluster, tracked_env: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    local, remote = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("on-slurm")
    write_workdir(local, "local")
    write_workdir(remote, "slurm")
    reference = snakemake(local, "--cores", "2", TARGET)
    assert reference.returncode == 0, reference.stderr[-3000:]

    run = snakemake(
        remote,
        "--profile",
        str(PROFILE),
        *TEST_CLUSTER_ARGS,
        TARGET,
        env={**cluster.env, "LITSHIFT_SLURM_PARTITION": "batch"},
        timeout=HANG_GUARD_S,
    )
    assert run.returncode == 0, run.stderr[-5000:]
    run_id = re.search(r"SLURM run ID: (\S+)", run.stderr).group(1)

    # squeue: jobs of the cluster rules, none of the local rules, all on the named partition.
    jobs = cluster.queue(run_id)
    rules = {job["comment"].removeprefix("rule_").split("_wildcards_")[0] for job in jobs}
    assert CLUSTER_RULES <= rules
    assert not LOCAL_RULES & rules
    assert {(job["state"], job["partition"]) for job in jobs} == {("COMPLETED", "batch")}
    # sacct (job-completion log): the same jobs, completed.
    completed = {
        job["job_id"]: job["state"] for job in cluster.completed() if job["name"] == run_id
    }
    assert completed == {job["job_id"]: "COMPLETED" for job in jobs}
    # SLURM's own job logs sit with the rule logs.
    for rule in CLUSTER_RULES:
        assert list((remote / "results" / "logs" / "slurm" / f"rule_{rule}").rglob("*.log"))

    expected, actual = _tables(local), _tables(remote)
    assert actual.keys() == expected.keys()
    for name, table in expected.items():
        if name.startswith("conformers/shard-"):
            # Per-molecule time limits depend on machine load, so compare the molecules both
            # runs embedded: same keys, and identical coordinates wherever both succeeded.
            both = table.join(actual[name], on="key", suffix="_slurm")
            assert both.height == table.height == actual[name].height, name
            ok = both.filter((pl.col("status") == "ok") & (pl.col("status_slurm") == "ok"))
            assert ok.height > 0.9 * both.height, name
            assert ok["coords"].equals(ok["coords_slurm"], check_names=False), name
        else:
            assert actual[name].equals(table), name

    # Tracking settings reach the sbatch'ed jobs: the same stages as locally logged a run, all
    # under one pipeline_run tag.
    stages, pipeline_runs = _stages(remote, "slurm")
    # MLflow names a stage after what it does: shards log as "conformers", runs as "train:<run>"
    stage_of_rule = {"conformers_shard": "conformers"}
    assert {stage_of_rule.get(rule, rule) for rule in CLUSTER_RULES} <= {
        stage.split(":")[0] for stage in stages
    }
    assert stages == _stages(local, "local")[0]
    assert len(pipeline_runs) == 1

    # Two training processes in one sbatch job (`litshift launch` -> torchrun): the changed
    # resources rerun `semi`, which trains afresh instead of resuming its finished checkpoint.
    ddp = remote / "ddp.yaml"
    ddp.write_text(yaml.safe_dump({"train": {"resources": {"processes_per_node": 2}}}))
    semi = "results/models/semi/metrics.json"
    rerun = snakemake(
        remote,
        "--profile",
        str(PROFILE),
        *TEST_CLUSTER_ARGS,
        semi,
        "--configfile",
        str(ddp),
        env=cluster.env,
        timeout=HANG_GUARD_S,
    )
    assert rerun.returncode == 0, rerun.stderr[-5000:]
    assert json.loads((remote / semi).read_text())["world_size"] == 2
    log = (remote / "results" / "logs" / "train" / "semi.log").read_text()
    assert "torch.distributed.run --nproc_per_node=2 --standalone" in log
    assert "training from scratch" in log and "belongs to a finished run" in log
