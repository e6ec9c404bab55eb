# Training: one job per headline run of config["train"]["runs"] into results/models/{run}/,
# and (`make ablations` only) one per run and seed of config["ablations"] into
# results/ablations/models/{run}_seed{seed}/: the same rule, the `prefix` wildcard tells them apart.
# A job runs on train.resources.nodes nodes with train.resources.gpus GPUs each (the SLURM
# executor turns these resources into --nodes and --gpus/--gres, `slurm_partition` into -p);
# `litshift launch` starts one process per GPU (torchrun; one torchrun per node via srun).
# A killed or retried job continues from results/models/{run}/checkpoints/last.pt (not an
# output, so Snakemake leaves it in place) when it is the same run (`--resume auto`).
import json
import re

from litshift.train.ablations import ablation_config, ablation_names
from litshift.train.config import run_config, run_names
from litshift.train.launch import train_resources

TRAIN = config["train"]
TRAIN_NODES = TRAIN["resources"]["nodes"]
#: processes per node: one per GPU (one on a CPU node) unless configured
TRAIN_PROCS = TRAIN["resources"]["processes_per_node"] or max(TRAIN["resources"]["gpus"], 1)
TRAIN_RUNS = run_names(TRAIN)
#: metrics of every headline run (the report depends on these)
TRAIN_METRICS = expand("results/models/{run}/metrics.json", run=TRAIN_RUNS)
ABLATIONS = config["ablations"]
ABLATION_RUNS = ablation_names(ABLATIONS)
#: the resolved run config by output prefix and run folder (a typo fails when planning)
RUN_CONFIGS = {
    "": {run: run_config(TRAIN, run) for run in TRAIN_RUNS},
    "ablations/": {run: ablation_config(TRAIN, ABLATIONS, run) for run in ABLATION_RUNS},
}


rule train:
    wildcard_constraints:
        prefix="(ablations/)?",
        run="|".join(map(re.escape, TRAIN_RUNS + ABLATION_RUNS)),
    input:
        assigned=rules.curate_assigned.output.table,
        splits=rules.split.output.splits,
        weak=rules.split.output.weak,
        # held-out sets of split.heteronuclei (validation/test labels of train.atom_label_nuclei)
        unassigned=rules.curate_unassigned.output.table if HETERONUCLEI else [],
        conformers="results/conformers/done.json",
        # a fine-tuning run (init_from) starts from another run's model: train that one first
        init=lambda wildcards: RUN_CONFIGS[wildcards.prefix][wildcards.run].get("init_from") or [],
    output:
        model="results/{prefix}models/{run}/model.pt",
        metrics="results/{prefix}models/{run}/metrics.json",
        calibration="results/{prefix}models/{run}/calibration.json",
    params:
        tracking_uri=TRACKING_URI,
        cfg=lambda wildcards: json.dumps(RUN_CONFIGS[wildcards.prefix][wildcards.run]),
        # MLflow run name: semi, ablations/lambda_4_seed1
        name=lambda wildcards: f"{wildcards.prefix}{wildcards.run}",
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        out=lambda wildcards, output: os.path.dirname(output.model),
        budget=config["budget"],
        nodes=TRAIN_NODES,
        procs=TRAIN_PROCS,
        # the job's CPUs on a node, shared by its processes
        proc_threads=lambda wildcards, threads: max(threads // TRAIN_PROCS, 1),
    log:
        f"{LOGS}/{{prefix}}train/{{run}}.log",
    benchmark:
        f"{BENCH}/{{prefix}}train/{{run}}.tsv"
    threads: TRAIN["resources"]["threads"]
    resources:
        mem_mb=TRAIN["resources"]["mem_mb"],
        runtime=TRAIN["resources"]["runtime"],
        slurm_partition=TRAIN["resources"]["partition"],
        **train_resources(TRAIN_NODES, TRAIN["resources"]["gpus"]),
    conda:
        ENV
    shell:
        "litshift launch --nodes {params.nodes} --procs-per-node {params.procs}"
        " --cpus-per-node {threads} --"
        " train --assigned {input.assigned} --splits {input.splits}"
        " --weak {input.weak} --conformers {params.conformer_dir} --out {params.out}"
        + (" --unassigned {input.unassigned}" if HETERONUCLEI else "")
        + " --run-name {params.name}"
        " --config-json {params.cfg:q} --budget {params.budget} --threads {params.proc_threads}"
        " --resume auto --tracking-uri {params.tracking_uri:q} > {log} 2>&1"


rule train_all:
    input:
        TRAIN_METRICS,
