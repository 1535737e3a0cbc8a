# Waybill: the two commands are `make demo` (run the product) and `make test`.
# Both set everything up on a fresh machine with Python 3.11+ and make.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The test suite runs against the machine's PostgreSQL and Redis.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/waybill
TEST_BROKER_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?=

.PHONY: demo demo-check test test-fast lint services browser clean
.PHONY: chaos bench bench-ingest

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

# Run the product on the embedded defaults (SQLite + file broker under var/):
# portal, worker, beat, simulators and demo data, then keep running.
demo: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py run_demo --hub-port $${DEMO_HUB_PORT:-8000}

# The same demo, headless: asserts the outcome and exits non-zero on a shortfall.
demo-check: $(STAMP)
	rm -rf var/demo-check
	WAYBILL_VAR_DIR=$(CURDIR)/var/demo-check $(PY) manage.py migrate --noinput -v0
	WAYBILL_VAR_DIR=$(CURDIR)/var/demo-check $(PY) manage.py collectstatic --noinput -v0
	WAYBILL_VAR_DIR=$(CURDIR)/var/demo-check $(PY) manage.py run_demo --check \
		--hub-port $${DEMO_HUB_PORT:-8050} --orders $${DEMO_ORDERS:-60}

# Debian's chromium and its driver, for the browser tests.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver)

# Start PostgreSQL and Redis if this machine has them installed but stopped.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
		--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done

test: $(STAMP) browser services
	WAYBILL_VAR_DIR=$(CURDIR)/var/test DATABASE_URL=$(TEST_DATABASE_URL) \
		CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest $(PYTEST_ARGS)

# The fault-injection suite at the sizes RELIABILITY.md publishes; `make test`
# runs the same tests at CI sizes. Figures go to var/chaos/fault-figures.jsonl.
chaos: $(STAMP) services
	WAYBILL_FAULT_SCALE=chaos WAYBILL_VAR_DIR=$(CURDIR)/var/chaos \
		DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest -s --timeout 7200 tests/faults $(PYTEST_ARGS)

# The ingest pipeline against a raw batched INSERT in the same run (bench/).
# BENCH_EVENTS sets the size; the benchmark database is dropped and re-created.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/waybill_bench
bench-ingest: $(STAMP) services
	WAYBILL_VAR_DIR=$(CURDIR)/var/bench BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) \
		CELERY_BROKER_URL=$(TEST_BROKER_URL) BENCH_EVENTS=$${BENCH_EVENTS:-100000} \
		$(PY) -m bench.ingest

bench: bench-ingest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf var/demo-check var/logs var/screenshots
