# MMED Serve. Every target sets up .venv from pyproject.toml (the one place versions are pinned).
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: install serve test lint models bench loadtest client docs-images openapi clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[train,dev,cli]'
	touch $(STAMP)

## Start the gateway on :$(PORT) with the embedded backend and the shipped models.
serve: install
	MMED_BACKEND=$${MMED_BACKEND:-embedded} $(BIN)/uvicorn service.app:app \
		--host $(HOST) --port $(PORT) --timeout-graceful-shutdown 30

## Lint and run the whole test suite.
test: install lint
	$(BIN)/python -m pytest -q -ra $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Train and export all six architectures for both tasks on ../shared/data (long, offline);
## writes docs/model-card.md. Exports go to build/model_repository (MMED_MODELS_OUT overrides),
## not to the committed model_repository/ (the ImageNet architectures are ~100 MB each).
models: install
	$(BIN)/python -m training all --data $${MMED_DATA:-../shared/data/ckplus5} \
		--repository $${MMED_MODELS_OUT:-build/model_repository} --card docs/model-card.md \
		$(MODELS_ARGS)

## Load test (Locust, headless, bounded; ~5 min): starts the gateway on 127.0.0.1 unless
## LOADTEST_ARGS has --host, runs a mixed workload, the capacity finder and an overload run, writes
## loadtest/results/ (CSV, HTML, JSON) and the load-test section of docs/benchmarks.md.
loadtest: install
	$(BIN)/python -m loadtest $(LOADTEST_ARGS)

## Benchmarks (issue 9; ~25 min on 2 cores): clips of a real face at 5/30/120 s and 480p-1080p
## end to end over HTTP against decode/detect/model floors, the `fer` peer side by side (its own
## venv, bench/.venv-fer, pins in pyproject.toml), the six architectures, memory, concurrency.
## Writes docs/benchmarks.md + docs/benchmarks.json. BENCH_QUICK=1: a few minutes, written to
## bench/.cache/ instead. Then the long Schemathesis run of the OpenAPI document (issue 7):
## FUZZ_EXAMPLES examples per operation, fresh random inputs each time (about a minute per 1000).
FUZZ_EXAMPLES ?= 1000
bench: install
	$(BIN)/python -m bench.peer_env
	$(BIN)/python -m bench.run
	MMED_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/reliability/test_openapi_fuzz.py

## Regenerate the committed OpenAPI document from the app.
openapi: install
	$(BIN)/python -m tools.export_openapi openapi.json

## Regenerate the Python client in clients/python from the committed openapi.json.
client: install
	$(BIN)/python -m tools.generate_client

## Rerun the README's API examples on the shipped models: plot into docs/images/, media and
## outputs (transcripts.md, to paste into the README) into build/docs/.
docs-images: install
	$(BIN)/python -m tools.docs_images

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
