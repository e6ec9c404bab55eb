# Ablations (`make ablations`): the train rule trains every run of config["ablations"] once per
# seed into results/ablations/models/{run}_seed{seed}/; this gather summarizes them over seeds.
# The report reads the summary only once it exists (see report.smk), so `make report` alone
# never trains an ablation. --config-json carries the ablations section: the seeds every run
# must have and the runs' declared overrides.


rule summarize_ablations:
    input:
        metrics=expand("results/ablations/models/{run}/metrics.json", run=ABLATION_RUNS),
    output:
        summary="results/ablations/summary.parquet",
    params:
        tracking_uri=TRACKING_URI,
        runs=lambda wildcards, input: [os.path.dirname(path) for path in input.metrics],
        cfg=config_json("ablations"),
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
        "litshift summarize-ablations {params.runs} --out {output.summary}"
        " --config-json {params.cfg:q} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"
