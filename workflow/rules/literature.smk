# Literature spectra: each configured source's records -> parsed, consistency-checked peak lists
# (one file per source, so sources ingest in parallel), then one gathered table.
import shlex

LITERATURE = config["literature"]


wildcard_constraints:
    source="[A-Za-z0-9_.-]+",


# Filter tolerances are the same for every source.
LITERATURE_FILTER_ARGS = " ".join(
    [
        f"--integration-tolerance {LITERATURE['filters']['integration_tolerance']}",
        f"--carbon-excess-tolerance {LITERATURE['filters']['carbon_excess_tolerance']}",
        f"--carbon-deficit-tolerance {LITERATURE['filters']['carbon_deficit_tolerance']}",
        window_args(LITERATURE["filters"]["shift_window"]),
        *(f"--residual-tolerance {nucleus}={ppm}"
          for nucleus, ppm in LITERATURE["filters"]["residual_tolerance"].items()),
        *(f"--duplicate-tolerance {nucleus}={ppm}"
          for nucleus, ppm in LITERATURE["filters"]["duplicate_tolerance"].items()),
        *(shlex.quote(f"--reference-standard={nucleus}={name}")
          for nucleus, name in LITERATURE["filters"]["reference_standard"].items()),
        "" if LITERATURE["filters"]["reject_residual"] else "--keep-residual",
    ]
)


rule ingest_literature:
    input:
        lambda wildcards: LITERATURE["sources"][wildcards.source]["path"],
    output:
        table="results/curated/literature/{source}.parquet",
        rejected="results/curated/rejected/literature_{source}.parquet",
    params:
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
        nuclei=",".join(LITERATURE["nuclei"]),
        chunk_size=LITERATURE["chunk_size"],
        filters=LITERATURE_FILTER_ARGS,
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
        " {params.source} --nuclei {params.nuclei} --workers {threads}"
        " --chunk-size {params.chunk_size} {params.filters} --tracking-uri {TRACKING_URI:q} > {log} 2>&1"


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
