# The two README commands (`make demo`, `make test`) and `make build`. Each installs the Debian packages
# it needs (scripts/debian-packages.txt), configures and builds into build/ (binaries in build/bin/).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps configure build demo test bench clean fuzz image

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# One line per stage (logs in $(BUILD_DIR)/logs/); DEMO_FLAGS go to mivla-demo, e.g. DEMO_FLAGS="--episodes 5".
DEMO_FLAGS ?=
demo:
	@CMAKE_ARGS="$(CMAKE_ARGS)" scripts/demo.sh $(BUILD_DIR) $(JOBS) $(DEMO_FLAGS)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# libFuzzer targets (fuzz/), built with clang in build/fuzz; FUZZ_SECONDS each (default 600).
FUZZ_SECONDS ?= 600
fuzz: configure
	@cmake -DCLANGXX=$$(command -v clang++) -DSRC=fuzz/targets -DBIN=$(BUILD_DIR)/fuzz -P fuzz/build_fuzzers.cmake
	@for f in image request checkpoint safetensors; do \
	  cmake -DEXE=$(BUILD_DIR)/fuzz/mivla_fuzz_$$f -DSEEDS=fuzz/corpus/$$f -DWORK=$(BUILD_DIR)/fuzz/work/$$f \
	        -DSECONDS=$(FUZZ_SECONDS) -P fuzz/run_fuzzer.cmake || exit 1; \
	done

# The container image (Dockerfile), built and checked by scripts/build-image.sh (docker, else podman).
IMAGE_TAG ?= mivla:cpu
image:
	@scripts/build-image.sh $(IMAGE_TAG)

clean:
	rm -rf $(BUILD_DIR)
