#!/usr/bin/env python3
"""The Dockerfile is consistent with the build and the deployment (no container engine runs here, so the
image itself is not built by the tests).

- Two stages: a debian:bookworm builder that installs scripts/debian-packages.txt through
  scripts/install-deps.sh, and a debian:bookworm-slim runtime stage; no HEALTHCHECK; the final USER is a
  numeric non-root uid:gid equal to runAsUser/runAsGroup in deploy/k8s; a LIBTORCH build argument.
- The binaries the image installs (MIVLA_BINARIES) are built here (--bin-dir), and every Debian package
  owning a shared library they link (readelf NEEDED, resolved through the loader cache, then dpkg -S) is
  in deploy/docker/runtime-packages.txt, whose packages all exist in bookworm (installed here).
- The data folders the image copies (MIVLA_DATA) exist, and the paths the image and the Kubernetes
  server and trainer configs point into /opt/mivla (tokenizer, embodiment and client config folders)
  are inside them.
- .dockerignore keeps build outputs and .git out and nothing the Dockerfile copies.

--print BINARY... prints the packages the binaries' libraries come from (to refresh the list).
"""

import argparse
import fnmatch
import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402

DOCKERFILE = os.path.join(dc.REPO, "Dockerfile")
DOCKERIGNORE = os.path.join(dc.REPO, ".dockerignore")
RUNTIME_LIST = os.path.join(dc.DEPLOY, "docker", "runtime-packages.txt")


def instructions(path):
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for line in f:
            s = line.rstrip("\n")
            if not cur and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if s.lstrip().startswith("#"):
                continue
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            cur += s
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def arg_default(instrs, name):
    for word, rest in instrs:
        if word == "ARG" and rest.split("=", 1)[0] == name and "=" in rest:
            return rest.split("=", 1)[1].strip().strip('"')
    return None


def needed_packages(binaries):
    """{package: [sonames]} owning the NEEDED libraries of the binaries; raises on an unowned library."""
    cache = {}
    for line in subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.match(r"\s*(\S+) \((libc6,x86-64|libc6,AArch64|libc6)[^)]*\) => (\S+)", line)
        if m:
            cache.setdefault(m.group(1), m.group(3))
    sonames = set()
    for b in binaries:
        out = subprocess.run(["readelf", "-d", b], capture_output=True, text=True, check=True).stdout
        sonames |= set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))
    variants = {}
    for so in sorted(sonames):
        path = cache.get(so)
        if path is None:
            raise dc.CheckFailed(f"{so} (linked by {binaries}) is not in the loader cache")
        vs = set()
        for p in (path, os.path.realpath(path)):
            vs |= {p, "/usr" + p if p.startswith("/lib") else p, p[4:] if p.startswith("/usr/lib") else p}
        variants[so] = vs
    r = subprocess.run(["dpkg", "-S"] + sorted(set().union(*variants.values())), capture_output=True, text=True)
    owner = {}
    for line in r.stdout.splitlines():
        pkgs, _, f = line.partition(": ")
        owner.setdefault(f, set()).update(p.split(":")[0] for p in pkgs.split(", "))
    result = {}
    for so, vs in variants.items():
        pk = set().union(*[owner.get(v, set()) for v in vs])
        if not pk:
            raise dc.CheckFailed(f"no Debian package owns {so} ({sorted(vs)})")
        for p in pk:
            result.setdefault(p, []).append(so)
    return result


def strings(value):
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [s for v in value for s in strings(v)] if isinstance(value, list) else []


def read_list(path):
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]


