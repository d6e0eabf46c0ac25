# Herald: thin wrapper over scripts/ and CMake. `make` lists the targets.
SANITIZE ?= 0
FUZZ_SECONDS ?= 30
STACK := bash scripts/stack.sh

.DEFAULT_GOAL := help
.PHONY: help run status stop logs reset test build bench fuzz clean distclean stack-start stack-stop test-scale client demo-send
RUNCTL := bash scripts/runctl.sh

help: ## list the targets
	@echo "Herald make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 16

run: ## build, start PostgreSQL + Redis (var/stack), migrate, run and supervise the API and workers (Ctrl-C stops)
	bash scripts/run.sh

status: ## what `make run` runs: pid, restarts, uptime and log of each process
	@$(RUNCTL) status || [ $$? = 3 ] # 3: not running, already said

demo-send: ## send the demo user of `make run` a notification (TITLE=...): it appears live on /demo
	@set -a && . var/stack/dev-secrets.env && set +a && HERALD_DEMO_DIR=$(CURDIR)/var/demo \
	  HERALD_API_URL=http://127.0.0.1:$${HERALD_HTTP_PORT:-8080} node clients/typescript/scripts/demo-user.mjs send $(TITLE)

stop: ## stop what `make run` started (from another terminal)
	@$(RUNCTL) stop

logs: ## follow the logs of every process of `make run`
	@$(RUNCTL) logs

reset: ## stop everything and delete var/ (database, logs, outboxes, dev secrets) after a confirmation (YES=1: no question)
	@$(RUNCTL) reset $(if $(filter 1,$(YES)),--yes)

test: ## build and run every test against a throw-away stack (SANITIZE=1: ASan+UBSan, CTEST_ARGS=...)
	SANITIZE=$(SANITIZE) bash scripts/test.sh

test-scale: ## scale-out tests: nginx + 2 APIs + workers, Redis Sentinel, PgBouncer (minutes; SCALE_TESTS=...)
	bash scripts/scale-test.sh

client: ## TypeScript client + <herald-inbox>: npm ci, regenerate the types from openapi.yaml, bundle (clients/typescript/dist)
	cd clients/typescript && npm ci --no-audit --no-fund && node scripts/generate.mjs && node scripts/build.mjs

build: ## build into build/ (SANITIZE=1: build-sanitize/)
	SANITIZE=$(SANITIZE) bash scripts/build.sh

fuzz: ## build the libFuzzer targets (build-fuzz/, clang) and fuzz each for FUZZ_SECONDS (default 30)
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

bench: ## run the benchmarks (bench/run.sh)
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "bench: no bench/run.sh yet"; fi

stack-start: ## start the local PostgreSQL + Redis in var/stack (then: . var/stack/stack.env)
	$(STACK) start

stack-stop: ## stop the local stack
	$(STACK) stop

clean: ## remove the build directories (keeps var/stack)
	rm -rf build build-sanitize build-fuzz

distclean: clean ## also stop every stack in var/ and delete var/ (stack data, logs, dev secrets)
	@for d in var/*/; do if [ -f "$$d.herald-stack" ]; then $(STACK) stop --purge --dir "$$d"; fi; done
	rm -rf var
