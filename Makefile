# One virtual environment, made here, for everything: never rely on packages installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test notebooks bench weights lab site browser labextension pictures clean

setup: $(STAMP)

# TORCH_INDEX: a package index to take torch from first, e.g. PyTorch's CPU-only index (see README)
TORCH_INDEX ?=

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/pip install --quiet -c constraints.txt --index-url $(TORCH_INDEX) torch)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[notebooks,test,site,diffusers,images]'
	@# an editable install skips data files: link the JupyterLab extension in, as a wheel would install it
	mkdir -p $(VENV)/share/jupyter/labextensions
	ln -sfn $(CURDIR)/jupyterlab_extension/built $(VENV)/share/jupyter/labextensions/poe-demo-plotly
	@$(BIN)/python -c "import torch; print('installed torch', torch.__version__ + ':', \
		'CUDA ' + torch.version.cuda + ' build' if torch.version.cuda else 'CPU-only build')"
	touch $(STAMP)

## The main job: every composition sampled, pictures and metrics in outputs/
demo: setup
	$(BIN)/poe-demo demo --out outputs

## The test suite: lint and format check, then library tests (the rendered site in headless Chromium
## among them) and every notebook re-run and compared with its stored outputs (nbval), side by side
## on TEST_WORKERS processes (pytest-xdist; a file at a time, so that a notebook keeps its cells and kernel)
TEST_WORKERS ?= 2

test: setup browser
	@start=$$(date +%s) \
	&& $(BIN)/ruff check . && $(BIN)/ruff format --check . \
	&& $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 --nbval --nbval-current-env tests notebooks \
	&& echo "make test: passed in $$(( $$(date +%s) - start )) s"

## Re-execute every notebook in place (after changing the library or a notebook), then `make test`
notebooks: setup
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.store_widget_state=False \
		notebooks/*.ipynb

## Speed, quality, expert-size and weight benchmarks: JSON and figures in benchmarks/results/, then
## the tables of benchmarks/README.md and README.md rewritten from them (about an hour on 2 cores)
bench: setup browser
	cd benchmarks && ../$(BIN)/python bench_sampler.py && ../$(BIN)/python evaluate.py \
		&& ../$(BIN)/python expert_size.py && ../$(BIN)/python steering.py && ../$(BIN)/python weights.py \
		&& ../$(BIN)/python playground_latency.py && ../$(BIN)/python versus_commit.py \
		&& ../$(BIN)/python versus_commit.py --setting digits \
		&& ../$(BIN)/python profile_target.py && ../$(BIN)/python cli_start.py \
		&& ../$(BIN)/python digit_resolution.py && ../$(BIN)/python digit_nets.py && ../$(BIN)/python digits.py \
		&& ../$(BIN)/python compose.py && ../$(BIN)/python seconds.py && ../$(BIN)/python busy_core.py --notebook \
		&& ../$(BIN)/python report.py

## Retrain the shipped networks and rewrite poe_demo/checkpoints/ (manifests included; the digits take about an hour,
## the video network half an hour)
weights: setup
	$(BIN)/poe-demo train --out-dir poe_demo/checkpoints
	$(BIN)/poe-demo train-digits --out-dir poe_demo/checkpoints/digits
	$(BIN)/poe-demo train-video --out-dir poe_demo/checkpoints/video

## The course as static HTML from the notebooks' stored outputs: open site/index.html
site: setup
	$(BIN)/python site_builder/build.py --out site

## Debian's chromium for the browser test (needs apt-get and root; without them the test is skipped)
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: the browser tests will be skipped"

## Rebuild the JupyterLab extension in jupyterlab_extension/built/ (needs node and npm; the build is committed)
labextension: setup
	cd jupyterlab_extension && npm ci --no-audit --no-fund && PATH=$(CURDIR)/$(BIN):$$PATH jupyter labextension build .

## Open the course in JupyterLab (as root, JupyterLab refuses to start without --allow-root)
lab: setup
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

## The README's pictures in docs/, from the commands that make them
pictures: setup
	$(BIN)/poe-demo demo --out outputs
	cp outputs/samples.png docs/sphere_demo.png
	$(BIN)/poe-demo digits --digit 3 --particles 16 --out docs/digits_steered.png

clean:
	rm -rf $(VENV) outputs site .pytest_cache build dist *.egg-info
