# Backprop Studio: `make run` opens the editor, `make test` runs the whole suite.
# Each target creates .venv when it is missing; packages are (re)installed only when
# pyproject.toml changes (the stamp files record the last install).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp

.PHONY: run test test-fast bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP) $@

run: $(STAMP)
	$(BIN)/backprop-studio open apple

test: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n auto

test-fast: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n auto -m "not slow"

bench: $(STAMP)
	$(BIN)/python -m bench.engine_overhead
	$(BIN)/python -m bench.engine_simple_convnet
	$(BIN)/python -m bench.train_vs_torch
	$(BIN)/python -m bench.run_vs_torch
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.gui_vs_cli
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.editor_open_pan
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.step_latency
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.step_play_frame

clean:
	rm -rf build dist *.egg-info .pytest_cache
