# MiVLA image: mivla-server, mivla-robot, mivla-eval and mivla-train with the data they read at run time
# (embodiment descriptions, robot client configs, the tokenizer, the bundled checkpoint when the
# repository has one), on Debian bookworm.
#
#   docker build -t mivla:cpu .                                   # Debian's LibTorch 1.13 (CPU)
#   docker build -t mivla:cuda --build-arg LIBTORCH=libtorch .    # a CUDA LibTorch unpacked in ./libtorch
#
# LIBTORCH selects the LibTorch: "debian" (default) uses libtorch-dev from the install list; any other
# value is a folder in the build context holding an unpacked C++11-ABI LibTorch (share/cmake/Torch and
# lib/, e.g. from a PyTorch install: python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'
# points into one). Its lib/ is copied into the image at /opt/libtorch/lib and Debian's libtorch1.13 is
# left out of the runtime stage. deploy/README.md has the details; the CPU image is the one tested.
#
# Builder: the project's own install list (scripts/install-deps.sh, scripts/debian-packages.txt) and a
# Release build of the four binaries, tests off. Runtime: bookworm-slim with the runtime libraries of
# deploy/docker/runtime-packages.txt only, a non-root user (uid/gid 10001, the runAsUser of deploy/k8s),
# and no HEALTHCHECK: Kubernetes probes the gRPC health service and /healthz itself (deploy/k8s).

ARG LIBTORCH=debian

FROM debian:bookworm AS builder
ARG LIBTORCH
ARG MIVLA_BINARIES="mivla-server mivla-robot mivla-eval mivla-train"
# Data the binaries read, relative to the repository, installed under /opt/mivla at the same paths as in
# the builder (so the paths compiled into the binaries hold), and the bundled checkpoint folder.
ARG MIVLA_DATA="core/kinematics/embodiments client/config core/tokenizer/data"
ARG MIVLA_MODELS=models
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /opt/mivla
COPY scripts/install-deps.sh scripts/debian-packages.txt scripts/
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates \
    && scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN set -eu; \
    args="-DCMAKE_BUILD_TYPE=Release -DMIVLA_BUILD_TESTS=OFF"; \
    if [ "$LIBTORCH" != debian ]; then \
      test -f "$LIBTORCH/share/cmake/Torch/TorchConfig.cmake" \
        || { echo "LIBTORCH=$LIBTORCH: no share/cmake/Torch/TorchConfig.cmake there" >&2; exit 1; }; \
      args="$args -DCMAKE_PREFIX_PATH=/opt/mivla/$LIBTORCH"; \
    fi; \
    cmake -S . -B build $args >/dev/null; \
    cmake --build build -j"$(nproc)" --target $MIVLA_BINARIES; \
    mkdir -p /out/bin /out/opt/mivla/models /out/opt/libtorch/lib; \
    for b in $MIVLA_BINARIES; do install -m 0755 "build/bin/$b" /out/bin/; done; \
    for d in $MIVLA_DATA; do mkdir -p "/out/opt/mivla/$d"; cp -a "$d/." "/out/opt/mivla/$d/"; done; \
    if [ -d "$MIVLA_MODELS" ]; then cp -a "$MIVLA_MODELS/." /out/opt/mivla/models/; fi; \
    if [ "$LIBTORCH" != debian ]; then cp -a "$LIBTORCH/lib/." /out/opt/libtorch/lib/; fi

FROM debian:bookworm-slim AS runtime
ARG LIBTORCH
ENV DEBIAN_FRONTEND=noninteractive
COPY deploy/docker/runtime-packages.txt /tmp/runtime-packages.txt
RUN set -eu; \
    pkgs=$(grep -vE '^[[:space:]]*(#|$)' /tmp/runtime-packages.txt); \
    if [ "$LIBTORCH" != debian ]; then pkgs=$(echo "$pkgs" | grep -v '^libtorch'); fi; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends $pkgs; \
    rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt; \
    groupadd --gid 10001 mivla; \
    useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin mivla
COPY --from=builder /out/bin/ /usr/local/bin/
COPY --from=builder /out/opt/ /opt/
ENV MIVLA_EMBODIMENT_DIR=/opt/mivla/core/kinematics/embodiments \
    MIVLA_MODEL_DIR=/opt/mivla/models \
    MIVLA_CLIENT_CONFIG_DIR=/opt/mivla/client/config \
    LD_LIBRARY_PATH=/opt/libtorch/lib \
    OMP_WAIT_POLICY=PASSIVE \
    EGL_PLATFORM=surfaceless
USER 10001:10001
WORKDIR /opt/mivla
EXPOSE 50051 9464
CMD ["mivla-server", "--model-dir", "/opt/mivla/models", \
     "--tokenizer", "/opt/mivla/core/tokenizer/data/mivla_tiny_spm.model"]
