#!/usr/bin/env python3
"""deploy/grafana: the provisioned dashboards are well-formed Grafana dashboards whose every panel
queries valid PromQL, and they show what the deployment must show.

Grafana itself is not packaged in Debian bookworm, so no real Grafana loads the files here; instead the
dashboard JSON is held to the structure Grafana's dashboard model (schemaVersion 37) reads:
- top level: uid (Grafana's 40-character id alphabet), title, schemaVersion, time, panels, templating;
- panels: unique integer ids, a known panel type, a gridPos inside the 24-column grid with no two panels
  overlapping, a datasource that is the dashboard's datasource variable, and at least one target, each
  with a refId unique in the panel and a non-empty PromQL expr; every $variable a query uses is defined;
- every query (Grafana variables replaced by what they stand for) is written into a rule file as a
  recording rule and must pass `promtool check rules` (Prometheus' own PromQL parser);
- the panels cover the issue's list: stage latency p50 and p99, throughput, batch sizes, queue depth,
  sessions by embodiment, model version over time, success rate by embodiment and task, and, where the
  robot client exposes them, stale-chunk holds and safety clamps;
- the provisioning files: the datasource's uid is the dashboard's default datasource, and the
  dashboard provider loads files from a folder.
(Whether each metric exists on a live server is tests/deploy/live_metrics_test.py.)
"""

import argparse
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_common as dc  # noqa: E402

PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "state-timeline", "status-history", "heatmap",
               "text", "row", "barchart", "piechart", "histogram"}
BUILTIN_VARS = {"__rate_interval", "__interval", "__range", "__interval_ms", "__range_s", "__dashboard"}
# (what, metric, grouping labels that must appear, extra regex the query must match)
REQUIRED = [
    ("stage latency p50", "mivla_stage_latency_seconds_bucket", {"stage"}, r"histogram_quantile\(0\.5,"),
    ("stage latency p99", "mivla_stage_latency_seconds_bucket", {"stage"}, r"histogram_quantile\(0\.99,"),
    ("throughput", "mivla_requests_total", {"rpc"}, r"rate\("),
    ("batch sizes", "mivla_batch_size_bucket", {"stage"}, r""),
    ("queue depth", "mivla_queue_depth", {"stage"}, r""),
    ("late Acts", "mivla_late_acts_total", set(), r"rate\("),
    ("sessions by embodiment", "mivla_active_sessions", {"embodiment"}, r""),
    ("model version over time", "mivla_model_info", {"version"}, r""),
    ("success rate by embodiment and task", "mivla_episode_successes_total", {"embodiment", "task"}, r"/"),
]
REQUIRED_CLIENT = [
    ("client stale-chunk holds", "mivla_client_stale_chunk_holds_total", set(), r""),
    ("client safety clamps", "mivla_client_safety_clamps_total", {"kind"}, r""),
]


def overlaps(a, b):
    return not (a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"] or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"])


def check_dashboard(h, path, d):
    name = os.path.basename(path)
    h.check(isinstance(d.get("uid"), str) and re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d["uid"]), f"{name}: uid {d.get('uid')!r}")
    h.check(isinstance(d.get("title"), str) and d["title"], f"{name}: no title")
    h.check(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 30, f"{name}: schemaVersion")
    h.check({"from", "to"} <= set(d.get("time", {})), f"{name}: no time range")
    h.check(d.get("id") in (None,), f"{name}: a provisioned dashboard must not carry a database id")
    variables = {v["name"]: v for v in d.get("templating", {}).get("list", [])}
    ds_vars = [n for n, v in variables.items() if v.get("type") == "datasource"]
    h.check(len(ds_vars) == 1 and variables[ds_vars[0]].get("query") == "prometheus",
            f"{name}: want one Prometheus datasource variable, have {ds_vars}")
    ds_ref = "${" + ds_vars[0] + "}"
    for v in variables.values():
        if v.get("type") == "query":
            h.check(v.get("datasource", {}).get("uid") == ds_ref, f"{name}: variable {v['name']} datasource")
    panels = dc.panels_flat(d)
    h.check(panels, f"{name}: no panels")
    ids = [p.get("id") for p in panels]
    h.check(all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids), f"{name}: panel ids {ids}")
    boxes = []
    for p in panels:
        where = f"{name} panel {p.get('id')} '{p.get('title')}'"
        h.check(p.get("type") in PANEL_TYPES, f"{where}: type {p.get('type')!r}")
        h.check(isinstance(p.get("title"), str) and p["title"], f"{where}: no title")
        g = p.get("gridPos", {})
        h.check(all(isinstance(g.get(k), int) for k in "xywh") and g["x"] >= 0 and g["y"] >= 0 and g["w"] > 0
                and g["h"] > 0 and g["x"] + g["w"] <= 24, f"{where}: gridPos {g}")
        for other_where, og in boxes:
            h.check(not overlaps(g, og), f"{where} overlaps {other_where}")
        boxes.append((where, g))
        if p["type"] in ("row", "text"):
            continue
        h.check(p.get("datasource", {}).get("uid") == ds_ref, f"{where}: datasource {p.get('datasource')}")
        targets = p.get("targets", [])
        h.check(targets, f"{where}: no query")
        refs = [t.get("refId") for t in targets]
        h.check(len(set(refs)) == len(refs) and all(refs), f"{where}: refIds {refs}")
        for t in targets:
            h.check(isinstance(t.get("expr"), str) and t["expr"].strip(), f"{where} {t.get('refId')}: empty expr")
            for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", t["expr"]):
                h.check(var in variables or var in BUILTIN_VARS, f"{where}: ${var} is not a dashboard variable")
        h.check("unit" in p.get("fieldConfig", {}).get("defaults", {}), f"{where}: no unit")
    return variables


