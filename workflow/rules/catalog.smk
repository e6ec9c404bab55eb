# The DuckDB catalog: one view per Parquet output (query with `litshift sql "..."`).


rule catalog:
    input:
        rules.curate_assigned.output,
        rules.curate_unassigned.output,
        rules.split.output,
        rules.collect_molecules.output,
    output:
        "results/catalog.duckdb",
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
        "litshift catalog --db {output} --results results {input} > {log} 2>&1"
