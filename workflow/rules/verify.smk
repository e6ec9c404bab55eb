# Decoy benchmark of `litshift verify`: test spectra (assigned test split, held-out literature
# records) ranked against same-formula decoys by the headline runs, HOSE and CSP5 (when
# installed). Feeds the DuckDB view verify_benchmark and the report's verification section.
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
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        nuclei=",".join(EVALUATE["nuclei"]),
        policy=config["train"]["match_policy"],
        max_cases="" if VERIFY["max_cases"] is None else f"--max-cases {VERIFY['max_cases']}",
        n_decoys=VERIFY["n_decoys"],
        n_positional=VERIFY["n_positional"],
        min_decoys=VERIFY["min_decoys"],
        likelihood=VERIFY["likelihood"],
        dof=VERIFY["dof"],
        missing=VERIFY["missing_probability"],
        seed=VERIFY["seed"],
        calibration=VERIFY["calibration_molecules"],
        hose_radius=EVALUATE["hose_max_radius"],
        hose_min_count=EVALUATE["hose_min_count"],
        csp5="" if EVALUATE["csp5"] else "--skip-csp5",
        batch_size=EVALUATE["batch_size"],
        device=EVALUATE["device"],
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
        " --out {output.table} --out-summary {output.summary} --nuclei {params.nuclei}"
        " --match-policy {params.policy} {params.max_cases} --n-decoys {params.n_decoys}"
        " --n-positional {params.n_positional} --min-decoys {params.min_decoys}"
        " --likelihood {params.likelihood} --dof {params.dof}"
        " --missing-probability {params.missing} --seed {params.seed}"
        " --calibration-molecules {params.calibration} --hose-max-radius {params.hose_radius}"
        " --hose-min-count {params.hose_min_count} {params.csp5} --batch-size {params.batch_size}"
        " --device {params.device} --threads {threads} --budget {params.budget}"
        " --tracking-uri {TRACKING_URI:q} > {log} 2>&1"
