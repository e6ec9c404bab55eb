# litshift: literature-scale NMR shift learning. This file only wires the stages together;
# each stage is one file under workflow/rules/, and the config is validated in common.smk.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/curate.smk"
include: "workflow/rules/literature.smk"
include: "workflow/rules/split.smk"
include: "workflow/rules/conformers.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/ablations.smk"
include: "workflow/rules/catalog.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/verify.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.report.output,
