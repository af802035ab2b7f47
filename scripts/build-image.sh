#!/bin/bash
# Builds the container image (Dockerfile) and checks it: `make image` runs this.
#
#   scripts/build-image.sh [TAG (mivla:cpu)] [docker build arguments ...]
#
# Engine: docker when it answers, else podman (installed from Debian with runc and debootstrap when
# missing). The Dockerfile starts FROM debian:bookworm and debian:bookworm-slim; when neither the engine
# has them nor a registry can be reached (a machine with only a Debian mirror), they are made locally:
# a minbase debootstrap of bookworm from the machine's own Debian mirror, imported under both names.
# Podman runs with runc and cgroupfs (crun refuses hybrid cgroup hierarchies), the host network (the
# builder installs from the Debian mirror) and file and process limits within the host's own.
#
# Then it checks the image: the binaries start as the image's non-root user (uid 10001), and
# mivla-server serves a randomly initialised model there and answers /healthz (or, when the image holds a
# bundled checkpoint, serves that). Progress goes to the terminal; the build log to build/logs/image.log.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-mivla:cpu}
shift || true
mkdir -p build/logs
log=build/logs/image.log
step() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

engine=()
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  engine=(docker)
  run_flags=(--network host)
  build_flags=(--network host)
else
  missing=()
  for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]} (Debian)"
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  engine=(podman --runtime runc --cgroup-manager cgroupfs)
  limits=(--ulimit "nofile=1024:1024" --ulimit "nproc=4096:4096")
  run_flags=(--network host "${limits[@]}")
  build_flags=(--network host "${limits[@]}")
fi
step "engine: ${engine[*]}"

have_image() { "${engine[@]}" image inspect "$1" >/dev/null 2>&1; }
if ! have_image debian:bookworm || ! have_image debian:bookworm-slim; then
  if timeout 60 "${engine[@]}" pull -q docker.io/library/debian:bookworm >/dev/null 2>&1 \
     && timeout 60 "${engine[@]}" pull -q docker.io/library/debian:bookworm-slim >/dev/null 2>&1; then
    step "base images pulled from the registry"
  else
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    root=$(mktemp -d /var/tmp/mivla-base.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    step "no registry: making debian:bookworm from $mirror (debootstrap --variant=minbase, a few minutes)"
    debootstrap --variant=minbase bookworm "$root/rootfs" "$mirror" >>"$log" 2>&1 \
      || { echo "debootstrap failed; see $log" >&2; exit 1; }
    tar -C "$root/rootfs" -c . | "${engine[@]}" import - debian:bookworm >>"$log" 2>&1
    "${engine[@]}" tag debian:bookworm debian:bookworm-slim
    rm -rf "$root"
    trap - EXIT
  fi
fi

step "building $tag (log: $log; the builder stage compiles the binaries, tens of minutes on 2 CPUs)"
start=$(date +%s)
if ! "${engine[@]}" build "${build_flags[@]}" -t "$tag" "$@" . >>"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "image build failed; see $log" >&2
  exit 1
fi
step "built $tag in $(( $(date +%s) - start )) s; size $("${engine[@]}" image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}')"

# The checks.
user=$("${engine[@]}" run --rm "${run_flags[@]}" --entrypoint id "$tag" -u)
[ "$user" = 10001 ] || { echo "the image runs as uid $user, want 10001" >&2; exit 1; }
for b in mivla-server mivla-robot mivla-eval mivla-train; do
  "${engine[@]}" run --rm "${run_flags[@]}" "$tag" "$b" --help >/dev/null \
    || { echo "$b --help failed in the image" >&2; exit 1; }
done
step "uid 10001; mivla-server, mivla-robot, mivla-eval and mivla-train start"
if "${engine[@]}" run --rm "${run_flags[@]}" --entrypoint sh "$tag" -c 'ls /opt/mivla/models/*.mivla' >/dev/null 2>&1; then
  serve=(mivla-server --port 0 --metrics-port 19464)
  what="the bundled checkpoint"
else
  serve=(mivla-server --random-init --config tiny --port 0 --metrics-port 19464)
  what="a random-init model (no bundled checkpoint in the image)"
fi
name="mivla-image-check-$$"
"${engine[@]}" run -d --rm --name "$name" "${run_flags[@]}" --read-only --tmpfs /tmp "$tag" "${serve[@]}" >/dev/null
trap '"${engine[@]}" rm -f "$name" >/dev/null 2>&1 || true' EXIT
ok=""
for _ in $(seq 120); do
  if (exec 3<>/dev/tcp/127.0.0.1/19464 && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && cat <&3) 2>/dev/null | grep -q " 200"; then
    ok=1
    break
  fi
  sleep 1
done
logs=$("${engine[@]}" logs "$name" 2>&1 | tail -5)
"${engine[@]}" stop -t 30 "$name" >/dev/null 2>&1 || true
[ -n "$ok" ] || { echo "mivla-server in the image did not answer /healthz within 120 s:" >&2; echo "$logs" >&2; exit 1; }
echo "$logs" | grep -q '"event":"listening"' || { echo "mivla-server printed no listening line: $logs" >&2; exit 1; }
step "mivla-server in the image (read-only root, uid 10001) serves $what and answers /healthz"
step "image $tag is ready"
