#!/usr/bin/env python3
"""mivla-server scraped by a real Prometheus, and its /metrics text accepted by promtool.

Starts the Debian `prometheus` with a generated config scraping the server every 1 s (storage in the
work directory, web UI on a free port), drives traffic (OK and NOT_FOUND calls, an episode report), then
asks Prometheus' HTTP API until the target is up and mivla_requests_total{rpc="Act",code="OK"} holds the
number of Act calls made; more calls must show up in the next scrapes. A /metrics scrape taken after
the traffic (histograms and labelled series present) must pass `promtool check metrics`.
"""

import json
import subprocess
import time
import urllib.parse

import server_harness as sh

EXTRA = [(("--prometheus",), {"default": "/usr/bin/prometheus"}),
         (("--promtool",), {"default": "/usr/bin/promtool"})]


def drive_traffic(h, policy, sid, t0, acts):
    from mivla.v1 import policy_pb2 as pb
    policy.Observe(sh.observe_request(sid, t0, seed=5), timeout=30)
    for i in range(acts):
        policy.Act(pb.ActRequest(session_id=sid, seed=100 + i), timeout=30)


def query(h, base, promql):
    url = f"{base}/api/v1/query?query={urllib.parse.quote(promql)}"
    body = json.loads(sh.http_get(url, timeout=5))
    h.check(body.get("status") == "success", f"Prometheus query {promql}: {body}")
    return body["data"]["result"]


def wait_for(h, what, timeout_s, fn):
    """Polls fn() every 0.5 s until it returns a truthy value; fails naming `what` and the last value."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except OSError as e:  # Prometheus not listening yet
            last = e
        time.sleep(0.5)
    raise sh.CheckFailed(f"timed out after {timeout_s}s waiting for {what}; last answer: {last}")


def act_ok_value(h, base):
    res = query(h, base, 'mivla_requests_total{rpc="Act",code="OK"}')
    return float(res[0]["value"][1]) if res else None


def body(h):
    import grpc
    from mivla.v1 import policy_pb2 as pb

    h.require_tool(h.args.prometheus, "prometheus")
    h.require_tool(h.args.promtool, "prometheus")
    srv = h.start_server("server")
    policy, _ = sh.stubs(sh.insecure_channel(srv.target))
    sid = policy.StartSession(sh.start_request(), timeout=10).session_id
    drive_traffic(h, policy, sid, 1_000_000, acts=2)
    code, _ = sh.rpc_code(policy.Act, pb.ActRequest(session_id="no-such-session"), timeout=10)
    h.check(code == grpc.StatusCode.NOT_FOUND, f"Act on an unknown session: {code}")
    policy.ReportEpisode(pb.ReportEpisodeRequest(session_id=sid, success=False, completeness=0.5), timeout=10)
    policy.GetPolicyInfo(pb.GetPolicyInfoRequest(), timeout=10)

    # promtool on a scrape taken after the traffic.
    text = srv.scrape()
    with open(h.path("metrics.txt"), "w") as f:
        f.write(text)
    for needle in ('mivla_requests_total{rpc="Act",code="OK"} 2', 'mivla_requests_total{rpc="Act",code="NOT_FOUND"} 1',
                   "# TYPE mivla_request_latency_seconds histogram", 'mivla_request_latency_seconds_bucket{rpc="Act",le="+Inf"} ',
                   "mivla_stage_latency_seconds_count", "mivla_episodes_total{", "process_resident_memory_bytes "):
        h.check(needle in text, f"/metrics (saved as {h.path('metrics.txt')}) lacks '{needle}'")
    lint = subprocess.run([h.args.promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    h.check(lint.returncode == 0, f"promtool check metrics exited {lint.returncode}: {lint.stdout}{lint.stderr}")
    h.figures["metrics_lines"] = len(text.splitlines())
    h.log(f"promtool check metrics: OK ({len(text.splitlines())} lines)")

    # A real Prometheus scraping every second.
    web_port = sh.free_port()
    config = h.path("prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: mivla\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{srv.metrics_port}']\n")
    h.start_child("prometheus", [h.args.prometheus, f"--config.file={config}", f"--storage.tsdb.path={h.path('tsdb')}",
                                 f"--web.listen-address=127.0.0.1:{web_port}", "--log.level=warn"])
    base = f"http://127.0.0.1:{web_port}"
    wait_for(h, "Prometheus /-/ready", 30, lambda: "Ready" in sh.http_get(f"{base}/-/ready", timeout=2))
    up = wait_for(h, "the mivla target to be up", 30,
                  lambda: [r for r in query(h, base, 'up{job="mivla"}') if r["value"][1] == "1"])
    h.check(up[0]["metric"]["instance"] == f"127.0.0.1:{srv.metrics_port}", f"up series {up}")
    h.log("Prometheus: target up")
    got = wait_for(h, "mivla_requests_total{rpc=Act,code=OK} == 2 in Prometheus", 30,
                   lambda: act_ok_value(h, base) == 2.0)
    series = query(h, base, "mivla_requests_total")
    labels = {(r["metric"].get("rpc"), r["metric"].get("code")) for r in series}
    for want in (("Act", "OK"), ("Act", "NOT_FOUND"), ("Observe", "OK"), ("StartSession", "OK")):
        h.check(want in labels, f"Prometheus has no mivla_requests_total series rpc={want[0]} code={want[1]}: {labels}")
    h.check(all(r["metric"].get("job") == "mivla" for r in series), "series without job=mivla")
    h.log(f"Prometheus: mivla_requests_total present ({len(series)} series), Act OK = {got}")

    drive_traffic(h, policy, sid, 2_000_000, acts=3)
    wait_for(h, "Act OK to reach 5 after 3 more calls", 30, lambda: act_ok_value(h, base) == 5.0)
    hist = query(h, base, 'histogram_quantile(0.5, sum by (le) (mivla_request_latency_seconds_bucket{rpc="Act"}))')
    h.check(hist and float(hist[0]["value"][1]) > 0, f"median Act latency from Prometheus: {hist}")
    h.figures["act_p50_s_prometheus"] = float(hist[0]["value"][1])
    h.log(f"Prometheus: live counter followed new calls; Act p50 {float(hist[0]['value'][1]) * 1000:.1f} ms")

    rc, _ = srv.sigterm_and_wait(timeout=20)
    h.check(rc == 0, f"mivla-server exited with {rc} after SIGTERM")


if __name__ == "__main__":
    sh.Harness("prometheus", __doc__, EXTRA).run(body)