def body(h):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin-dir", help="folder of the built binaries (build/bin)")
    ap.add_argument("--print", nargs="+", metavar="BINARY", help="print the runtime packages of these binaries")
    args = ap.parse_args()
    if args.print:
        for p in sorted(needed_packages(args.print)):
            print(p)
        sys.exit(0)
    if not args.bin_dir:
        h.fatal("--bin-dir is required")

    ins = instructions(DOCKERFILE)
    froms = [rest for w, rest in ins if w == "FROM"]
    h.check(len(froms) >= 2, f"Dockerfile: want a builder and a runtime stage, FROM lines: {froms}")
    h.check(re.fullmatch(r"debian:bookworm AS builder", froms[0], re.I), f"Dockerfile: first stage {froms[0]!r}")
    h.check(re.fullmatch(r"debian:bookworm-slim AS runtime", froms[-1], re.I), f"Dockerfile: last stage {froms[-1]!r}")
    h.check(not any(w == "HEALTHCHECK" for w, _ in ins), "Dockerfile: HEALTHCHECK (probes belong to Kubernetes)")
    h.check(arg_default(ins, "LIBTORCH") == "debian", "Dockerfile: no ARG LIBTORCH=debian")
    last_from = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    final = ins[last_from:]
    builder = ins[:last_from]
    h.check(any(w == "COPY" and "scripts/install-deps.sh" in r and "scripts/debian-packages.txt" in r for w, r in builder)
            and any(w == "RUN" and "scripts/install-deps.sh" in r for w, r in builder),
            "Dockerfile: the builder does not install through scripts/install-deps.sh")
    h.check(any(w == "COPY" and "deploy/docker/runtime-packages.txt" in r for w, r in final),
            "Dockerfile: the runtime stage does not install deploy/docker/runtime-packages.txt")
    users = [r for w, r in final if w == "USER"]
    h.check(users and re.fullmatch(r"\d+:\d+", users[-1]), f"Dockerfile: final USER {users[-1:]} (want numeric uid:gid)")
    uid, gid = (int(x) for x in users[-1].split(":"))
    h.check(uid > 0 and gid > 0, "Dockerfile: the image runs as root")
    k8s = []
    for f in glob.glob(os.path.join(dc.DEPLOY, "k8s", "base", "*.yaml")):
        with open(f) as fh:
            text = fh.read()
        k8s += [(os.path.basename(f), int(u)) for u in re.findall(r"runAs(?:User|Group): (\d+)", text)]
    h.check(k8s and all(v in (uid, gid) for _, v in k8s), f"runAsUser/runAsGroup in deploy/k8s {k8s} vs image {uid}:{gid}")

    binaries = arg_default(ins, "MIVLA_BINARIES").split()
    h.check({"mivla-server", "mivla-robot", "mivla-eval"} <= set(binaries), f"MIVLA_BINARIES {binaries}")
    paths = []
    for b in binaries:
        p = os.path.join(args.bin_dir, b)
        h.check(os.access(p, os.X_OK), f"the image installs {b}, which is not built in {args.bin_dir} (a build target?)")
        paths.append(p)
    listed = read_list(RUNTIME_LIST)
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n"] + listed, capture_output=True, text=True)
    installed = {l.split()[0] for l in r.stdout.splitlines() if l.endswith("install ok installed")}
    for p in listed:
        h.check(p in installed, f"runtime-packages.txt: {p} is not an installed bookworm package here")
    needed = needed_packages(paths)
    for p, sos in sorted(needed.items()):
        h.check(p in listed, f"deploy/docker/runtime-packages.txt lacks {p} (owner of {', '.join(sos)}, linked by "
                             f"{', '.join(binaries)})")
    h.figures["runtime_packages"] = len(listed)
    h.figures["linked_packages"] = len(needed)
    h.log(f"{len(binaries)} binaries link libraries of {len(needed)} packages, all in the runtime list of {len(listed)}")

    data = arg_default(ins, "MIVLA_DATA").split()
    for d in data:
        h.check(os.path.isdir(os.path.join(dc.REPO, d)), f"MIVLA_DATA names {d}, which is not a folder of the repository")
    in_image = []
    for w, r in final:
        in_image += re.findall(r"/opt/mivla/[\w./-]+", r)
    for name in ("server.json", "pretrain.json"):  # the Kubernetes configs of mivla-server and mivla-train
        with open(os.path.join(dc.DEPLOY, "k8s", "base", name)) as f:
            in_image += [v for v in strings(json.load(f)) if v.startswith("/opt/mivla/")]
    for p in set(in_image):
        rel = p[len("/opt/mivla/"):].rstrip("/")
        if rel == "models":
            continue
        h.check(any(rel == d or rel.startswith(d + "/") for d in data), f"{p} is not inside a MIVLA_DATA folder {data}")
        h.check(os.path.exists(os.path.join(dc.REPO, rel)), f"{p}: {rel} does not exist in the repository")

    patterns = read_list(DOCKERIGNORE)
    for must in ("build", ".git"):
        h.check(must in patterns, f".dockerignore does not exclude {must}")
    copied = ["scripts/install-deps.sh", "scripts/debian-packages.txt", "deploy/docker/runtime-packages.txt",
              "CMakeLists.txt"] + data
    for c in copied:
        for pat in patterns:
            h.check(not fnmatch.fnmatch(c, pat.rstrip("/")) and not c.startswith(pat.rstrip("/") + "/"),
                    f".dockerignore pattern {pat} excludes {c}, which the build needs")


if __name__ == "__main__":
    dc.Checks("deploy_runtime_image").run(body)
