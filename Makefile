# Two commands on a fresh machine: `make report` and `make test` (`make ablations` adds the
# ablation runs to the report).
# Both set up .venv idempotently first (re-installed only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.litshift-installed
# The CPU wheel of this exact version lies on the build machines' disk; a looser pin pulls a
# multi-GB CUDA build. GPU nodes bring their own torch.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?= -n 2

.PHONY: all report ablations release test setup system-deps lint clean

all: report

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The Snakefile sits at the repository root, so the local profile is named explicitly.
SNAKEMAKE := $(BIN)/snakemake --workflow-profile workflow/profiles/default

report: $(STAMP)
	$(SNAKEMAKE) --cores all results/report.html

# The ablation runs x seeds (config.yaml `ablations:`) and their summary first: the report
# depends on the summary only once it exists, so the second call re-renders it with them.
ablations: $(STAMP)
	$(SNAKEMAKE) --cores all results/ablations/summary.parquet
	$(SNAKEMAKE) --cores all results/report.html

# The release model shipped in src/litshift/release/ (config.release.yaml: conformers of all
# NMRShiftDB2 records; per member a supervised run and its semi-supervised fine-tuning, three
# members two at a time, about 2 h on 2 cores): trained by the pipeline's train rule, scored as
# one ensemble by the evaluate_release rule (results/release/), then packaged with its model
# card. The card lists the pipeline's HOSE/supervised/semi test MAE too when `make report` ran
# before.
RELEASE_MEMBERS = $(shell $(BIN)/python -c "import yaml; print(' '.join(yaml.safe_load(open('config.release.yaml'))['release']['members']))")
release: $(STAMP)
	$(SNAKEMAKE) --cores all results/release/metrics.parquet --configfile config.release.yaml
	$(BIN)/litshift release $(foreach run,$(RELEASE_MEMBERS),--run results/models/$(run)) \
		--evaluation results/release --eval-metrics results/eval/metrics.parquet

test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Debian packages that tests drive, each installed only when its binary is missing:
# slurm-wlm and munge give tests/workflow/test_slurm_profile.py a real one-node SLURM, chromium
# renders the report in tests/report/test_report.py. Without root or apt-get those tests are
# skipped (they say why); with them, a failed install stops here rather than hiding behind a skip.
SYSTEM_DEPS := munged:munge mungekey:munge slurmctld:slurm-wlm slurmd:slurm-wlm sbatch:slurm-wlm \
	srun:slurm-wlm squeue:slurm-wlm sinfo:slurm-wlm sacct:slurm-wlm chromium:chromium
system-deps:
	@packages=$$(for dep in $(SYSTEM_DEPS); do \
		PATH="$$PATH:/usr/sbin:/sbin" command -v $${dep%%:*} >/dev/null || echo $${dep#*:}; \
	done | sort -u | tr '\n' ' '); \
	if [ -z "$$packages" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "system-deps: missing $$packages and no root apt-get; the tests needing them will be skipped"; exit 0; \
	fi; \
	echo "system-deps: installing $$packages"; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$packages

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports
	$(SNAKEMAKE) --lint

clean:
	rm -rf results .snakemake
