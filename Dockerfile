# MiVLA image: builds the project on Debian bookworm with the same install list as `make`.
# The default command runs the demo; later issues switch it to mivla-server.
FROM debian:bookworm
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /opt/mivla
COPY scripts/ scripts/
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates \
    && scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make build CMAKE_ARGS=-DMIVLA_BUILD_TESTS=OFF
CMD ["build/bin/mivla-demo", "--out", "/tmp/demo.json"]
