# Gathers across stages, and the DuckDB catalog: one view per Parquet output
# (query with `litshift sql "..."`).


rule gather_rejected:
    input:
        rules.curate_assigned.output.rejected,
        rules.curate_unassigned.output.rejected,
        expand(rules.ingest_literature.output.rejected, source=config["literature"]["sources"]),
    output:
        "results/curated/rejected.parquet",
    log:
        f"{LOGS}/gather_rejected.log",
    benchmark:
        f"{BENCH}/gather_rejected.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "litshift concat --schema rejected --out {output} {input} > {log} 2>&1"


rule catalog:
    input:
        rules.curate_assigned.output,
        rules.curate_unassigned.output,
        rules.gather_literature.output,
        rules.split.output,
        rules.collect_molecules.output,
        rules.conformers.output,
        rules.gather_rejected.output,
        "results/eval/predictions.parquet",
        "results/eval/metrics.parquet",
        "results/eval/uncertainty.parquet",
        "results/verify/benchmark.parquet",
        HOSE_BASELINE,
    output:
        "results/catalog.duckdb",
    params:
        tracking_uri=TRACKING_URI,
    log:
        f"{LOGS}/catalog.log",
    benchmark:
        f"{BENCH}/catalog.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "litshift catalog --db {output} --results results {input} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"
