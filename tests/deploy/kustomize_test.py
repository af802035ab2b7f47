#!/usr/bin/env python3
"""deploy/k8s renders with `kubectl kustomize` and the rendered objects hold together.

Renders overlays/cpu, overlays/gpu and prometheus-adapter (offline: kustomize needs no cluster), then
checks the objects:
- every pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob): CPU and memory requests and
  limits on every container, a non-root security context (runAsNonRoot, a non-zero runAsUser, no
  privilege escalation, all capabilities dropped, read-only root filesystem); long-running pods have
  readiness and liveness probes on every container but the init containers; batch pods (the trainer Job, which serves nothing
  to probe) have a deadline and a retry limit instead;
- the server: readiness is the gRPC health probe on the gRPC port, a preStop hook, and a termination
  grace period covering preStop + the server's --drain-timeout-s (read from the rendered ConfigMap)
  + a margin; every key of server.json and every flag in args is a flag of `mivla-server --help`; the
  config file, model directory and token file paths are where the volumes are mounted; OMP_NUM_THREADS
  equals the CPU limit; and mivla-server started with the rendered cpu server.json (only the cluster's
  paths and addresses overridden) runs, answers the liveness probe's path, drains for the configured
  deadline on SIGTERM and exits 0; the seed-models init container mounts the model volume writable,
  and its script, run with sh on scratch folders, copies the image's bundled checkpoint into an empty
  model folder (no temporary left behind) and leaves a folder that already holds one alone;
- Services, the headless Service and the PodDisruptionBudget select the server's pods; target ports name
  container ports; the HPA scales the Deployment on a pods metric that the prometheus-adapter rules
  serve;
- the trainer: an indexed Job with completions = parallelism = WORLD_SIZE, RANK from the completion
  index, MASTER_ADDR = the index-0 pod's stable name <job>-0.<subdomain> where the subdomain is a
  headless Service selecting the Job's pods and publishing not-ready addresses, MASTER_PORT a port of
  that Service and of the container, output_dir = the shared model volume (the PVC the server reads);
  the training config has the keys of trainer/configs/tiny_pretrain.json, and the command line is
  `mivla-train pretrain|finetune` with flags of `mivla-train --help`;
- gpu overlay: nvidia.com/gpu limits on server and trainer, --device=cuda; cpu overlay: none, device cpu.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402

K8S = os.path.join(dc.DEPLOY, "k8s")
POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet"}


def render(h, kubectl, path):
    rc, out = h.run_tool([kubectl, "kustomize", path], timeout=60)
    h.check(rc == 0, f"kubectl kustomize {os.path.relpath(path, dc.REPO)} exited {rc}: {out[-2000:]}")
    # Newer kubectl prints deprecation warnings as '# Warning:' comment lines; they are YAML comments.
    return dc.load_yaml_all(out)


def by_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def one(h, objs, kind, name_prefix, where):
    found = [o for o in by_kind(objs, kind) if o["metadata"]["name"] == name_prefix
             or (kind == "ConfigMap" and o["metadata"]["name"].startswith(name_prefix + "-"))]
    h.check(len(found) == 1, f"{where}: want one {kind} {name_prefix}, found {len(found)}")
    return found[0]


def pod_spec(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"], obj["spec"]["jobTemplate"]["spec"]["template"]
    return obj["spec"]["template"]["spec"], obj["spec"]["template"]


def cpu_cores(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def check_pod(h, where, obj):
    spec, _ = pod_spec(obj)
    psc = spec.get("securityContext", {})
    for c in spec.get("initContainers", []) + spec["containers"]:
        cw = f"{where} {obj['kind']} {obj['metadata']['name']} container {c['name']}"
        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            for r in ("cpu", "memory"):
                h.check(r in res.get(kind, {}), f"{cw}: no {r} in resources.{kind}")
        h.check(cpu_cores(res["requests"]["cpu"]) <= cpu_cores(res["limits"]["cpu"]), f"{cw}: cpu request > limit")
        csc = c.get("securityContext", {})
        h.check(csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, f"{cw}: runAsNonRoot is not true")
        uid = csc.get("runAsUser", psc.get("runAsUser"))
        h.check(isinstance(uid, int) and uid > 0, f"{cw}: runAsUser {uid!r} (want a non-zero uid)")
        h.check(csc.get("allowPrivilegeEscalation") is False, f"{cw}: allowPrivilegeEscalation is not false")
        h.check(csc.get("readOnlyRootFilesystem") is True, f"{cw}: readOnlyRootFilesystem is not true")
        h.check("ALL" in csc.get("capabilities", {}).get("drop", []), f"{cw}: capabilities.drop lacks ALL")
        h.check(csc.get("privileged") is not True, f"{cw}: privileged")
        if obj["kind"] in LONG_RUNNING and c in spec["containers"]:  # init containers run to completion
            h.check("readinessProbe" in c, f"{cw}: no readinessProbe")
            h.check("livenessProbe" in c, f"{cw}: no livenessProbe")
    if obj["kind"] in ("Job", "CronJob"):
        jspec = obj["spec"] if obj["kind"] == "Job" else obj["spec"]["jobTemplate"]["spec"]
        h.check(jspec.get("activeDeadlineSeconds", 0) > 0, f"{where} Job {obj['metadata']['name']}: no activeDeadlineSeconds")
        h.check("backoffLimit" in jspec, f"{where} Job {obj['metadata']['name']}: no backoffLimit")
    h.check(spec.get("automountServiceAccountToken") is False,
            f"{where} {obj['metadata']['name']}: the pod mounts a service account token it does not use")


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def server_flags(h, server_bin):
    rc, out = h.run_tool([server_bin, "--help"], timeout=30)
    h.check(rc == 0, f"mivla-server --help exited {rc}: {out[-500:]}")
    flags = set(re.findall(r"^\s+--([a-z0-9-]+)", out, re.M))
    h.check({"model-dir", "drain-timeout-s", "config-file", "device"} <= flags, f"--help lists {sorted(flags)}")
    return flags


def mount_of(container, volume_name):
    for m in container.get("volumeMounts", []):
        if m["name"] == volume_name:
            return m
    return None


def volume(spec, name):
    return next((v for v in spec.get("volumes", []) if v["name"] == name), None)


def file_in_configmap(h, where, objs, spec, container, path):
    """The ConfigMap key a container path comes from, as (ConfigMap, key)."""
    for m in container.get("volumeMounts", []):
        if path.startswith(m["mountPath"].rstrip("/") + "/"):
            v = volume(spec, m["name"])
            h.check(v is not None and "configMap" in v, f"{where}: {path} is not on a ConfigMap volume")
            key = path[len(m["mountPath"].rstrip("/")) + 1:]
            cms = [o for o in by_kind(objs, "ConfigMap") if o["metadata"]["name"] == v["configMap"]["name"]]
            h.check(len(cms) == 1, f"{where}: volume {m['name']} names ConfigMap {v['configMap']['name']}, "
                                   f"which the render does not contain")
            h.check(key in cms[0].get("data", {}), f"{where}: ConfigMap {v['configMap']['name']} has no key {key}")
            return cms[0], key
    raise dc.CheckFailed(f"{where}: no volume is mounted above {path}")


def under_mount(container, path):
    return any(path.startswith(m["mountPath"].rstrip("/") + "/") or path == m["mountPath"]
               for m in container.get("volumeMounts", []))


def check_server(h, where, objs, flags, adapter_metrics, gpu, server_bin, workdir):
    dep = one(h, objs, "Deployment", "mivla-server", where)
    spec, tmpl = pod_spec(dep)
    labels = tmpl["metadata"]["labels"]
    h.check(selects(dep["spec"]["selector"]["matchLabels"], labels), f"{where}: Deployment selector misses its pods")
    c = next(c for c in spec["containers"] if c["name"] == "server")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    h.check({"grpc", "metrics"} <= set(ports), f"{where}: server ports {ports}")
    rp = c["readinessProbe"]
    h.check("grpc" in rp and rp["grpc"]["port"] == ports["grpc"],
            f"{where}: readiness is not the gRPC health probe on the gRPC port: {rp}")
    # Flags: server.json from the ConfigMap, overridden by args.
    args = c.get("args", [])
    cfg_arg = [a for a in args if a.startswith("--config-file=")]
    h.check(len(cfg_arg) == 1, f"{where}: server args {args} lack one --config-file=PATH")
    cm, key = file_in_configmap(h, where, objs, spec, c, cfg_arg[0].split("=", 1)[1])
    config = json.loads(cm["data"][key])
    for k in config:
        h.check(k in flags, f"{where}: server.json key '{k}' is not a mivla-server flag")
    for a in args:
        h.check(a.startswith("--") and "=" in a and a[2:].split("=")[0] in flags,
                f"{where}: server arg '{a}' is not --FLAG=VALUE of a mivla-server flag")
        config[a[2:].split("=", 1)[0]] = a.split("=", 1)[1]
    h.check(config.get("port") is not None and int(config["port"]) == ports["grpc"], f"{where}: --port vs grpc port")
    h.check(int(config.get("metrics-port", 9464)) == ports["metrics"], f"{where}: --metrics-port vs metrics port")
    # Model directory on the shared PVC, token file on the Secret.
    mdir = config.get("model-dir", "")
    mm = next((m for m in c["volumeMounts"] if m["mountPath"] == mdir), None)
    h.check(mm is not None, f"{where}: --model-dir {mdir!r} is not a mount point")
    mv = volume(spec, mm["name"])
    h.check("persistentVolumeClaim" in mv, f"{where}: the model directory is not a PersistentVolumeClaim")
    if config.get("token-file"):
        tm = next(m for m in c["volumeMounts"] if config["token-file"].startswith(m["mountPath"] + "/"))
        h.check("secret" in volume(spec, tm["name"]), f"{where}: --token-file is not on a Secret volume")
    for f in ("tls-cert", "tls-key", "tls-client-ca", "tokenizer"):
        if config.get(f) and f != "tokenizer":
            h.check(under_mount(c, config[f]), f"{where}: --{f} {config[f]} is not on a mounted volume")
    # Drain: preStop + --drain-timeout-s + margin within the grace period.
    pre = c.get("lifecycle", {}).get("preStop", {})
    h.check(pre, f"{where}: the server has no preStop hook")
    pre_s = 0
    if "exec" in pre and pre["exec"]["command"][0].endswith("sleep"):
        pre_s = float(pre["exec"]["command"][1])
    elif "sleep" in pre:
        pre_s = float(pre["sleep"]["seconds"])
    drain = float(config.get("drain-timeout-s", 10))
    grace = spec.get("terminationGracePeriodSeconds", 30)
    h.check(grace >= pre_s + drain + 2, f"{where}: terminationGracePeriodSeconds {grace} < preStop {pre_s} s + "
                                        f"drain-timeout-s {drain} s + 2 s margin")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    h.check(env.get("OMP_NUM_THREADS") is not None
            and int(env["OMP_NUM_THREADS"]) == int(cpu_cores(c["resources"]["limits"]["cpu"])),
            f"{where}: OMP_NUM_THREADS {env.get('OMP_NUM_THREADS')} vs cpu limit {c['resources']['limits']['cpu']}")
    gpus = c["resources"]["limits"].get("nvidia.com/gpu")
    if gpu:
        h.check(gpus is not None and int(gpus) >= 1, f"{where}: the server has no nvidia.com/gpu limit")
        h.check(str(config.get("device", "")).startswith("cuda"), f"{where}: server device {config.get('device')}")
    else:
        h.check(gpus is None, f"{where}: the cpu overlay asks for a GPU")
        h.check(config.get("device") == "cpu", f"{where}: server device {config.get('device')}")
    h.check(c["image"] == ("mivla:cuda" if gpu else "mivla:cpu"), f"{where}: server image {c['image']}")
    # Services and PDB select the pods; ports resolve.
    svcs = [s for s in by_kind(objs, "Service") if s["metadata"]["name"] in ("mivla-server", "mivla-server-headless")]
    h.check(len(svcs) == 2, f"{where}: want Services mivla-server and mivla-server-headless")
    for s in svcs:
        h.check(selects(s["spec"]["selector"], labels), f"{where}: Service {s['metadata']['name']} misses the pods")
        for p in s["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            h.check(tp in ports or tp in ports.values(), f"{where}: Service port {p} targets no container port")
    headless = next(s for s in svcs if s["metadata"]["name"] == "mivla-server-headless")
    h.check(headless["spec"].get("clusterIP") == "None", f"{where}: mivla-server-headless is not headless")
    pdb = one(h, objs, "PodDisruptionBudget", "mivla-server", where)
    h.check(selects(pdb["spec"]["selector"]["matchLabels"], labels), f"{where}: the PDB misses the server pods")
    hpa = one(h, objs, "HorizontalPodAutoscaler", "mivla-server", where)
    ref = hpa["spec"]["scaleTargetRef"]
    h.check(ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"], f"{where}: HPA target {ref}")
    h.check(1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], f"{where}: HPA replica bounds")
    h.check("replicas" not in dep["spec"], f"{where}: the Deployment sets replicas, which the HPA owns")
    for m in hpa["spec"]["metrics"]:
        h.check(m["type"] == "Pods", f"{where}: HPA metric type {m['type']} (want Pods, from the adapter)")
        h.check(m["pods"]["metric"]["name"] in adapter_metrics,
                f"{where}: HPA metric {m['pods']['metric']['name']} is not served by the prometheus-adapter rules "
                f"({sorted(adapter_metrics)})")
    check_seed(h, where, spec, mm["name"], mdir, workdir)
    if not gpu:  # the gpu overlay's --device=cuda needs a CUDA LibTorch
        run_server_config(h, server_bin, cm["data"][key], c["livenessProbe"]["httpGet"]["path"], drain, workdir)
        h.log(f"{where}: mivla-server runs with the rendered server.json: /healthz answers, drains {drain:g} s, exits 0")
    return dep, mv["persistentVolumeClaim"]["claimName"]


def check_seed(h, where, spec, model_volume, model_dir, workdir):
    """The seed-models init container: mounts, then its script on scratch folders."""
    init = next((c for c in spec.get("initContainers", []) if c["name"] == "seed-models"), None)
    h.check(init is not None, f"{where}: no seed-models init container")
    if init is None:
        return
    env = {e["name"]: e.get("value") for e in init.get("env", [])}
    h.check(env.get("MODEL_DIR") == model_dir, f"{where}: seed-models MODEL_DIR {env.get('MODEL_DIR')} != {model_dir}")
    mount = mount_of(init, model_volume)
    h.check(mount is not None and mount["mountPath"] == model_dir and not mount.get("readOnly"),
            f"{where}: seed-models does not mount the model volume writable at {model_dir}")
    h.check(env.get("BUNDLED_DIR") == "/opt/mivla/models", f"{where}: seed-models BUNDLED_DIR {env.get('BUNDLED_DIR')}")
    script = init["command"][-1] if len(init["args"]) == 0 else init["args"][-1]
    root = os.path.join(workdir, "seed")
    shutil.rmtree(root, ignore_errors=True)
    bundled, models = os.path.join(root, "bundled"), os.path.join(root, "models")
    os.makedirs(bundled)
    os.makedirs(models)
    with open(os.path.join(bundled, "tiny.mivla"), "wb") as f:
        f.write(b"MIVLA" + bytes(range(256)) * 64)
    run_env = dict(os.environ, BUNDLED_DIR=bundled, MODEL_DIR=models, HOSTNAME="pod-0")

    def seed():
        return subprocess.run(["/bin/sh", "-c", script], env=run_env, capture_output=True, text=True, timeout=30)

    r = seed()
    h.check(r.returncode == 0, f"{where}: seed-models on an empty folder exited {r.returncode}: {r.stderr[-400:]}")
    h.check(sorted(os.listdir(models)) == ["tiny.mivla"], f"{where}: seeded folder holds {sorted(os.listdir(models))}")
    with open(os.path.join(bundled, "tiny.mivla"), "rb") as a, open(os.path.join(models, "tiny.mivla"), "rb") as b:
        h.check(a.read() == b.read(), f"{where}: the seeded checkpoint differs from the bundled one")
    os.remove(os.path.join(models, "tiny.mivla"))
    with open(os.path.join(models, "trained.mivla"), "wb") as f:
        f.write(b"the trainer's")
    r = seed()
    h.check(r.returncode == 0 and sorted(os.listdir(models)) == ["trained.mivla"],
            f"{where}: seed-models touched a folder that holds a checkpoint: {sorted(os.listdir(models))} "
            f"(exit {r.returncode})")
    h.log(f"{where}: seed-models seeds an empty model folder and leaves a seeded one alone")


def train_flags(h, train_bin):
    rc, out = h.run_tool([train_bin, "--help"], timeout=30)
    h.check(rc == 0, f"mivla-train --help exited {rc}: {out[-500:]}")
    flags = set(re.findall(r"^\s+--([a-z0-9-]+)", out, re.M))
    h.check({"config", "resume"} <= flags, f"mivla-train --help lists {sorted(flags)}")
    return flags


def _die_with_parent():
    """The child gets SIGKILL when this test process dies (e.g. killed by CTest on a timeout)."""
    import ctypes
    import signal
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def run_server_config(h, server_bin, config_text, liveness_path, drain_s, workdir):
    """mivla-server with the rendered server.json (the cluster-only paths and addresses overridden) starts,
    answers the liveness probe's path on its metrics port, drains with the configured deadline on SIGTERM
    and exits 0."""
    import signal
    import threading
    import urllib.request
    os.makedirs(os.path.join(workdir, "models"), exist_ok=True)
    with open(os.path.join(workdir, "server.json"), "w") as f:
        f.write(config_text)
    with open(os.path.join(workdir, "tokens"), "w") as f:
        f.write("deploy-test-token\n")
    argv = [server_bin, "--config-file", os.path.join(workdir, "server.json"), "--host", "127.0.0.1", "--port", "0",
            "--metrics-host", "127.0.0.1", "--metrics-port", "0", "--model-dir", os.path.join(workdir, "models"),
            "--token-file", os.path.join(workdir, "tokens"),
            "--tokenizer", os.path.join(dc.REPO, "core", "tokenizer", "data", "mivla_tiny_spm.model")]
    err_path = os.path.join(workdir, "server.log")
    with open(err_path, "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True,
                                preexec_fn=_die_with_parent)
    try:
        line = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)
        h.check(line and line[0], f"mivla-server with the rendered server.json printed no listening line "
                                  f"(exit {proc.poll()}; log {err_path})")
        event = json.loads(line[0])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = f"http://127.0.0.1:{event['metrics_port']}{liveness_path}"
        with opener.open(url, timeout=5) as r:
            h.check(r.status == 200, f"GET {url}: {r.status}")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=drain_s + 10)
        h.check(rc == 0, f"mivla-server exited {rc} after SIGTERM (log {err_path})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with open(err_path) as f:
        log = f.read()
    m = re.search(r"drain\w* for up to (\d+(?:\.\d+)?) ?s", log)
    h.check(m and float(m.group(1)) == drain_s, f"mivla-server did not log a drain of the configured {drain_s:g} s: "
                                                 f"{log[-800:]}")


def check_trainer(h, where, objs, model_claim, gpu, flags):
    job = one(h, objs, "Job", "mivla-trainer", where)
    js = job["spec"]
    spec, tmpl = pod_spec(job)
    h.check(js.get("completionMode") == "Indexed", f"{where}: the trainer Job is not Indexed")
    h.check(js["completions"] == js["parallelism"], f"{where}: completions {js['completions']} != parallelism")
    c = spec["containers"][0]
    env = {e["name"]: e for e in c.get("env", [])}
    h.check(int(env["WORLD_SIZE"]["value"]) == js["completions"], f"{where}: WORLD_SIZE != completions")
    rank = env.get("RANK", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath", "")
    h.check("job-completion-index" in rank, f"{where}: RANK does not come from the completion index: {rank!r}")
    sub = spec.get("subdomain")
    h.check(sub, f"{where}: the trainer pods have no subdomain (no stable pod names)")
    h.check(env["MASTER_ADDR"]["value"] == f"{job['metadata']['name']}-0.{sub}",
            f"{where}: MASTER_ADDR {env['MASTER_ADDR']['value']} is not the index-0 pod {job['metadata']['name']}-0.{sub}")
    svc = one(h, objs, "Service", sub, where)
    h.check(svc["spec"].get("clusterIP") == "None", f"{where}: Service {sub} is not headless")
    h.check(svc["spec"].get("publishNotReadyAddresses") is True, f"{where}: Service {sub} hides not-ready pods")
    h.check(selects(svc["spec"]["selector"], tmpl["metadata"]["labels"]), f"{where}: Service {sub} misses the trainer pods")
    port = int(env["MASTER_PORT"]["value"])
    h.check(port in [p["port"] for p in svc["spec"]["ports"]], f"{where}: MASTER_PORT {port} not a port of {sub}")
    h.check(port in [p["containerPort"] for p in c.get("ports", [])], f"{where}: MASTER_PORT {port} not a container port")
    h.check(c["command"] == ["mivla-train"] and c["args"][0] in ("pretrain", "finetune"),
            f"{where}: trainer command {c['command']} {c['args'][:1]}")
    for a in c["args"][1:]:
        if a.startswith("--"):
            name = a[2:].split("=", 1)[0]
            h.check(name in flags or (name.startswith("no-") and name[3:] in flags),
                    f"{where}: trainer arg {a} is not a mivla-train flag")
    cfg_path = c["args"][c["args"].index("--config") + 1]
    cm, key = file_in_configmap(h, where, objs, spec, c, cfg_path)
    cfg = json.loads(cm["data"][key])
    ref_path = os.path.join(dc.REPO, "trainer", "configs", "tiny_pretrain.json")
    if os.path.exists(ref_path):
        with open(ref_path) as f:
            ref = json.load(f)
        h.check(set(cfg) == set(ref) and set(cfg["data"]) == set(ref["data"]),
                f"{where}: {key} keys differ from trainer/configs/tiny_pretrain.json: "
                f"{sorted(set(cfg) ^ set(ref))} {sorted(set(cfg['data']) ^ set(ref['data']))}")
    else:
        h.log(f"{where}: trainer/configs/tiny_pretrain.json is not in this tree; {key} keys not compared")
    out = next((m for m in c["volumeMounts"] if m["mountPath"] == cfg["output_dir"]), None)
    h.check(out is not None and not out.get("readOnly"), f"{where}: output_dir {cfg['output_dir']} is not a writable mount")
    claim = volume(spec, out["name"]).get("persistentVolumeClaim", {}).get("claimName")
    h.check(claim == model_claim, f"{where}: the trainer writes to PVC {claim}, the server reads {model_claim}")
    for s in cfg["data"]["sources"]:
        h.check(under_mount(c, s["path"]), f"{where}: data source {s['path']} is not on a mounted volume")
    pvc = one(h, objs, "PersistentVolumeClaim", model_claim, where)
    h.check("ReadWriteMany" in pvc["spec"]["accessModes"], f"{where}: {model_claim} is not ReadWriteMany")
    gpus = c["resources"]["limits"].get("nvidia.com/gpu")
    h.check((gpus is not None) == gpu, f"{where}: trainer nvidia.com/gpu limit {gpus} in the {'gpu' if gpu else 'cpu'} overlay")


def body(h):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--server", required=True, help="mivla-server binary (for --help)")
    ap.add_argument("--train", required=True, help="mivla-train binary (for --help)")
    ap.add_argument("--workdir", required=True, help="scratch folder (emptied first)")
    args = ap.parse_args()
    h.require_tool(args.kubectl, "kubernetes-client")
    h.require_tool(args.server, "(build target mivla-server)")
    h.require_tool(args.train, "(build target mivla-train)")
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    flags = server_flags(h, args.server)
    tflags = train_flags(h, args.train)

    adapter = render(h, args.kubectl, os.path.join(K8S, "prometheus-adapter"))
    cm = one(h, adapter, "ConfigMap", "mivla-adapter-config", "prometheus-adapter")
    rules = dc.load_yaml_all(cm["data"]["config.yaml"])[0]["rules"]
    adapter_metrics = set()
    for r in rules:
        sel, _ = dc.parse_promql(r["seriesQuery"])
        adapter_metrics.add(r.get("name", {}).get("as") or sel[0].metric)
        h.check({"namespace", "pod"} <= set(r["resources"]["overrides"]), "adapter rule maps no namespace/pod")
    counts = {}
    for overlay, gpu in (("cpu", False), ("gpu", True)):
        objs = render(h, args.kubectl, os.path.join(K8S, "overlays", overlay))
        where = f"overlays/{overlay}"
        pods = [o for o in objs if o.get("kind") in POD_KINDS]
        h.check(len(pods) >= 2, f"{where}: {len(pods)} pod templates")
        for o in pods:
            check_pod(h, where, o)
        for o in objs:
            if o["kind"] != "Namespace":
                h.check(o["metadata"].get("namespace") == "mivla", f"{where}: {o['kind']} {o['metadata']['name']} "
                                                                   f"outside namespace mivla")
        _, claim = check_server(h, where, objs, flags, adapter_metrics, gpu, args.server, args.workdir)
        check_trainer(h, where, objs, claim, gpu, tflags)
        counts[overlay] = len(objs)
        h.log(f"{where}: {len(objs)} objects, {len(pods)} pod templates checked")
    h.figures["objects"] = counts


if __name__ == "__main__":
    dc.Checks("deploy_kustomize").run(body)
