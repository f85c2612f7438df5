# N-1 Studio: `make run` opens the app, `make test` runs the tests.
# Both create .venv at the repo root when missing and install the project into it.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench demo clean package test-package
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
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check n1studio tests bench

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

clean:
	rm -rf $(VENV) build dist *.egg-info
