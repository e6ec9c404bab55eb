# NMRShiftDB2 curation: assigned spectra from the SD file, molecule-level sets from JSON lines.
# --config-json carries the curation section: the nuclei and shift windows both keep, and for
# the JSON lines also the record cap and the nuclei read past it.


rule curate_assigned:
    input:
        sdf=config["inputs"]["nmrshiftdb2_sdf"],
    output:
        table="results/curated/assigned.parquet",
        rejected="results/curated/rejected/assigned.parquet",
    params:
        tracking_uri=TRACKING_URI,
        # only these two: the JSON-lines settings do not rerun this job
        cfg=config_json("curation", "nuclei", "shift_window"),
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
        " --config-json {params.cfg:q} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"


rule curate_unassigned:
    input:
        jsonl=config["inputs"]["nmrshiftdb2_jsonl"],
    output:
        table="results/curated/unassigned.parquet",
        rejected="results/curated/rejected/unassigned.parquet",
    params:
        tracking_uri=TRACKING_URI,
        cfg=config_json("curation"),
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
        " --config-json {params.cfg:q} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"
