# Two entry points for a fresh clone (Python 3.11 and pip are all they need):
#   make book   set up .venv from requirements.txt and build the HTML site into _build/html
#   make test   set up .venv, then lint + unit tests, every notebook under nbval (strict) twice (the
#               second time under a restricted instruction set), strict build, and the built site
#               checked in headless Chromium (Debian's chromium package)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BUILD  := $(BIN)/jupyter-book build . -W -n --keep-going
NBVAL  := $(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with book/sanitize.cfg \
          --nbval-cell-timeout=300 -p no:cacheprovider book

# The second notebook pass: oneDNN limited to AVX2 kernels and NumPy's AVX2/AVX-512 paths off, so
# the committed outputs are checked against other kernels than this CPU's defaults (README, "Any CPU").
# NumPy's x86 feature names only exist on x86-64; elsewhere only the oneDNN setting applies.
ISA_ENV := ONEDNN_MAX_CPU_ISA=AVX2
ifeq ($(shell uname -m),x86_64)
ISA_ENV += NPY_DISABLE_CPU_FEATURES=X86_V3,X86_V4,AVX512_ICL
endif

# Keep TensorFlow's C++ start-up logging out of notebook outputs and test logs.
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.NOTPARALLEL:  # site removes _build, which browser reads: the targets run in order
.PHONY: book test tools lint unit notebooks notebooks-default notebooks-restricted wheel pdf site browser clean

$(STAMP): requirements.txt code/pyproject.toml
	@test -n "$(strip $(PYTHON))" || { echo "error: no Python found; install Python 3.11 with venv and pip, or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	@"$(PYTHON)" -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' \
		|| { echo "error: $(PYTHON) is not a usable Python 3.11; run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	"$(PYTHON)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: $(STAMP) wheel
	mkdir -p $(EXTRA)
	$(BUILD)
	@echo "Site built: open _build/html/index.html"

test: tools lint unit notebooks site browser

# make test needs more than Python: say what is missing before anything runs (make book does not).
tools:
	@missing=""; for tool in chromium xelatex latexmk pdftotext pdfimages shellcheck; do \
		command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	test -z "$$missing" || { echo "error: make test needs$$missing; on Debian: apt-get install chromium shellcheck texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk fonts-freefont-otf poppler-utils" >&2; exit 2; }

# One ruff configuration (ruff.toml) for the package, the tests, the extension and the chapters;
# the GitHub workflow checked by jactionlint (with shellcheck on its run: steps; Debian's shellcheck).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/jactionlint --shellcheck=$$(command -v shellcheck || { echo "error: shellcheck not found; apt-get install shellcheck" >&2; exit 2; }) .github/workflows/*.yml

unit: $(STAMP)
	$(BIN)/python -m pytest code/tests

notebooks: notebooks-default notebooks-restricted

notebooks-default: $(STAMP)
	$(NBVAL)

notebooks-restricted: $(STAMP)
	env $(ISA_ENV) $(NBVAL)

# The package as a wheel, offered on the site so that a downloaded chapter can run outside a
# clone (book/intro.md links it; tests/test_download.py installs it in a fresh environment).
WHEEL_DIR := _build/dist
wheel: $(STAMP)
	rm -rf $(WHEEL_DIR) code/build
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation -w $(WHEEL_DIR) ./code
	rm -rf code/build

# The PDF edition through Sphinx's LaTeX builder and Debian's TeX Live (xelatex, latexmk), copied
# into _build/extra, which the site serves from its root (html_extra_path): book/intro.md links it.
PDF := _build/latex/building-googlenet.pdf
EXTRA := _build/extra
pdf: $(STAMP)
	rm -f $(EXTRA)/building-googlenet.pdf
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || { echo "error: make pdf needs TeX Live: apt-get install texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk fonts-freefont-otf" >&2; exit 2; }
	test -d $(WHEEL_DIR) || $(MAKE) wheel
	rm -rf _build/latex
	mkdir -p $(EXTRA)
	$(BIN)/jupyter-book build . --builder pdflatex -W -n --keep-going
	cp $(PDF) $(EXTRA)/

# The site; with TeX Live installed, the PDF is built first so that the site can offer it.
site: $(STAMP)
	rm -rf _build
	$(MAKE) wheel
	if command -v xelatex >/dev/null; then $(MAKE) pdf; else echo "note: no xelatex, so the site has no PDF (make pdf explains)"; fi
	mkdir -p $(EXTRA)
	$(BUILD)

# Needs a built site (make site) and /usr/bin/chromium; screenshots go to _build/screenshots.
browser: $(STAMP)
	test -f _build/html/index.html || $(MAKE) site
	$(BIN)/python -m pytest -p no:cacheprovider tests

clean:
	rm -rf _build $(VENV)
