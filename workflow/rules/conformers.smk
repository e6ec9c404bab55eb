# 3D conformers of every collected molecule: one job per shard (a molecule belongs to shard
# int(key, 16) % n_shards), then the manifest that training and prediction depend on. Results
# are kept in conformers.cache, outside the rule outputs, so a rerun (grown input, new shard
# count) embeds only the molecules it has not seen with the same options. A shard job's
# --config-json carries the conformers section: the sharding, the store, the embedding options.
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
        tracking_uri=TRACKING_URI,
        cfg=config_json("conformers"),
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
        "litshift conformers --config-json {params.cfg:q} --tracking-uri {params.tracking_uri:q}"
        " shard {input} --shard {wildcards.shard} --out {output} --workers {threads} > {log} 2>&1"


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
