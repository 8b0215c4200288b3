# Works on a fresh machine with python3, make and git: uv comes from PATH when it is the version
# pyproject.toml requires ([tool.uv] required-version), else that version is installed into .tools/.
.DEFAULT_GOAL := help
UV_VERSION := $(patsubst ==%,%,$(shell python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["uv"]["required-version"])'))
$(if $(UV_VERSION),,$(error pyproject.toml needs [tool.uv] required-version = "==X.Y.Z"))
UV := $(if $(filter $(UV_VERSION),$(word 2,$(shell uv --version 2>/dev/null))),$(shell command -v uv),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
DEMO_DIR := build/demo
DEMO_SLUG := tumor-classifier

.PHONY: help install lint format test test-fast demo lock clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv: pyproject.toml
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)
	@touch $@

# One line while installing (uv's package list goes to build/install.log). Bytecode compiled at
# install only where Python may not write it on first use (PYTHONDONTWRITEBYTECODE): the
# generated Makefile says why, with the measurements.
COMPILE := $(if $(PYTHONDONTWRITEBYTECODE),--compile-bytecode)
.venv/.installed: uv.lock pyproject.toml | $(UV)
	@mkdir -p build
	@echo "install: the template's tooling into .venv (log: build/install.log)"
	@$(UV) sync --frozen $(COMPILE) > build/install.log 2>&1 || { \
		tail -n 20 build/install.log >&2; echo "install failed: see build/install.log" >&2; exit 1; }
	@touch $@

install: .venv/.installed ## Create .venv with the template's tooling

lint: install ## Lint the template's hooks and tests
	$(RUN) ruff check hooks tests
	$(RUN) ruff format --check hooks tests

format: install ## Format the template's hooks and tests
	$(RUN) ruff format hooks tests
	$(RUN) ruff check --fix hooks tests

test: install ## Run every template test: bake each option combination and gate the result
	$(RUN) ruff check hooks tests
	$(RUN) ruff format --check hooks tests
	$(RUN) pytest -n auto --dist loadgroup --no-loadscope-reorder

# The tier to run while editing: the hooks, hostile answers, file sets, the docs and the name
# limits, without the baked project's environment (the tests that need it are marked slow).
FAST_TESTS := tests/test_hooks.py tests/test_hostile.py tests/test_bake.py tests/test_docs.py \
	tests/test_names.py tests/test_harness.py

test-fast: install ## The fast tier (about 20 s): hooks, hostile answers, file sets, docs, names
	$(RUN) ruff check hooks tests
	$(RUN) ruff format --check hooks tests
	$(RUN) pytest -m "not slow" $(FAST_TESTS)

demo: install ## Bake the template with its defaults into build/demo and run the baked repo's main job
	rm -rf $(DEMO_DIR)
	$(RUN) cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/$(DEMO_SLUG) UV=$(UV) story

# The generated repository ships uv.lock. After changing {{cookiecutter.project_slug}}/pyproject.toml,
# lock a default bake and write the lock back with the slug templated (every bake's lock is the
# same but for the project's own name; tests/test_bake.py checks each combination's).
LOCK_DIR := build/lock
lock: install ## Re-lock the generated repository's dependencies (after editing its pyproject.toml)
	rm -rf $(LOCK_DIR)
	$(RUN) cookiecutter --no-input --output-dir $(LOCK_DIR) .
	cd $(LOCK_DIR)/$(DEMO_SLUG) && $(UV) lock --quiet
	sed 's/^name = "$(DEMO_SLUG)"$$/name = "{{ cookiecutter.project_slug }}"/' \
		$(LOCK_DIR)/$(DEMO_SLUG)/uv.lock > "{{cookiecutter.project_slug}}/uv.lock"

clean: ## Remove build outputs and environments
	rm -rf build .venv .tools
