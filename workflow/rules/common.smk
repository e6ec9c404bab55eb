# Config validation, tracking environment and the few input functions rules share.
import json
import os
import sys
import time
import uuid
from pathlib import Path

from snakemake.utils import validate

from litshift.provenance import config_hash


validate(config, schema="../schemas/config.schema.yaml")

# Rules call the `litshift` CLI of the interpreter running Snakemake (the project's .venv).
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
# litshift commands track only when given a store: every rule that logs passes this one
# (params tracking_uri -> `--tracking-uri`); the environment may override config.yaml's.
TRACKING_URI = (
    os.environ.get("LITSHIFT_TRACKING_URI")
    or os.environ.get("MLFLOW_TRACKING_URI")
    or config["tracking"]["uri"]
)
# The rest reaches every job (local or sbatch'ed) through the environment; the config hash
# tags every MLflow run with the hash the report shows.
os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", config["tracking"]["experiment"])
os.environ["LITSHIFT_CONFIG_HASH"] = config_hash(config)
# One tag groups the MLflow runs of one snakemake invocation.
os.environ.setdefault(
    "LITSHIFT_PIPELINE_RUN", time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
)


# Declared, so Snakemake hands them to every job, also ones it submits to a cluster.
envvars:
    "PATH",
    "LITSHIFT_CONFIG_HASH",

# Gathers and the catalog take seconds: on a cluster they run where Snakemake runs, not as jobs.
localrules:
    gather_literature,
    gather_rejected,
    collect_molecules,
    conformers,
    catalog,
    summarize_ablations,


LOGS = "results/logs"
BENCH = "results/benchmarks"
ENV = "../../envs/litshift.yaml"
#: literature sources held out as the literature test set
LITERATURE_TEST_SOURCES = ",".join(
    name for name, source in config["literature"]["sources"].items() if source["role"] == "test"
)
#: nuclei whose molecules the split holds out on their own (config.hetero.yaml: 31P, 19F);
#: their held-out sets live only in the curated unassigned table, so collect_molecules and
#: train get it (input and arguments) only then: the default config's jobs stay as they are
HETERONUCLEI = config["split"]["heteronuclei"]
#: the HOSE baseline on the heteronuclei (rule hose_baseline), built when split.heteronuclei
#: names any: the catalog and the report depend on it then
HOSE_BASELINE = ["results/eval/hose_baseline/summary.json"] if config["split"]["heteronuclei"] else []


#: settings that size a section's jobs (the rule's threads and resources) or name its inputs:
#: the rules use them, the commands never see them, so a change reruns no job (rerun-triggers:
#: params compares the --config-json too)
JOB_SETTINGS = {"threads", "workers", "mem_mb", "runtime", "sources"}


def config_json(section, *keys, **shared):
    """A rule's `--config-json`: the settings of config section `section` (those named in
    `keys`, else all but its JOB_SETTINGS) and `shared` ones of other sections."""
    settings = config[section]
    picked = (
        {key: settings[key] for key in keys}
        if keys
        else {key: value for key, value in settings.items() if key not in JOB_SETTINGS}
    )
    return json.dumps(picked | shared)


def if_exists(path):
    """An optional input: ``[path]`` when it is on disk, else nothing (never a reason to build it)."""
    return [path] if os.path.exists(path) else []
