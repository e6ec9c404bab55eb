# The self-contained HTML report (also logged to MLflow as an artifact). It reads the eval
# outputs, the training run directories, the curated tables through the catalog layout and
# every benchmark file; the resolved config travels as JSON so its hash is the one that ran,
# and with it report.roles: which runs the page compares (the headline pair, the λ sweep and
# its reference, the solvent and collapse ablations).
import json


rule report:
    input:
        rules.evaluate.output,
        rules.verify_benchmark.output,
        TRAIN_METRICS,
        rules.gather_rejected.output,
        rules.catalog.output,
        HOSE_BASELINE,
        # the ablation summary once `make ablations` has built it (never trains ablations)
        ablations=lambda wildcards: if_exists(rules.summarize_ablations.output.summary),
    output:
        "results/report.html",
    params:
        tracking_uri=TRACKING_URI,
        cfg=json.dumps(config),
        worst=config["report"]["worst_molecules"],
        repo=workflow.basedir,
    log:
        f"{LOGS}/report.log",
    benchmark:
        f"{BENCH}/report.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    shell:
        "litshift report --results results --config-json {params.cfg:q} --out {output}"
        " --worst-molecules {params.worst} --repo {params.repo} {input} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"
