# Evaluation: every trained run, the HOSE baseline (fitted here on the assigned training split)
# and CSP5 when installed, scored on the assigned test split and the held-out literature
# molecules. Outputs feed the DuckDB views eval_predictions / eval_metrics and the report.
# --config-json carries the evaluate section (the predictors' and the scoring's settings) and
# train.match_policy.
from pathlib import Path

from litshift.inference.shipped import release_members
from litshift.report.roles import Roles

EVALUATE = config["evaluate"]
#: the training's count-mismatch policy: every scoring command matches molecule-level shift
#: sets as training did
MATCH_POLICY = config["train"]["match_policy"]
#: the release package shipped with litshift (make release): its ensemble members, scored as one
#: predictor beside the pipeline's runs when present
RELEASE_PACKAGE = os.path.join(workflow.basedir, "src/litshift/release")
SHIPPED_MEMBERS = [str(path) for path in release_members(Path(RELEASE_PACKAGE))]
#: the headline pair (report.roles) as one deep ensemble, when both are trained runs
_ROLES = Roles.from_config(config)
HEADLINE_ROLES = [_ROLES.supervised, _ROLES.semi]
HEADLINE_PAIR = (
    [",".join(f"results/models/{run}/model.pt" for run in HEADLINE_ROLES)]
    if set(HEADLINE_ROLES) <= set(TRAIN_RUNS)
    else []
)
#: the runs config.release.yaml ships as the release ensemble (release.members)
RELEASE_RUNS = config["release"]["members"]


rule evaluate:
    input:
        metrics=TRAIN_METRICS,
        models=expand("results/models/{run}/model.pt", run=TRAIN_RUNS) + SHIPPED_MEMBERS,
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
        # one predictor per run, the headline pair averaged (what predict uses in this
        # checkout), and the release package (its members as one ensemble)
        models=expand("results/models/{run}/model.pt", run=TRAIN_RUNS)
        + HEADLINE_PAIR
        + ([RELEASE_PACKAGE] if SHIPPED_MEMBERS else []),
        tracking_uri=TRACKING_URI,
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        cfg=config_json("evaluate", match_policy=MATCH_POLICY),
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
        " --conformers {params.conformer_dir} --models {params.models}"
        " --out-predictions {output.predictions} --out-metrics {output.metrics}"
        " --out-uncertainty {output.uncertainty} --out-summary {output.summary}"
        " --threads {threads} --budget {params.budget} --config-json {params.cfg:q}"
        " --tracking-uri {params.tracking_uri:q} > {log} 2>&1"


# The release runs (config.release.yaml) scored as one deep ensemble, the predictor `make release`
# ships, by the same evaluate command: its model card's test figures.
use rule evaluate as evaluate_release with:
    input:
        models=expand("results/models/{run}/model.pt", run=RELEASE_RUNS),
        assigned=rules.curate_assigned.output.table,
        splits=rules.split.output.splits,
        weak=rules.split.output.weak,
        literature_test=rules.split.output.literature_test,
        conformers="results/conformers/done.json",
    output:
        predictions="results/release/predictions.parquet",
        metrics="results/release/metrics.parquet",
        uncertainty="results/release/uncertainty.parquet",
        summary="results/release/summary.json",
    params:
        models=lambda wildcards, input: ",".join(input.models),
        tracking_uri=TRACKING_URI,
        conformer_dir=lambda wildcards, input: os.path.dirname(input.conformers),
        cfg=config_json("evaluate", match_policy=MATCH_POLICY),
        budget=config["budget"],
    log:
        f"{LOGS}/evaluate_release.log",
    benchmark:
        f"{BENCH}/evaluate_release.tsv"


#: headline runs with a head for a heteronucleus (config.hetero.yaml: hetero)
HETERO_MODELS = [
    f"results/models/{run}/model.pt"
    for run, run_config in RUN_CONFIGS[""].items()
    if set(run_config.get("model", {}).get("nuclei", [])) & set(HETERONUCLEI)
]


# HOSE per heteronucleus (split.heteronuclei: 31P, 19F), fitted on the assigned and unambiguous
# weak training sets of that nucleus and scored on the held-out weak and literature sets, and
# the trained runs with a head for it on the same sets (config.hetero.yaml); without such runs
# it needs no conformers or trained model. Its --config-json carries split.heteronuclei, the
# HOSE and scoring settings of evaluate (and its device settings when it scores runs) and
# train.match_policy.
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
        tracking_uri=TRACKING_URI,
        literature_test=LITERATURE_TEST_SOURCES,
        cfg=config_json(
            "evaluate",
            "hose_max_radius",
            "hose_min_count",
            "n_bootstrap",
            "seed",
            "fingerprint_radius",
            "fingerprint_bits",
            "similarity_bins",
            *(["batch_size", "device"] if HETERO_MODELS else []),
            heteronuclei=HETERONUCLEI,
            match_policy=MATCH_POLICY,
        ),
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
        " --literature-test {input.literature_test}"
        + (" --models {input.models} --conformers results/conformers" if HETERO_MODELS else "")
        + " --out-predictions {output.predictions} --out-metrics {output.metrics}"
        " --out-summary {output.summary} --budget {params.budget} --config-json {params.cfg:q}"
        " --tracking-uri {params.tracking_uri:q} > {log} 2>&1"
