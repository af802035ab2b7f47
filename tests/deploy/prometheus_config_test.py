#!/usr/bin/env python3
"""deploy/prometheus: promtool accepts the config and the rules, the rules' unit tests pass and bite,
and the Kubernetes discovery finds the server pods that deploy/k8s renders.

- `promtool check rules` on rules/mivla-alerts.yml and `promtool test rules` on tests/mivla-alerts-test.yml.
- Every alert has unit tests that show it firing (a non-empty exp_alerts), not firing (an empty one),
  and, beside the firing target, a healthy input target for which nothing fires (promtool compares the
  whole set of firing alerts, so an alert on the healthy one fails the test). Then each alert's
  expression is replaced by one that never fires and `promtool test rules` must fail: the firing
  expectations are really checked.
- `promtool check config` on prometheus.yml. Debian's Prometheus is built without Kubernetes service
  discovery, so its promtool rejects `kubernetes_sd_configs`: the check runs on a copy where each such
  block is replaced by static targets (everything else, relabelling and the file_sd robot list
  included, is checked as written), and the Kubernetes blocks are checked here: known roles, selector
  syntax, and a simulation of discovery + relabelling over the pods that `kubectl kustomize
  deploy/k8s/overlays/cpu` renders: the mivla-server job must find each server pod once, on the metrics
  port, with the namespace and pod labels the prometheus-adapter rules map to pods, and no trainer pod.
- Every job="..." matcher in the rules and dashboards names a job of prometheus.yml.
"""

import argparse
import copy
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402

PROM_DIR = os.path.join(dc.DEPLOY, "prometheus")
K8S_ROLES = {"node", "service", "pod", "endpoints", "endpointslice", "ingress"}


def alert_coverage(h):
    rules = [r["alert"] for g in dc.load_yaml(dc.ALERT_RULES)["groups"] for r in g["rules"] if "alert" in r]
    tests = dc.load_yaml(dc.ALERT_TESTS)["tests"]
    for alert in rules:
        fired, silent, healthy = False, False, False
        for group in tests:
            series = []
            for s in group.get("input_series", []):
                sel, _ = dc.parse_promql(s["series"])
                series.append({l: v for l, _, v in sel[0].matchers})
            for t in group.get("alert_rule_test", []):
                if t["alertname"] != alert:
                    continue
                exp = [{k: str(v) for k, v in a.get("exp_labels", {}).items() if k != "severity"}
                       for a in t.get("exp_alerts") or []]
                if not exp:
                    silent = True
                    continue
                fired = True
                for s in series:
                    shared = [set(e) & set(s) for e in exp]
                    if any(shared) and not any(k and all(s[x] == e[x] for x in k) for k, e in zip(shared, exp)):
                        healthy = True
        h.check(fired, f"{alert}: no unit test shows it firing")
        h.check(silent, f"{alert}: no unit test shows it silent (exp_alerts: [])")
        h.check(healthy, f"{alert}: its firing test has no healthy input target beside the broken one")
    return rules


def mutation_check(h, promtool, alerts, workdir):
    """Each alert replaced by a never-firing expression must fail its unit tests."""
    import yaml
    base = dc.load_yaml(dc.ALERT_RULES)
    os.makedirs(os.path.join(workdir, "rules"), exist_ok=True)
    os.makedirs(os.path.join(workdir, "tests"), exist_ok=True)
    tests = dc.load_yaml(dc.ALERT_TESTS)
    test_file = os.path.join(workdir, "tests", os.path.basename(dc.ALERT_TESTS))
    for alert in alerts:
        own = dict(tests, tests=[g for g in tests["tests"]
                                 if any(t["alertname"] == alert for t in g.get("alert_rule_test", []))])
        with open(test_file, "w") as f:  # only the groups testing this alert: the others would pass anyway
            yaml.safe_dump(own, f)
        mutated = copy.deepcopy(base)
        for g in mutated["groups"]:
            for r in g["rules"]:
                if r.get("alert") == alert:
                    r["expr"] = "vector(0) > 1"
        with open(os.path.join(workdir, "rules", os.path.basename(dc.ALERT_RULES)), "w") as f:
            yaml.safe_dump(mutated, f)
        rc, out = h.run_tool([promtool, "test", "rules", test_file])
        h.check(rc != 0, f"{alert}: its unit tests still pass when the alert can never fire")


