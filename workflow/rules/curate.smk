# NMRShiftDB2 curation: assigned spectra from the SD file, molecule-level sets from JSON lines.


rule curate_assigned:
    input:
        sdf=config["inputs"]["nmrshiftdb2_sdf"],
    output:
        table="results/curated/assigned.parquet",
        rejected="results/curated/rejected/assigned.parquet",
    params:
        nuclei=",".join(config["curation"]["nuclei"]),
        windows=window_args(config["curation"]["shift_window"]),
    log:
        f"{LOGS}/curate_assigned.log",
    benchmark:
        f"{BENCH}/curate_assigned.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    shell:
        "litshift curate-assigned {input.sdf} --out {output.table} --rejected {output.rejected}"
        " --nuclei {params.nuclei} {params.windows} --tracking-uri {TRACKING_URI:q} > {log} 2>&1"


rule curate_unassigned:
    input:
        jsonl=config["inputs"]["nmrshiftdb2_jsonl"],
    output:
        table="results/curated/unassigned.parquet",
        rejected="results/curated/rejected/unassigned.parquet",
    params:
        nuclei=",".join(config["curation"]["nuclei"]),
        windows=window_args(config["curation"]["shift_window"]),
        max_records=(
            f"--max-records {config['curation']['unassigned_max_records']}"
            if config["curation"]["unassigned_max_records"]
            else ""
        ),
        uncapped=",".join(config["curation"]["unassigned_uncapped_nuclei"]),
    log:
        f"{LOGS}/curate_unassigned.log",
    benchmark:
        f"{BENCH}/curate_unassigned.tsv"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        ENV
    shell:
        "litshift curate-unassigned {input.jsonl} --out {output.table} --rejected {output.rejected}"
        " --nuclei {params.nuclei} {params.windows} {params.max_records}"
        " --uncapped-nuclei '{params.uncapped}' --tracking-uri {TRACKING_URI:q} > {log} 2>&1"
