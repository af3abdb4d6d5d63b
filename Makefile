# One virtual environment, made here, for everything: never rely on packages installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test weights clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[notebooks,test]'
	touch $(STAMP)

## The main job: every composition sampled, pictures and metrics in outputs/
demo: setup
	$(BIN)/poe-demo demo --out outputs

## The test suite
test: setup
	$(BIN)/pytest tests

## Retrain the shipped axis experts and rewrite data/manifest.json
weights: setup
	$(BIN)/poe-demo train

clean:
	rm -rf $(VENV) outputs .pytest_cache
