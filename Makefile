# Two commands for a newcomer: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST := $(BIN)/python -m pytest

.PHONY: setup browser demo test test-fast test-all lint format bench mlflow-ui sample clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(None if sys.version_info[:2] == (3, 11) else "custlens needs Python 3.11, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev,spark]"
	@touch $(STAMP)

# Debian's Chromium, for the report's browser test (as root, or through sudo). The package lists
# are refreshed only when the install fails on stale ones.
APT_CHROMIUM := env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium for the browser test"; \
	  $$SUDO $(APT_CHROMIUM) >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -qq && $$SUDO $(APT_CHROMIUM) >/dev/null; }; }

demo: setup
	$(BIN)/python scripts/pipeline.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# CUSTLENS_REQUIRE_BROWSER=1: the browser test fails rather than skips without Chromium.
test: lint browser
	CUSTLENS_REQUIRE_BROWSER=1 $(PYTEST) -m "not slow" -n 2 --dist loadfile

# Unit and integration tiers only, for development (tests/conftest.py assigns the tiers).
test-fast: setup
	$(PYTEST) -m "(unit or integration) and not slow" -n 2 --dist loadfile

test-all: lint browser
	CUSTLENS_REQUIRE_BROWSER=1 $(PYTEST)

# Feature build and scoring with reasons, 1M synthetic customers (docs/benchmarks.md).
bench: setup
	$(BIN)/python tools/benchmark.py

mlflow-ui: setup
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --host 127.0.0.1 --port 5000

sample: setup
	$(BIN)/python tools/make_sample.py

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache build *.egg-info
