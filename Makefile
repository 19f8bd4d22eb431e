# nnlab — one command for each job. `make report` is what users run; `make test` is what CI runs.
# `make report SEEDS=1`: one training seed per model (a quick look; training variation unmeasured).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
NODE_STAMP = node_modules/.installed
# TensorFlow for the GPU when nvidia-smi sees one, else for the CPU (`make setup EXTRA=cpu`).
EXTRA  ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)

.PHONY: setup test report data train bench lint extras workflows clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/system-deps.sh
	bash scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[$(EXTRA),dev]'
	touch $@

# The browser test's npm packages (axe-core, playwright-core), exactly as package-lock.json
# pins them; reinstalled only when the lockfile changes (npm's cache first, then the registry).
$(NODE_STAMP): package.json package-lock.json | $(STAMP)
	npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error
	touch $@

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

# Each install (base, .[cpu], .[gpu]) resolves on PyPI without installing anything.
extras: setup
	bash scripts/check-extras.sh $(BIN)/pip

# The workflows against GitHub's workflow schema (check-jsonschema ships it: no network), then
# zizmor's offline audits. Any finding fails: fix it, or suppress it on its line in the workflow
# (`# zizmor: ignore[<audit>]`) with a one-line reason.
WORKFLOWS = $(wildcard .github/workflows/*.yml .github/workflows/*.yaml)
workflows: setup
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/zizmor --offline --no-progress $(WORKFLOWS)

test: lint extras workflows $(NODE_STAMP)
	$(BIN)/pytest

data: setup
	$(BIN)/nnlab data fetch

SEED_OPTION = $(if $(SEEDS),--seeds $(SEEDS))

train: setup
	$(BIN)/nnlab train $(SEED_OPTION)

report: setup
	$(BIN)/nnlab build $(SEED_OPTION)

bench: setup
	$(BIN)/nnlab bench

clean:
	rm -rf build
