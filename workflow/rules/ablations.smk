# Ablations (`make ablations`): the train rule trains every run of config["ablations"] once per
# seed into results/ablations/models/{run}_seed{seed}/; this gather summarizes them over seeds.
# The report reads the summary only once it exists (see report.smk), so `make report` alone
# never trains an ablation.
import json


rule summarize_ablations:
    input:
        metrics=expand("results/ablations/models/{run}/metrics.json", run=ABLATION_RUNS),
    output:
        summary="results/ablations/summary.parquet",
    params:
        runs=lambda wildcards, input: [os.path.dirname(path) for path in input.metrics],
        seeds=",".join(map(str, ABLATIONS["seeds"])),
        overrides=json.dumps(ABLATIONS["runs"] or {}),
    log:
        f"{LOGS}/summarize_ablations.log",
    benchmark:
        f"{BENCH}/summarize_ablations.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    shell:
        "litshift summarize-ablations {params.runs} --seeds {params.seeds}"
        " --overrides-json {params.overrides:q} --out {output.summary} --tracking-uri {TRACKING_URI:q} > {log} 2>&1"