def strip_k8s_sd(config):
    """A copy of the config with kubernetes_sd_configs blocks replaced by a static target."""
    out = copy.deepcopy(config)
    for job in out.get("scrape_configs", []):
        if job.pop("kubernetes_sd_configs", None) is not None:
            job.setdefault("static_configs", []).append({"targets": ["k8s-discovered.invalid:9464"]})
    return out


def _replacement(rep):
    return re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", rep)


def relabel(labels, configs):
    """Prometheus relabelling (replace, keep, drop, labelmap, labeldrop, labelkeep); None if dropped."""
    labels = dict(labels)
    for c in configs:
        action = c.get("action", "replace")
        regex = re.compile(c.get("regex", "(.*)"))
        value = c.get("separator", ";").join(labels.get(s, "") for s in c.get("source_labels", []))
        if action == "keep" and not regex.fullmatch(value):
            return None
        if action == "drop" and regex.fullmatch(value):
            return None
        if action == "replace":
            m = regex.fullmatch(value)
            if m:
                new = m.expand(_replacement(c.get("replacement", "$1")))
                if new:
                    labels[c["target_label"]] = new
                else:
                    labels.pop(c["target_label"], None)
        if action == "labelmap":
            for k in list(labels):
                m = regex.fullmatch(k)
                if m:
                    labels[m.expand(_replacement(c.get("replacement", "$1")))] = labels[k]
        if action == "labeldrop":
            labels = {k: v for k, v in labels.items() if not regex.fullmatch(k)}
        if action == "labelkeep":
            labels = {k: v for k, v in labels.items() if regex.fullmatch(k)}
    return labels


