# sealkit — run `make` for the list of targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
# The version seal and seal-controller report: the git tag, else a Go
# pseudo-version of the commit (hack/version.sh).
VERSION   ?= $(shell hack/version.sh)
LDFLAGS   := -X github.com/sealkit/sealkit/internal/version.version=$(VERSION)
# Builds etcd, kube-apiserver and kubectl from source, once, and prints where they are.
ASSETS_CMD := hack/build-assets.sh
# Recipe prefix exporting KUBEBUILDER_ASSETS. A bare assignment, not `export X=$(...)`,
# so that a failed build stops the recipe (-e sees the substitution's status).
WITH_ASSETS = KUBEBUILDER_ASSETS="$$($(ASSETS_CMD) | tail -n 1)"; export KUBEBUILDER_ASSETS;
# Builds Bitnami's kubeseal and controller from source, once, for the migration tests.
KUBESEAL_CMD := hack/build-kubeseal.sh kubeseal controller
WITH_KUBESEAL = SEALKIT_KUBESEAL_DIR="$$($(KUBESEAL_CMD) | tail -n 1)"; export SEALKIT_KUBESEAL_DIR;
# Builds kube-controller-manager from source, once: test/bitnami runs its garbage
# collector to test the cut-over from Bitnami (orphan deletion).
KCM_CMD := hack/node/build.sh kube-controller-manager
WITH_KCM = SEALKIT_NODE_ASSETS="$$($(KCM_CMD) | tail -n 1)"; export SEALKIT_NODE_ASSETS;

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/seal and bin/seal-controller
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/seal ./cmd/seal
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/seal-controller ./cmd/controller

.PHONY: image
image: ## Build the seal-controller image (linux/amd64+arm64) into dist/: OCI layout, oci-archive, docker tarballs, SBOMs
	$(GO) run ./hack/release image

.PHONY: release
release: ## Build a release into dist/: seal archives, image, install.yaml, SBOMs, krew manifest, SHA256SUMS
	$(GO) run ./hack/release release

.PHONY: envtest-assets
envtest-assets: ## Build etcd, kube-apiserver and kubectl from source (cached outside the repo)
	@$(ASSETS_CMD)

.PHONY: kubeseal
kubeseal: ## Build Bitnami's kubeseal and controller from source (cached outside the repo)
	@$(KUBESEAL_CMD)

.PHONY: test
test: ## Run every test, including those against a real kube-apiserver (the command CI runs)
	@hack/install-podman.sh # podman and runc for test/image, from Debian's packages when missing
	@$(WITH_ASSETS) $(WITH_KUBESEAL) $(WITH_KCM) \
	echo "using control plane binaries in $$KUBEBUILDER_ASSETS"; \
	$(GO) vet ./...; \
	hack/verify-generated.sh; \
	$(GO) test -count=1 -timeout 40m ./...

.PHONY: faults
faults: ## Run the fault scenarios at full size (2,000-object backlogs, 500 concurrent verifies); results in bin/faults.md
	@$(WITH_ASSETS) \
	mkdir -p $(BIN); rm -f $(BIN)/faults.md; \
	$(GO) test -count=1 -timeout 120m -v -skip '^TestSoak$$' ./test/faults -args -faults.full -faults.results=$(BIN)/faults.md; \
	cat $(BIN)/faults.md

SOAK ?= 30m
.PHONY: soak
soak: ## Load: 10,000 SealedSecrets + 10,000 Secrets, then SOAK (30m) of churn, RSS over time; results in bin/soak.md
	@$(WITH_ASSETS) \
	mkdir -p $(BIN); rm -f $(BIN)/soak.md; \
	$(GO) test -count=1 -timeout 240m -v -run '^TestSoak$$' ./test/faults -args -faults.soak=$(SOAK) -faults.results=$(BIN)/soak.md; \
	cat $(BIN)/soak.md

FUZZTIME ?= 10m
.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (10m) each; table in bin/fuzz.md, crashers saved to testdata/fuzz
	FUZZTIME=$(FUZZTIME) FUZZ_OUT=$(BIN)/fuzz.md hack/fuzz.sh

.PHONY: e2e-node
e2e-node: ## Run test/node on a one-node cluster built from source: kubelet, containerd, Pods (needs root)
	@hack/node/deps.sh
	@dirs=$$(hack/node/build.sh | tail -n 2); \
	KUBEBUILDER_ASSETS=$$(head -n 1 <<<"$$dirs"); SEALKIT_NODE_ASSETS=$$(tail -n 1 <<<"$$dirs"); \
	export KUBEBUILDER_ASSETS SEALKIT_NODE_ASSETS; \
	$(GO) vet -tags node ./test/node/...; \
	$(GO) test -tags node -count=1 -timeout 30m -v ./test/node/... $(E2E_NODE_ARGS)

.PHONY: generate
generate: ## Regenerate deepcopy code, the CRD and RBAC (controller-gen)
	hack/generate.sh

.PHONY: manifests
manifests: generate ## Alias of generate

.PHONY: verify
verify: ## Fail when generated files are stale
	hack/verify-generated.sh

.PHONY: lint
lint: ## Run golangci-lint (built from the pinned tool module hack/lint)
	cd hack/lint && $(GO) build -o $(BIN)/golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint
	$(BIN)/golangci-lint run ./...

.PHONY: bench
bench: ## Crypto, sealing and lint benchmarks; seal against Bitnami's kubeseal (built from source); offline reseal
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/...
	@SEALKIT_KUBESEAL_DIR="$$(hack/build-kubeseal.sh kubeseal | tail -n 1)"; export SEALKIT_KUBESEAL_DIR; \
	$(GO) test -count=1 -timeout 30m -run '^$$' -bench 'BenchmarkSealCLI|BenchmarkResealOffline' -benchtime 1x ./test/bench

.PHONY: bench-online
bench-online: ## seal reseal through the webhook, and kubectl apply with and without the webhooks, on a local control plane
	@$(WITH_ASSETS) \
	$(GO) test -count=1 -timeout 60m -run '^$$' -bench 'BenchmarkResealOnline|BenchmarkApply' -benchtime 1x ./test/bench

.PHONY: drill
drill: ## The compromised-key drill (rotate, reseal, apply, wait, retire) on 1,000 files, each step timed
	@$(WITH_ASSETS) \
	$(GO) test -count=1 -timeout 30m -run '^$$' -bench BenchmarkDrill -benchtime 1x ./test/bench

.PHONY: bench-controller
bench-controller: ## Measure the controller against a plain client on a real API server
	@$(WITH_ASSETS) \
	mkdir -p $(BIN); \
	$(GO) test -count=1 -timeout 60m -v -run '^$$' -bench BenchmarkController -benchtime 1x ./test/bench -args -bench-out $(CURDIR)/bin/bench-controller.txt

.PHONY: dev-cluster
dev-cluster: ## Run a local control plane until Ctrl-C (kubeconfig in .cache/dev-cluster)
	@$(WITH_ASSETS) $(GO) run ./hack/devcluster

.PHONY: demo
demo: ## The end-to-end demo: local cluster, controller, seal, rotate, reseal, lint
	hack/demo.sh

.PHONY: clean
clean: ## Remove build output
	rm -rf $(BIN) dist