def coverage(h, dashboards, require_client):
    queries = []
    for _, d in dashboards:
        for p in dc.panels_flat(d):
            for t in p.get("targets", []):
                queries.append((p["title"], t["expr"]))
    required = REQUIRED + (REQUIRED_CLIENT if require_client else [])
    for what, metric, labels, pattern in required:
        hits = []
        for title, expr in queries:
            sels, grouping = dc.parse_promql(dc.grafana_to_promql(expr))
            if any(s.metric == metric for s in sels) and labels <= grouping and re.search(pattern, expr):
                hits.append(title)
        h.check(hits, f"no dashboard panel shows {what} ({metric} by {sorted(labels)})")


def body(h):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--promtool", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    h.require_tool(args.promtool, "prometheus")
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    boards = dc.dashboards()
    h.check(boards, f"no dashboard JSON in {dc.DASHBOARD_DIR}")
    defaults = set()
    rules = []
    for path, d in boards:
        variables = check_dashboard(h, path, d)
        for v in variables.values():
            if v.get("type") == "datasource":
                defaults.add(v.get("current", {}).get("value"))
        for n, (where, q) in enumerate(dc.dashboard_queries(d)):
            rules.append({"record": f"dashboard:{re.sub(r'[^a-z0-9]', '_', d['uid'])}:{n}", "expr": q, "_where": where})
    import yaml
    rule_file = os.path.join(args.workdir, "dashboard-queries.yml")
    with open(rule_file, "w") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [{k: v for k, v in r.items() if k != "_where"}
                                                                   for r in rules]}]}, f)
    rc, out = h.run_tool([args.promtool, "check", "rules", rule_file])
    h.check(rc == 0, f"promtool rejects a dashboard query ({rule_file} lists them in order: "
                     f"{[r['_where'] for r in rules]}): {out}")
    h.check(f"SUCCESS: {len(rules)} rules found" in out, f"promtool check rules: {out}")
    h.log(f"{len(boards)} dashboard(s): structure OK; promtool parses all {len(rules)} queries")
    has_client = any(s.metric.startswith("mivla_client_") for _, d in boards for _, q in dc.dashboard_queries(d)
                     for s in dc.parse_promql(q)[0])
    coverage(h, boards, require_client=has_client)
    h.figures["panels"] = sum(len([p for p in dc.panels_flat(d) if p["type"] != "row"]) for _, d in boards)
    h.figures["queries"] = len(rules)

    prov = os.path.join(dc.DEPLOY, "grafana", "provisioning")
    ds = dc.load_yaml(os.path.join(prov, "datasources", "mivla-prometheus.yml"))
    h.check(ds.get("apiVersion") == 1, "datasource provisioning apiVersion")
    uids = {s["uid"] for s in ds["datasources"] if s.get("type") == "prometheus"}
    h.check(defaults <= uids, f"the dashboards default to datasource {defaults}, provisioning defines {uids}")
    prov_d = dc.load_yaml(os.path.join(prov, "dashboards", "mivla.yml"))
    h.check(prov_d.get("apiVersion") == 1 and prov_d["providers"], "dashboard provisioning apiVersion/providers")
    for p in prov_d["providers"]:
        h.check(p.get("type") == "file" and p.get("options", {}).get("path"), f"dashboard provider {p}")
    h.log("provisioning: datasource uid and dashboard provider OK")


if __name__ == "__main__":
    dc.Checks("deploy_dashboard").run(body)
