# Two commands on a fresh machine: `make report` and `make test`.
# Both set up .venv idempotently first (re-installed only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.litshift-installed
# The CPU wheel of this exact version lies on the build machines' disk; a looser pin pulls a
# multi-GB CUDA build. GPU nodes bring their own torch.
TORCH_SPEC ?= torch==2.13.0
PYTEST_ARGS ?= -n 2

.PHONY: all report test setup system-deps lint clean

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

test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A real one-node SLURM for tests/workflow/test_slurm_profile.py: Debian's slurm-wlm and munge,
# installed only when a binary is missing. Without root or apt-get the test is skipped (it says
# why); with them, a failed install stops here rather than hiding behind a skip.
SLURM_BINARIES := munged mungekey slurmctld slurmd sbatch srun squeue sinfo sacct
system-deps:
	@missing=$$(for b in $(SLURM_BINARIES); do PATH="$$PATH:/usr/sbin:/sbin" command -v $$b >/dev/null || printf "%s " $$b; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "system-deps: missing $$missing and no root apt-get; the SLURM test will be skipped"; exit 0; \
	fi; \
	echo "system-deps: installing slurm-wlm and munge (missing: $$missing)"; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(SNAKEMAKE) --lint

clean:
	rm -rf results .snakemake
