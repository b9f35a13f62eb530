# The two set-up commands of the README, and what they stand on.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.maestro-installed
# two workers: the machines here have two cores, and most tests wait on subprocesses and servers
PYTEST_ARGS ?= -n 2

.PHONY: test demo bench install bytecode system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,browser,redis]'
	touch $(STAMP)

# Byte-compile maestro's own sources: where PYTHONDONTWRITEBYTECODE is set, an editable install would
# otherwise recompile every module at every start (pip compiles only what it installs).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q src >/dev/null

install: $(STAMP)

# Debian's chromium, chromium-driver and redis-server, installed with apt-get when missing
system-packages:
	bash .ci/system-packages.sh

test: bytecode system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# extract -> build -> publish (to a pypiserver it starts) -> run-plan -> report, on examples/legacy-estate
demo: bytecode
	$(BIN)/python examples/demo.py

# every bench/*.py, side by side with the tool a user would otherwise pick; BENCH="report plan" runs only those
bench: bytecode
	$(BIN)/python -m pip install --quiet -e '.[dev,browser,redis,bench]'
	$(BIN)/python bench/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) dist extracted .maestro .pytest_cache
