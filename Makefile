# Two commands a new machine needs: `make demo` and `make test`. Both build the virtualenv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench bench-scale serve clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/gazetteer demo

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What CI checks besides the tests: ruff, and mypy --strict over src/ (configured in pyproject.toml).
lint: $(BIN)/.installed
	$(BIN)/python -m ruff check src tests bench
	$(BIN)/python -m mypy

bench: $(BIN)/.installed
	$(BIN)/python bench/crawl.py

bench-scale: $(BIN)/.installed
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) .pytest_cache
