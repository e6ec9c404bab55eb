# Training: one job per run of config["train"]["runs"], each into results/models/{run}/.
# GPU jobs ask for train.resources.gpus GPUs (the SLURM executor turns `gpu` into --gpus and
# `slurm_partition` into -p); with more than one GPU the job runs torchrun, one process per GPU.
import json
import re

from litshift.train.config import run_config, run_names

TRAIN = config["train"]
TRAIN_RUNS = run_names(TRAIN)
#: metrics of every configured run (the report depends on these)
TRAIN_METRICS = expand("results/models/{run}/metrics.json", run=TRAIN_RUNS)


rule train:
    wildcard_constraints:
        run="|".join(map(re.escape, TRAIN_RUNS)),
    input:
        assigned=rules.curate_assigned.output.table,
        splits=rules.split.output.splits,
        weak=rules.split.output.weak,
        conformers="results/conformers/done.json",
    output:
        model="results/models/{run}/model.pt",
        metrics="results/models/{run}/metrics.json",
    params:
        cfg=lambda wildcards: json.dumps(run_config(TRAIN, wildcards.run)),
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        out=lambda wildcards, output: os.path.dirname(output.model),
        budget=config["budget"],
        launcher=(
            f"torchrun --standalone --nproc_per_node {TRAIN['resources']['gpus']} -m litshift.cli"
            if TRAIN["resources"]["gpus"] > 1
            else "litshift"
        ),
    log:
        f"{LOGS}/train/{{run}}.log",
    benchmark:
        f"{BENCH}/train/{{run}}.tsv"
    threads: TRAIN["resources"]["threads"]
    resources:
        mem_mb=TRAIN["resources"]["mem_mb"],
        runtime=TRAIN["resources"]["runtime"],
        gpu=TRAIN["resources"]["gpus"],
        slurm_partition=TRAIN["resources"]["partition"],
    conda:
        ENV
    shell:
        "{params.launcher} train --assigned {input.assigned} --splits {input.splits}"
        " --weak {input.weak} --conformers {params.conformer_dir} --out {params.out}"
        " --config-json {params.cfg:q} --budget {params.budget} --threads {threads} > {log} 2>&1"


rule train_all:
    input:
        TRAIN_METRICS,
