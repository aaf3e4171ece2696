# itscope: `make run` opens the explorer on the embedded demo data (or, with no
# terminal, fits it headless and prints the table); `make test` runs every check.
# Both install the Debian packages they need when they are missing (run as root).

export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/itscope
DEB_PKGS := gcc libc6-dev libopenblas-dev libhdf5-dev pkg-config tmux slurmctld slurmd slurm-client munge openssh-client

.PHONY: deps build run test vet bench clean

deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

build: deps
	$(GO) build -o $(BIN) .

run: build
	@if [ -t 0 ] && [ -t 1 ]; then ./$(BIN) tui --data demo; \
	else ./$(BIN) fit --data demo --features pixels:32 --model ridgecv --seed 0; fi

vet: deps
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./...

test: vet build
	$(GO) test -race -count=1 ./...
	# Tests that skip under the race detector (too slow there) run once without it.
	$(GO) test -count=1 -run 'TestDefaultGridInteriorOnEveryLayer' ./model/readout/
	$(GO) test -count=1 -run 'TestHostilePNGBombsWithinDecodeBudget' ./data/
	ITSCOPE_BIN=$(BIN) scripts/e2e-tui.sh
	ITSCOPE_BIN=$(BIN) scripts/e2e-slurm.sh

clean:
	rm -rf bin
