# Decoy benchmark of `litshift verify`: test spectra (assigned test split, held-out literature
# records) ranked against same-formula decoys by the headline runs, HOSE and CSP5 (when
# installed). Feeds the DuckDB view verify_benchmark and the report's verification section.
# --config-json carries the verify section, the predictor settings of evaluate (nuclei, HOSE,
# CSP5, device) and train.match_policy.
VERIFY = config["verify"]
VERIFY_RUNS = [run for run in VERIFY["runs"] if run in TRAIN_RUNS]


rule verify_benchmark:
    input:
        models=expand("results/models/{run}/model.pt", run=VERIFY_RUNS),
        calibrations=expand("results/models/{run}/calibration.json", run=VERIFY_RUNS),
        assigned=rules.curate_assigned.output.table,
        splits=rules.split.output.splits,
        literature_test=rules.split.output.literature_test,
        molecules=rules.collect_molecules.output,
        unassigned=rules.curate_unassigned.output.table,
        literature=rules.gather_literature.output,
        conformers="results/conformers/done.json",
    output:
        table="results/verify/benchmark.parquet",
        summary="results/verify/summary.json",
    params:
        tracking_uri=TRACKING_URI,
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        cfg=config_json(
            "verify",
            **{
                key: EVALUATE[key]
                for key in ("nuclei", "hose_max_radius", "hose_min_count", "csp5", "batch_size", "device")
            },
            match_policy=MATCH_POLICY,
        ),
        budget=config["budget"],
    log:
        f"{LOGS}/verify_benchmark.log",
    benchmark:
        f"{BENCH}/verify_benchmark.tsv"
    threads: VERIFY["threads"]
    resources:
        mem_mb=VERIFY["mem_mb"],
        runtime=VERIFY["runtime"],
    conda:
        ENV
    shell:
        "litshift verify-benchmark --assigned {input.assigned} --splits {input.splits}"
        " --literature-test {input.literature_test} --conformers {params.conformer_dir}"
        " --pool {input.molecules} {input.unassigned} {input.literature} --models {input.models}"
        " --out {output.table} --out-summary {output.summary} --threads {threads}"
        " --budget {params.budget} --config-json {params.cfg:q} --tracking-uri {params.tracking_uri:q}"
        " > {log} 2>&1"
