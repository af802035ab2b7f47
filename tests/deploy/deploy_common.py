"""Shared helpers of the deploy/ checks (tests/deploy/*_test.py).

- Checks: counts checks, prints progress lines, prints a JSON result line and exits 0/1/2.
- PromQL reading without a PromQL library: the metric names an expression selects, its label
  matchers, and the labels its by/without/on/ignoring clauses name (enough to hold every query in
  deploy/ against a live /metrics page; syntax itself is left to promtool).
- The Prometheus text format: series by metric name with their labels.
- Where the deploy/ files are and how Grafana template variables are substituted for checking.
"""

import json
import os
import re
import subprocess
import sys
import traceback

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests"))
from check_base import CheckBase, CheckFailed  # noqa: E402,F401 - CheckFailed is raised as dc.CheckFailed

DEPLOY = os.path.join(REPO, "deploy")
ALERT_RULES = os.path.join(DEPLOY, "prometheus", "rules", "mivla-alerts.yml")
ALERT_TESTS = os.path.join(DEPLOY, "prometheus", "tests", "mivla-alerts-test.yml")
PROMETHEUS_CONFIG = os.path.join(DEPLOY, "prometheus", "prometheus.yml")
DASHBOARD_DIR = os.path.join(DEPLOY, "grafana", "dashboards")
ADAPTER_CONFIG = os.path.join(DEPLOY, "k8s", "prometheus-adapter", "config.yaml")


class Checks(CheckBase):
    """Check counting and the result line (tests/check_base.py); run(body) turns any exception into a
    failed test."""

    def __init__(self, name):
        super().__init__(name, clock_width=5)

    def run_tool(self, argv, timeout=60, input_text=None):
        """Runs argv; returns (exit code, stdout + stderr)."""
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input_text)
        return r.returncode, r.stdout + r.stderr

    def run(self, body):
        ok, error = True, None
        try:
            body(self)
        except Exception as e:  # noqa: BLE001 - any failure fails the test with its reason
            ok, error = False, f"{type(e).__name__}: {e}"
            traceback.print_exc()
        self.finish(ok, error)


def load_yaml(path):
    import yaml
    with open(path) as f:
        return yaml.safe_load(f)


def load_yaml_all(text):
    import yaml
    return [d for d in yaml.safe_load_all(text) if d is not None]


# --- PromQL -------------------------------------------------------------------------------------------

_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
             "offset", "bool", "inf", "nan", "atan2"}
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
                 "topk", "quantile"}
_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<dur>\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*\b)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}@])
""", re.VERBOSE)


def _tokens(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read PromQL at '{expr[pos:pos + 30]}' in: {expr}")
        pos = m.end()
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group()))
    return out


def _unquote(s):
    if s[0] == "`":
        return s[1:-1]
    return bytes(s[1:-1], "utf-8").decode("unicode_escape")


class Selector:
    """One vector selector: metric name and (label, op, value) matchers."""

    def __init__(self, metric, matchers):
        self.metric = metric
        self.matchers = matchers

    def __repr__(self):
        return f"{self.metric}{{{', '.join(f'{l}{o}{v!r}' for l, o, v in self.matchers)}}}"


def parse_promql(expr):
    """Returns (selectors, grouping labels) of a PromQL expression."""
    toks = _tokens(expr)
    selectors, grouping = [], set()
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else (None, None)
        if kind == "ident" and text in _GROUPING and nxt[1] == "(":
            j = i + 2
            while j < len(toks) and toks[j][1] != ")":
                if toks[j][0] == "ident":
                    grouping.add(toks[j][1])
                j += 1
            i = j + 1
            continue
        if kind == "ident" and (nxt[1] == "(" or text in _AGGREGATIONS):  # function or aggregation
            i += 1
            continue
        if kind == "ident" and text.lower() in _KEYWORDS:
            i += 1
            continue
        if kind == "ident" or (kind == "op" and text == "{"):
            metric = text if kind == "ident" else None
            matchers = []
            j = i + 1 if kind == "ident" else i
            if j < len(toks) and toks[j][1] == "{":
                j += 1
                while j < len(toks) and toks[j][1] != "}":
                    if toks[j][1] == ",":
                        j += 1
                        continue
                    if j + 2 >= len(toks) or toks[j][0] != "ident" or toks[j + 2][0] != "str":
                        raise ValueError(f"cannot read the label matchers of {metric} in: {expr}")
                    matchers.append((toks[j][1], toks[j + 1][1], _unquote(toks[j + 2][1])))
                    j += 3
                j += 1
            for label, op, value in matchers:
                if label == "__name__" and op == "=":
                    metric = value
            if metric is None:
                raise ValueError(f"a selector without a metric name in: {expr}")
            selectors.append(Selector(metric, [m for m in matchers if m[0] != "__name__"]))
            i = j
            continue
        i += 1
    return selectors, grouping


# --- Grafana -----------------------------------------------------------------------------------------

def grafana_to_promql(expr):
    """A dashboard query with Grafana's variables replaced by what they stand for at query time."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "1m").replace("$__range", "1h")
    expr = expr.replace("${__rate_interval}", "1m")
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", ".*", expr)


def dashboards():
    """(path, parsed JSON) of every dashboard in deploy/grafana/dashboards/."""
    out = []
    for name in sorted(os.listdir(DASHBOARD_DIR)):
        if name.endswith(".json"):
            path = os.path.join(DASHBOARD_DIR, name)
            with open(path) as f:
                out.append((path, json.load(f)))
    return out


def panels_flat(dashboard):
    """Every panel, including those nested in collapsed rows."""
    out = []
    for p in dashboard.get("panels", []):
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def dashboard_queries(dashboard):
    """(where, PromQL) of every panel target and query variable of one dashboard."""
    out = []
    for p in panels_flat(dashboard):
        for t in p.get("targets", []):
            out.append((f"panel {p.get('id')} '{p.get('title')}' target {t.get('refId')}", grafana_to_promql(t["expr"])))
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v.get("query"), dict) else v.get("query", "")
            m = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)\s*", q)
            if m:  # label_values(selector, label): the selector must exist and carry the label
                out.append((f"variable ${v['name']}", f"count by ({m.group(2)}) ({grafana_to_promql(m.group(1))})"))
            else:
                out.append((f"variable ${v['name']}", grafana_to_promql(q)))
    return out


def alert_queries():
    """(where, PromQL) of every rule in deploy/prometheus/rules/mivla-alerts.yml."""
    out = []
    for g in load_yaml(ALERT_RULES)["groups"]:
        for r in g["rules"]:
            out.append((f"rule {r.get('alert') or r.get('record')}", r["expr"]))
    return out


def adapter_queries():
    """(where, PromQL) of the prometheus-adapter rules, templated for one pod."""
    out = []
    for n, rule in enumerate(load_yaml(ADAPTER_CONFIG)["rules"]):
        out.append((f"adapter rule {n} seriesQuery", rule["seriesQuery"]))
        sel, _ = parse_promql(rule["seriesQuery"])
        q = (rule["metricsQuery"].replace("<<.Series>>", sel[0].metric)
             .replace("<<.LabelMatchers>>", 'namespace="mivla",pod="mivla-server-0"').replace("<<.GroupBy>>", "pod"))
        out.append((f"adapter rule {n} metricsQuery", q))
    return out


# --- Prometheus text format ---------------------------------------------------------------------------

_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+\S+")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """{sample name: [label dicts]} and {family name: type} of a /metrics page."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
            continue
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            samples.setdefault(m.group(1), []).append(dict(_LABEL.findall(m.group(3) or "")))
    return samples, types
