# N-1 Studio: `make run` opens the app, `make test` runs the tests.
# Both create .venv at the repo root when missing and install the project into it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# what ruff checks ([tool.ruff] in pyproject.toml), in `make lint` and first in `make test`
LINT_PATHS := n1studio tests bench training docs

.PHONY: run test test-fast lint bench demo clean package test-package memoriser
PYINSTALLER := pyinstaller==6.22.3

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install --progress-bar off -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/n1studio

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check $(LINT_PATHS)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check $(LINT_PATHS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

demo: $(STAMP)
	$(BIN)/n1studio demo --out demo-out

# A one-folder desktop bundle in dist/n1studio (PyInstaller; the default model included).
package: $(STAMP)
	$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/python -m pip install --quiet --progress-bar off '$(PYINSTALLER)'
	$(BIN)/python packaging/build.py
	du -sh dist/n1studio

test-package: $(STAMP)
	$(BIN)/python -c "import PyInstaller" 2>/dev/null || $(BIN)/python -m pip install --quiet --progress-bar off '$(PYINSTALLER)'
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m package tests/packaging

# The LoRA memoriser shipped in resources/memoriser (training/): rebuilt, seeded, in its own
# environment (the `train` extra: torch's CPU build, transformers, peft), so .venv stays light.
TRAIN_VENV ?= training/.venv
TRAIN_WORK := training/.work
MEMO_CASES ?= case14
MEMO_TAG := $(subst $(eval) ,-,$(strip $(MEMO_CASES)))
MEMO_NAME := gemma3-270m-memoriser-$(MEMO_TAG)
MEMO_ARGS ?=
LLAMA_CPP_PYTHON := llama-cpp-python==0.3.36

$(TRAIN_VENV)/.installed: pyproject.toml
	test -x $(TRAIN_VENV)/bin/python || $(PY) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet --progress-bar off $$($(PY) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['train']))")
	touch $@

$(TRAIN_WORK)/llama.cpp/convert_lora_to_gguf.py:
	mkdir -p $(TRAIN_WORK)/sdist $(TRAIN_WORK)/llama.cpp
	$(TRAIN_VENV)/bin/python -m pip download --quiet --no-deps --no-binary :all: -d $(TRAIN_WORK)/sdist '$(LLAMA_CPP_PYTHON)'
	tar -xzf $(TRAIN_WORK)/sdist/llama_cpp_python-*.tar.gz -C $(TRAIN_WORK)/llama.cpp --strip-components=3 --wildcards '*/vendor/llama.cpp/convert_lora_to_gguf.py' '*/vendor/llama.cpp/convert_hf_to_gguf.py' '*/vendor/llama.cpp/conversion' '*/vendor/llama.cpp/gguf-py'

memoriser: $(STAMP) $(TRAIN_VENV)/.installed $(TRAIN_WORK)/llama.cpp/convert_lora_to_gguf.py
	mkdir -p $(TRAIN_WORK) resources/memoriser
	$(BIN)/python training/data.py $(MEMO_CASES:%=--case %) --out training/data/$(MEMO_TAG).json
	$(BIN)/python -c "from n1studio.llm.runtime import default_model_path; print(default_model_path())" > $(TRAIN_WORK)/base_path
	$(TRAIN_VENV)/bin/python training/memoriser.py base --gguf "$$(cat $(TRAIN_WORK)/base_path)" --out $(TRAIN_WORK)/base
	nice -n 10 $(TRAIN_VENV)/bin/python training/memoriser.py train --gguf "$$(cat $(TRAIN_WORK)/base_path)" --data training/data/$(MEMO_TAG).json --out $(TRAIN_WORK)/$(MEMO_NAME) $(MEMO_ARGS)
	$(TRAIN_VENV)/bin/python training/memoriser.py export --base $(TRAIN_WORK)/base --adapter $(TRAIN_WORK)/$(MEMO_NAME) --converter $(TRAIN_WORK)/llama.cpp --out resources/memoriser/$(MEMO_NAME).gguf
	$(BIN)/python training/sanity.py --adapter resources/memoriser/$(MEMO_NAME).gguf $(MEMO_CASES:%=--case %) --variant "" --variant line:1 --variant line:3 --variant line:6 --variant gen:1 --threads 1 --json $(TRAIN_WORK)/$(MEMO_NAME)/sanity_adapter.json
	$(BIN)/python training/sanity.py --adapter resources/memoriser/$(MEMO_NAME).gguf $(MEMO_CASES:%=--case %) --variant "" --variant line:6 --base-only --threads 1 --json $(TRAIN_WORK)/$(MEMO_NAME)/sanity_base.json
	$(BIN)/python training/sanity.py --adapter resources/memoriser/$(MEMO_NAME).gguf --case case24_ieee_rts --variant line:2 --threads 1 --json $(TRAIN_WORK)/$(MEMO_NAME)/sanity_unseen.json
	$(BIN)/python training/card.py --adapter resources/memoriser/$(MEMO_NAME).gguf --meta $(TRAIN_WORK)/$(MEMO_NAME)/train_meta.json $(foreach f,adapter base unseen,--sanity $(TRAIN_WORK)/$(MEMO_NAME)/sanity_$(f).json)

clean:
	rm -rf $(VENV) build dist *.egg-info
