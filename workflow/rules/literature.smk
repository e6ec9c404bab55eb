# Literature spectra: each configured source's records -> parsed, consistency-checked peak lists
# (one file per source, so sources ingest in parallel), then one gathered table. --config-json
# carries the literature section but its sources (the nuclei kept, the chunk size, the filter
# tolerances: the same for every source); how to read a source are flags of its own.
import shlex

LITERATURE = config["literature"]


wildcard_constraints:
    source="[A-Za-z0-9_.-]+",


rule ingest_literature:
    input:
        lambda wildcards: LITERATURE["sources"][wildcards.source]["path"],
    output:
        table="results/curated/literature/{source}.parquet",
        rejected="results/curated/rejected/literature_{source}.parquet",
    params:
        tracking_uri=TRACKING_URI,
        # how to read this source (CSV column names may contain spaces, hence the quoting)
        source=lambda wildcards: shlex.join(
            [
                "--source", wildcards.source,
                "--role", LITERATURE["sources"][wildcards.source]["role"],
                "--text-column", LITERATURE["sources"][wildcards.source]["text_column"],
                "--smiles-column", LITERATURE["sources"][wildcards.source]["smiles_column"] or "",
                "--format", LITERATURE["sources"][wildcards.source]["format"] or "auto",
            ]
        ),
        cfg=config_json("literature"),
    log:
        f"{LOGS}/ingest_literature/{{source}}.log",
    benchmark:
        f"{BENCH}/ingest_literature/{{source}}.tsv"
    threads: LITERATURE["workers"]
    resources:
        mem_mb=lambda wildcards, threads: 1500 + 1000 * threads,
        runtime=60,
    conda:
        ENV
    shell:
        "litshift ingest-literature {input} {output.table} --rejected {output.rejected}"
        " {params.source} --workers {threads} --config-json {params.cfg:q}"
        " --tracking-uri {params.tracking_uri:q} > {log} 2>&1"


rule gather_literature:
    input:
        expand(rules.ingest_literature.output.table, source=LITERATURE["sources"]),
    output:
        "results/curated/literature.parquet",
    log:
        f"{LOGS}/gather_literature.log",
    benchmark:
        f"{BENCH}/gather_literature.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        ENV
    shell:
        "litshift concat --schema literature --out {output} {input} > {log} 2>&1"
