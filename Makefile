# Two entry points for a fresh clone (Python 3.11 and pip are all they need):
#   make book   set up .venv from requirements.txt and build the HTML site into _build/html
#   make test   set up .venv, then lint + unit tests, every notebook under nbval (strict), strict build,
#               and the built site checked in headless Chromium (Debian's chromium package)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BUILD  := $(BIN)/jupyter-book build . -W -n --keep-going

# Keep TensorFlow's C++ start-up logging out of notebook outputs and test logs.
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: book test lint unit notebooks site browser clean

$(STAMP): requirements.txt code/pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: $(STAMP)
	$(BUILD)
	@echo "Site built: open _build/html/index.html"

test: lint unit notebooks site browser

lint: $(STAMP)
	$(BIN)/ruff check code tests _ext
	$(BIN)/ruff format --check code

unit: $(STAMP)
	$(BIN)/python -m pytest code/tests

notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with book/sanitize.cfg \
		--nbval-cell-timeout=300 -p no:cacheprovider book

site: $(STAMP)
	rm -rf _build
	$(BUILD)

# Needs a built site (make site) and /usr/bin/chromium; screenshots go to _build/screenshots.
browser: $(STAMP)
	test -f _build/html/index.html || $(BUILD)
	$(BIN)/python -m pytest -p no:cacheprovider tests

clean:
	rm -rf _build $(VENV)
