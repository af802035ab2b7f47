#!/usr/bin/env python3
"""Every metric that deploy/ queries exists on a live mivla-server's /metrics.

Starts build/bin/mivla-server --random-init --config tiny on free ports (tests/server/server_harness.py),
makes one StartSession / Observe / Act / ReportEpisode so the labelled series exist, scrapes /metrics,
and holds against it every selector in the alert rules (deploy/prometheus/rules), the Grafana
dashboards' panel and variable queries (deploy/grafana/dashboards) and the prometheus-adapter rules
(deploy/k8s/prometheus-adapter): the metric exists (a family, or a histogram's _bucket/_sum/_count),
every label a matcher or a by/on clause names is on it (or is one Prometheus adds: job, instance and the
Kubernetes labels of deploy/prometheus/prometheus.yml), and every `label="value"` matcher names a value
the server really exposes (a typo such as stage="decoding" fails). Robot-client metrics
(mivla_client_*) are held against a live mivla-robot the same way when --robot names one.
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))

import deploy_common as dc  # noqa: E402
import server_harness as sh  # noqa: E402

EXTRA = [(("--robot",), {"default": "", "help": "mivla-robot binary (empty: client metrics not checked)"})]

# Labels Prometheus attaches to scraped series (target labels and the relabelling in prometheus.yml).
SERVER_TARGET_LABELS = {"job", "instance", "namespace", "pod", "node"}
ROBOT_TARGET_LABELS = {"job", "instance", "namespace", "pod", "robot", "embodiment"}
# Series Prometheus makes itself.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS", "ALERTS_FOR_STATE"}


def family_of(name, samples, types):
    """The exposed family a selected name belongs to, or None."""
    if name in types or name in samples:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) in ("histogram", "summary"):
            return name[:-len(suffix)]
    return None


def check_query(h, where, expr, pages):
    """pages: {"server"|"robot": (samples, types, target labels)}; robot absent when not run."""
    selectors, grouping = dc.parse_promql(expr)
    h.check(selectors, f"{where}: selects no metric: {expr}")
    names_labels = set()
    skipped = False
    for sel in selectors:
        if sel.metric in SYNTHETIC:
            continue
        source = "robot" if sel.metric.startswith("mivla_client_") else "server"
        if source not in pages:
            skipped = True
            continue
        samples, types, target_labels = pages[source]
        fam = family_of(sel.metric, samples, types)
        h.check(fam is not None, f"{where}: metric {sel.metric} is not on the live mivla-{source}'s /metrics")
        series = samples.get(sel.metric) or samples.get(fam) or []
        labels_here = set().union(*[set(s) for s in series]) if series else set()
        names_labels |= labels_here | target_labels
        for label, op, value in sel.matchers:
            if label in target_labels:
                continue
            h.check(label in labels_here, f"{where}: {sel.metric} has no label '{label}' on the live "
                                          f"mivla-{source} (it has {sorted(labels_here)})")
            if op == "=" and value:
                values = {s.get(label) for s in series}
                h.check(value in values, f"{where}: {sel.metric}{{{label}=\"{value}\"}}: the live mivla-{source} "
                                         f"exposes {label} = {sorted(v for v in values if v)}")
    if not skipped:
        for label in grouping:
            h.check(label in names_labels, f"{where}: groups by '{label}', which none of its metrics carries")
    return skipped


def server_page(h):
    from mivla.v1 import policy_pb2 as pb
    srv = h.start_server("server")
    policy, _ = sh.stubs(sh.insecure_channel(srv.target))
    sid = policy.StartSession(sh.start_request(), timeout=10).session_id
    policy.Observe(sh.observe_request(sid, 1_000_000), timeout=60)
    policy.Act(pb.ActRequest(session_id=sid, seed=1), timeout=60)
    policy.ReportEpisode(pb.ReportEpisodeRequest(session_id=sid, success=True, completeness=1.0), timeout=10)
    text = srv.scrape()
    with open(h.path("server-metrics.txt"), "w") as f:
        f.write(text)
    return srv, text


def robot_page(h, srv):
    """A simulated PiPER (mivla-robot --driver sim, real time) against srv, scraped once it has a chunk."""
    robot = h.start_child("robot", [h.args.robot, "--embodiment", "piper", "--driver", "sim", "--server", srv.target,
                                    "--task", "press_bell", "--metrics-port", "0", "--real-time", "--max-steps", "750"])
    deadline = time.monotonic() + 60
    port = None
    while port is None:
        h.check(time.monotonic() < deadline, "mivla-robot announced no metrics port within 60 s")
        h.check(robot.proc.poll() is None, f"mivla-robot exited with {robot.proc.returncode} before its metrics port")
        m = re.search(r'\{"event":"metrics","port":(\d+)\}', robot.log_text())
        port = int(m.group(1)) if m else None
        time.sleep(0.1)
    url = f"http://127.0.0.1:{port}/metrics"
    while True:
        h.check(time.monotonic() < deadline, "mivla-robot received no chunk within 60 s")
        h.check(robot.proc.poll() is None, f"mivla-robot exited with {robot.proc.returncode} before a chunk arrived")
        text = sh.http_get(url)
        chunks = re.search(r"^mivla_client_chunks_total (\S+)$", text, re.M)
        if chunks and float(chunks.group(1)) >= 1:
            break
        time.sleep(0.2)
    with open(h.path("robot-metrics.txt"), "w") as f:
        f.write(text)
    robot.terminate(timeout=20)
    h.check(robot.proc.returncode == 0, f"mivla-robot exited with {robot.proc.returncode} after SIGTERM")
    return text


def body(h):
    srv, text = server_page(h)
    samples, types = dc.parse_exposition(text)
    h.check(len(types) >= 10, f"the live /metrics page has only {len(types)} families")
    pages = {"server": (samples, types, SERVER_TARGET_LABELS)}
    h.log(f"mivla-server /metrics: {len(types)} families, {sum(len(v) for v in samples.values())} series")
    if h.args.robot:
        h.require_tool(h.args.robot, "(build target mivla-robot)")
        rtext = robot_page(h, srv)
        rsamples, rtypes = dc.parse_exposition(rtext)
        h.check(any(n.startswith("mivla_client_") for n in rtypes), "mivla-robot's /metrics has no mivla_client_ family")
        pages["robot"] = (rsamples, rtypes, ROBOT_TARGET_LABELS)
        h.log(f"mivla-robot /metrics: {len(rtypes)} families, {sum(len(v) for v in rsamples.values())} series")

    queries = dc.alert_queries() + dc.adapter_queries()
    for path, dash in dc.dashboards():
        queries += [(f"{os.path.basename(path)} {w}", q) for w, q in dc.dashboard_queries(dash)]
    skipped = [w for w, q in queries if check_query(h, w, q, pages)]
    h.figures["queries"] = len(queries)
    h.figures["client_queries_not_checked"] = len(skipped)
    h.log(f"{len(queries) - len(skipped)} queries hold against the live " + " and ".join(f"mivla-{p}" for p in pages)
          + (f"; {len(skipped)} with client metrics not checked (no --robot)" if skipped else ""))
    rc, _ = srv.sigterm_and_wait(timeout=30)
    h.check(rc == 0, f"mivla-server exited with {rc} after SIGTERM")


if __name__ == "__main__":
    sh.Harness("deploy_live_metrics", __doc__, EXTRA).run(body)
