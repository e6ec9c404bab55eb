# 3D conformers of every collected molecule: one job per shard (a molecule belongs to shard
# int(key, 16) % n_shards), then the manifest that training and prediction depend on. Results
# are kept in conformers.cache, outside the rule outputs, so a rerun (grown input, new shard
# count) embeds only the molecules it has not seen with the same options.
CONFORMERS = config["conformers"]
CONFORMER_SHARDS = expand(
    "results/conformers/shard-{shard}.parquet",
    shard=[f"{i:04d}" for i in range(CONFORMERS["n_shards"])],
)


rule conformers_shard:
    wildcard_constraints:
        shard=r"\d{4}",
    input:
        "results/molecules/molecules.parquet",
    output:
        "results/conformers/shard-{shard}.parquet",
    params:
        n_shards=CONFORMERS["n_shards"],
        cache=CONFORMERS["cache"],
        chunk_size=CONFORMERS["chunk_size"],
        n_confs=CONFORMERS["n_confs"],
        keep=CONFORMERS["keep"],
        seed=CONFORMERS["seed"],
        max_attempts=CONFORMERS["max_attempts"],
        timeout_s=CONFORMERS["timeout_s"],
        max_atoms=CONFORMERS["max_atoms"],
        force_fields=" ".join(CONFORMERS["force_fields"]),
        ff_max_iters=CONFORMERS["ff_max_iters"],
    log:
        f"{LOGS}/conformers/shard-{{shard}}.log",
    benchmark:
        f"{BENCH}/conformers/shard-{{shard}}.tsv"
    threads: CONFORMERS["workers"]
    resources:
        mem_mb=CONFORMERS["mem_mb"],
        runtime=CONFORMERS["runtime"],
    conda:
        ENV
    shell:
        "litshift conformers --tracking-uri {TRACKING_URI:q} shard {input} --shard {wildcards.shard}"
        " --n-shards {params.n_shards} --out {output} --cache {params.cache} --workers {threads}"
        " --chunk-size {params.chunk_size} --n-confs {params.n_confs} --keep {params.keep}"
        " --seed {params.seed} --max-attempts {params.max_attempts}"
        " --timeout-s {params.timeout_s} --max-atoms {params.max_atoms}"
        " --force-fields {params.force_fields} --ff-max-iters {params.ff_max_iters}"
        " > {log} 2>&1"


rule conformers:
    input:
        CONFORMER_SHARDS,
    output:
        "results/conformers/done.json",
    log:
        f"{LOGS}/conformers/gather.log",
    benchmark:
        f"{BENCH}/conformers/gather.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    shell:
        "litshift conformers gather {input} --out {output} > {log} 2>&1"