def _sanitize(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def discovered_pod_targets(objs):
    """What Kubernetes pod discovery reports for one replica of each rendered pod template."""
    targets = []
    for o in objs:
        if o.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            continue
        tmpl = o["spec"]["template"]
        name = f"{o['metadata']['name']}-0"
        for c in tmpl["spec"]["containers"]:
            for p in c.get("ports", []):
                t = {"__address__": f"10.1.0.7:{p['containerPort']}",
                     "__meta_kubernetes_namespace": o["metadata"]["namespace"],
                     "__meta_kubernetes_pod_name": name,
                     "__meta_kubernetes_pod_phase": "Running",
                     "__meta_kubernetes_pod_node_name": "node-1",
                     "__meta_kubernetes_pod_container_name": c["name"],
                     "__meta_kubernetes_pod_container_port_name": p.get("name", ""),
                     "__meta_kubernetes_pod_container_port_number": str(p["containerPort"])}
                for k, v in tmpl["metadata"].get("labels", {}).items():
                    t[f"__meta_kubernetes_pod_label_{_sanitize(k)}"] = v
                t["_labels"] = tmpl["metadata"].get("labels", {})
                targets.append(t)
    return targets


def check_k8s_sd(h, config, objs, adapter_labels):
    server_found = None
    for job in config["scrape_configs"]:
        for sd in job.get("kubernetes_sd_configs", []):
            h.check(sd.get("role") in K8S_ROLES, f"job {job['job_name']}: kubernetes_sd role {sd.get('role')!r}")
            h.check(sd["role"] == "pod", f"job {job['job_name']}: the simulation below covers role pod only")
            for s in sd.get("selectors", []):
                h.check(s.get("role") == sd["role"], f"job {job['job_name']}: selector role {s.get('role')}")
                h.check(re.fullmatch(r"[\w./-]+(=|!=)[\w.-]*(,[\w./-]+(=|!=)[\w.-]*)*", s.get("label", "")),
                        f"job {job['job_name']}: label selector {s.get('label')!r}")
        if not job.get("kubernetes_sd_configs"):
            continue
        sd = job["kubernetes_sd_configs"][0]
        kept = []
        for t in discovered_pod_targets(objs):
            names = sd.get("namespaces", {}).get("names")
            if names and t["__meta_kubernetes_namespace"] not in names:
                continue
            ok = True
            for s in sd.get("selectors", []):
                for term in s.get("label", "").split(","):
                    if term:
                        k, op, v = re.match(r"([^!=]+)(!=|=)(.*)", term).groups()
                        ok &= (t["_labels"].get(k) == v) == (op == "=")
            if not ok:
                continue
            out = relabel({k: v for k, v in t.items() if k != "_labels"}, job.get("relabel_configs", []))
            if out is not None:
                kept.append(out)
        if job["job_name"] == "mivla-server":
            server_found = kept
    h.check(server_found is not None, "prometheus.yml has no mivla-server job with Kubernetes discovery")
    h.check(len(server_found) == 1, f"job mivla-server keeps {len(server_found)} targets from one server pod and one "
                                    f"trainer pod (want exactly the server's metrics port): {server_found}")
    t = server_found[0]
    h.check(t["__address__"].endswith(":9464"), f"job mivla-server scrapes {t['__address__']}, not the metrics port")
    h.check(t.get("namespace") == "mivla" and t.get("pod") == "mivla-server-0", f"job mivla-server target labels {t}")
    h.check(adapter_labels <= set(t), f"the adapter maps {sorted(adapter_labels)}, the target has {sorted(t)}")


def body(h):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--promtool", required=True)
    ap.add_argument("--kubectl", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    h.require_tool(args.promtool, "prometheus")
    h.require_tool(args.kubectl, "kubernetes-client")
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)

    rc, out = h.run_tool([args.promtool, "check", "rules", dc.ALERT_RULES])
    h.check(rc == 0, f"promtool check rules: {out}")
    m = re.search(r"SUCCESS: (\d+) rules found", out)
    h.figures["rules"] = int(m.group(1)) if m else None
    rc, out = h.run_tool([args.promtool, "test", "rules", dc.ALERT_TESTS])
    h.check(rc == 0, f"promtool test rules: {out}")
    alerts = alert_coverage(h)
    h.log(f"promtool check rules + test rules: OK; {len(alerts)} alerts each fire, stay silent, spare a healthy target")
    mutation_check(h, args.promtool, alerts, os.path.join(args.workdir, "mutants"))
    h.log(f"each of the {len(alerts)} alerts made unable to fire fails its unit tests")
    h.figures["alerts"] = len(alerts)

    import yaml
    config = dc.load_yaml(dc.PROMETHEUS_CONFIG)
    copy_dir = os.path.join(args.workdir, "config")
    shutil.copytree(PROM_DIR, copy_dir)
    stripped = os.path.join(copy_dir, "prometheus.yml")
    with open(stripped, "w") as f:
        yaml.safe_dump(strip_k8s_sd(config), f)
    rc, out = h.run_tool([args.promtool, "check", "config", stripped])
    h.check(rc == 0, f"promtool check config (Kubernetes discovery replaced by static targets): {out}")
    h.check("SUCCESS" in out and "rules found" in out, f"promtool check config did not read the rule files: {out}")
    h.log("promtool check config: OK")

    rc, out = h.run_tool([args.kubectl, "kustomize", os.path.join(dc.DEPLOY, "k8s", "overlays", "cpu")])
    h.check(rc == 0, f"kubectl kustomize overlays/cpu: {out[-1000:]}")
    objs = dc.load_yaml_all(out)
    adapter = dc.load_yaml(dc.ADAPTER_CONFIG)
    adapter_labels = set().union(*[set(r["resources"]["overrides"]) for r in adapter["rules"]])
    check_k8s_sd(h, config, objs, adapter_labels)
    h.log("Kubernetes discovery + relabelling finds the server pod's metrics port with namespace and pod labels")

    jobs = {j["job_name"] for j in config["scrape_configs"]}
    queries = dc.alert_queries() + dc.adapter_queries()
    for path, dash in dc.dashboards():
        queries += dc.dashboard_queries(dash)
    for where, q in queries:
        for sel in dc.parse_promql(q)[0]:
            for label, op, value in sel.matchers:
                if label == "job" and op == "=":
                    h.check(value in jobs, f"{where}: job=\"{value}\" is not a job of prometheus.yml ({sorted(jobs)})")
                if label == "job" and op == "=~":
                    h.check(any(re.fullmatch(value, j) for j in jobs), f"{where}: job=~\"{value}\" matches no job")


if __name__ == "__main__":
    dc.Checks("deploy_prometheus").run(body)
