# Evaluation: every trained run, the HOSE baseline (fitted here on the assigned training split)
# and CSP5 when installed, scored on the assigned test split and the held-out literature
# molecules. Outputs feed the DuckDB views eval_predictions / eval_metrics and the report.
EVALUATE = config["evaluate"]
#: the model shipped in the package (make release), scored beside the pipeline's runs when present
SHIPPED_MODEL = [
    path
    for path in [os.path.join(workflow.basedir, "src/litshift/release/model.pt")]
    if os.path.exists(path)
]


rule evaluate:
    input:
        metrics=TRAIN_METRICS,
        models=expand("results/models/{run}/model.pt", run=TRAIN_RUNS) + SHIPPED_MODEL,
        assigned=rules.curate_assigned.output.table,
        splits=rules.split.output.splits,
        weak=rules.split.output.weak,
        literature_test=rules.split.output.literature_test,
        conformers="results/conformers/done.json",
    output:
        predictions="results/eval/predictions.parquet",
        metrics="results/eval/metrics.parquet",
        uncertainty="results/eval/uncertainty.parquet",
        summary="results/eval/summary.json",
    params:
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        nuclei=",".join(EVALUATE["nuclei"]),
        policy=config["train"]["match_policy"],
        bins=",".join(str(b) for b in EVALUATE["similarity_bins"]),
        csp5="" if EVALUATE["csp5"] else "--skip-csp5",
        hose_radius=EVALUATE["hose_max_radius"],
        hose_min_count=EVALUATE["hose_min_count"],
        n_bootstrap=EVALUATE["n_bootstrap"],
        calibration_molecules=EVALUATE["calibration_molecules"],
        seed=EVALUATE["seed"],
        fp_radius=EVALUATE["fingerprint_radius"],
        fp_bits=EVALUATE["fingerprint_bits"],
        batch_size=EVALUATE["batch_size"],
        device=EVALUATE["device"],
        budget=config["budget"],
    log:
        f"{LOGS}/evaluate.log",
    benchmark:
        f"{BENCH}/evaluate.tsv"
    threads: EVALUATE["threads"]
    resources:
        mem_mb=EVALUATE["mem_mb"],
        runtime=EVALUATE["runtime"],
    conda:
        ENV
    shell:
        "litshift evaluate --assigned {input.assigned} --splits {input.splits}"
        " --literature-test {input.literature_test} --weak {input.weak}"
        " --conformers {params.conformer_dir} --models {input.models}"
        " --out-predictions {output.predictions} --out-metrics {output.metrics}"
        " --out-uncertainty {output.uncertainty} --out-summary {output.summary}"
        " --calibration-molecules {params.calibration_molecules}"
        " --nuclei {params.nuclei} --match-policy {params.policy}"
        " --hose-max-radius {params.hose_radius} --hose-min-count {params.hose_min_count}"
        " --n-bootstrap {params.n_bootstrap} --seed {params.seed}"
        " --fingerprint-radius {params.fp_radius} --fingerprint-bits {params.fp_bits}"
        " --similarity-bins {params.bins} {params.csp5} --batch-size {params.batch_size}"
        " --device {params.device} --threads {threads} --budget {params.budget}"
        " --tracking-uri {TRACKING_URI:q} > {log} 2>&1"


#: headline runs with a head for a heteronucleus (config.hetero.yaml: hetero)
HETERO_MODELS = [
    f"results/models/{run}/model.pt"
    for run, run_config in RUN_CONFIGS[""].items()
    if set(run_config.get("model", {}).get("nuclei", [])) & set(HETERONUCLEI)
]


# HOSE per heteronucleus (split.heteronuclei: 31P, 19F), fitted on the assigned and unambiguous
# weak training sets of that nucleus and scored on the held-out weak and literature sets, and
# the trained runs with a head for it on the same sets (config.hetero.yaml); without such runs
# it needs no conformers or trained model.
rule hose_baseline:
    input:
        assigned=rules.curate_assigned.output.table,
        splits=rules.split.output.splits,
        weak=rules.split.output.weak,
        unassigned=rules.curate_unassigned.output.table,
        literature=rules.gather_literature.output,
        literature_test=rules.split.output.literature_test,
        models=HETERO_MODELS,
        conformers="results/conformers/done.json" if HETERO_MODELS else [],
    output:
        predictions="results/eval/hose_baseline/predictions.parquet",
        metrics="results/eval/hose_baseline/metrics.parquet",
        summary="results/eval/hose_baseline/summary.json",
    params:
        nuclei=",".join(config["split"]["heteronuclei"]),
        literature_test=LITERATURE_TEST_SOURCES,
        policy=config["train"]["match_policy"],
        bins=",".join(str(b) for b in EVALUATE["similarity_bins"]),
        hose_radius=EVALUATE["hose_max_radius"],
        hose_min_count=EVALUATE["hose_min_count"],
        n_bootstrap=EVALUATE["n_bootstrap"],
        seed=EVALUATE["seed"],
        fp_radius=EVALUATE["fingerprint_radius"],
        fp_bits=EVALUATE["fingerprint_bits"],
        budget=config["budget"],
    log:
        f"{LOGS}/hose_baseline.log",
    benchmark:
        f"{BENCH}/hose_baseline.tsv"
    threads: 1
    resources:
        mem_mb=EVALUATE["mem_mb"],
        runtime=20,
    conda:
        ENV
    shell:
        "litshift hose-baseline --assigned {input.assigned} --splits {input.splits}"
        " --weak {input.weak} --unassigned {input.unassigned} --literature {input.literature}"
        " --literature-test-sources '{params.literature_test}'"
        " --literature-test {input.literature_test} --nuclei {params.nuclei}"
        " --match-policy {params.policy} --hose-max-radius {params.hose_radius}"
        " --hose-min-count {params.hose_min_count} --similarity-bins {params.bins}"
        " --fingerprint-radius {params.fp_radius} --fingerprint-bits {params.fp_bits}"
        " --n-bootstrap {params.n_bootstrap} --seed {params.seed} --budget {params.budget}"
        + (
            " --models {input.models} --conformers results/conformers"
            f" --device {EVALUATE['device']} --batch-size {EVALUATE['batch_size']}"
            if HETERO_MODELS
            else ""
        )
        + " --out-predictions {output.predictions} --out-metrics {output.metrics}"
        " --out-summary {output.summary} --tracking-uri {TRACKING_URI:q} > {log} 2>&1"
