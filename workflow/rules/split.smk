# Leakage-safe split of the assigned molecules; the weak training set and the literature test
# set are derived from it, and every structure that needs conformers is collected.
# split's --config-json carries the split section (fractions, seed, method, heteronuclei).


rule split:
    input:
        assigned=rules.curate_assigned.output.table,
        unassigned=rules.curate_unassigned.output.table,
        literature=rules.gather_literature.output,
    output:
        splits="results/splits/assigned_splits.parquet",
        weak="results/splits/weak_train.parquet",
        literature_test="results/splits/literature_test.parquet",
    params:
        tracking_uri=TRACKING_URI,
        cfg=config_json("split"),
        literature_test=LITERATURE_TEST_SOURCES,
    log:
        f"{LOGS}/split.log",
    benchmark:
        f"{BENCH}/split.tsv"
    threads: 1
    resources:
        mem_mb=config["split"]["mem_mb"],
        runtime=20,
    conda:
        ENV
    shell:
        "litshift split --assigned {input.assigned} --unassigned {input.unassigned}"
        " --literature {input.literature} --literature-test-sources '{params.literature_test}'"
        " --config-json {params.cfg:q} --out-splits {output.splits} --out-weak {output.weak}"
        " --out-literature-test {output.literature_test} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"


rule collect_molecules:
    input:
        assigned=rules.curate_assigned.output.table,
        weak=rules.split.output.weak,
        literature_test=rules.split.output.literature_test,
        unassigned=rules.curate_unassigned.output.table if HETERONUCLEI else [],
        splits=rules.split.output.splits if HETERONUCLEI else [],
    output:
        "results/molecules/molecules.parquet",
    params:
        tracking_uri=TRACKING_URI,
    log:
        f"{LOGS}/collect_molecules.log",
    benchmark:
        f"{BENCH}/collect_molecules.tsv"
    threads: 1
    resources:
        mem_mb=config["split"]["mem_mb"],
        runtime=20,
    conda:
        ENV
    shell:
        "litshift collect-molecules --assigned {input.assigned}"
        " --weak {input.weak} {input.literature_test}"
        + (
            f" --heteronuclei {','.join(HETERONUCLEI)}"
            " --unassigned {input.unassigned} --splits {input.splits}"
            if HETERONUCLEI
            else ""
        )
        + " --out {output} --tracking-uri {params.tracking_uri:q} > {log} 2>&1"
