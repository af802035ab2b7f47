"""Shared helpers of the mivla-server integration tests (tests/server/*_test.py).

Starts a real `mivla-server` child on free ports, builds requests from the Python stubs generated from
proto/mivla/v1/policy.proto (no numpy/PIL: camera frames are RAW_RGB8 built from bytes), counts checks
and writes a JSON result. Every child process is started with PR_SET_PDEATHSIG so it dies with the test
even when CTest kills the test on a timeout; the context managers stop it on any failure as well.

Single-threaded use of one Harness; ServerProcess / Child are safe to stop from the main thread while
other threads make calls.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from check_base import CheckBase, CheckFailed  # noqa: E402,F401 - CheckFailed is raised as sh.CheckFailed

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Harness(CheckBase):
    """Argument parsing, stub import, progress lines, check counting and the JSON result
    (tests/check_base.py)."""

    def __init__(self, name, description, extra_args=None):
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--server", required=True, help="path of the mivla-server binary")
        parser.add_argument("--stubs", required=True, help="directory of the generated Python stubs")
        parser.add_argument("--workdir", required=True, help="scratch directory (emptied first)")
        for args, kwargs in extra_args or []:
            parser.add_argument(*args, **kwargs)
        self.args = parser.parse_args()
        super().__init__(name, clock_width=6)
        self._children = []
        if not os.access(self.args.server, os.X_OK):
            self.fatal(f"--server '{self.args.server}' is not an executable file (build target mivla-server)")
        if not os.path.isfile(os.path.join(self.args.stubs, "mivla", "v1", "policy_pb2_grpc.py")):
            self.fatal(f"--stubs '{self.args.stubs}' holds no mivla/v1/policy_pb2_grpc.py (the stub fixture did not run)")
        shutil.rmtree(self.args.workdir, ignore_errors=True)
        os.makedirs(self.args.workdir)
        sys.path.insert(0, self.args.stubs)
        try:
            import grpc  # noqa: F401
        except ImportError as e:
            self.fatal(f"cannot import grpc ({e}): install python3-grpcio and run with /usr/bin/python3")

    def path(self, *parts):
        return os.path.join(self.args.workdir, *parts)

    def run(self, body):
        """Runs body(self); stops every child; prints and writes the JSON result; exits 0/1."""
        ok, error = True, None
        try:
            body(self)
        except Exception as e:  # noqa: BLE001 - any failure fails the test with its reason
            ok = False
            error = f"{type(e).__name__}: {e}"
            traceback.print_exc()
        finally:
            for child in reversed(self._children):
                child.kill()
        if not ok:
            for child in self._children:
                child.dump_log_tail()
        self.finish(ok, error, self.path("result.json"))

    # --- children --------------------------------------------------------------------------------
    def start_server(self, label, extra_flags=(), env=None):
        srv = ServerProcess(self, label, list(extra_flags), env)
        self._children.append(srv)
        srv.start()
        return srv

    def start_child(self, label, argv):
        child = Child(self, label, argv)
        self._children.append(child)
        child.start()
        return child


class Child:
    """A child process with stdout+stderr in a log file; killed with the test."""

    def __init__(self, harness, label, argv):
        self.h = harness
        self.label = label
        self.argv = argv
        self.log_path = harness.path(f"{label}.log")
        self.proc = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.h.args.workdir, preexec_fn=_die_with_parent)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def dump_log_tail(self, lines=30):
        tail = self.log_text().splitlines()[-lines:]
        print(f"--- last lines of {self.log_path} ---", file=sys.stderr)
        for line in tail:
            print(f"    {line}", file=sys.stderr)
        sys.stderr.flush()


class ServerProcess(Child):
    """mivla-server --random-init --config tiny on free ports of 127.0.0.1."""

    STARTUP_TIMEOUT_S = 45

    def __init__(self, harness, label, extra_flags, env):
        argv = [harness.args.server, "--random-init", "--config", "tiny", "--host", "127.0.0.1",
                "--port", "0", "--metrics-host", "127.0.0.1", "--metrics-port", "0"] + extra_flags
        super().__init__(harness, label, argv)
        self.env = env
        self.port = None
        self.metrics_port = None
        self.exit_code = None

    def start(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
                                     cwd=self.h.args.workdir, preexec_fn=_die_with_parent, env=self.env)
        first_line = []
        reader = threading.Thread(target=lambda: first_line.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.STARTUP_TIMEOUT_S)
        if not first_line or not first_line[0]:
            self.kill()
            self.dump_log_tail()
            raise CheckFailed(f"{self.label}: mivla-server printed no listening line within "
                              f"{self.STARTUP_TIMEOUT_S}s (exit code {self.proc.returncode})")
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        try:
            event = json.loads(first_line[0])
        except ValueError:
            raise CheckFailed(f"{self.label}: first stdout line is not JSON: {first_line[0]!r}")
        self.h.check(event.get("event") == "listening" and event.get("port", 0) > 0,
                     f"{self.label}: unexpected listening line {event}")
        self.port = event["port"]
        self.metrics_port = event.get("metrics_port")
        self.h.log(f"{self.label}: mivla-server pid {self.proc.pid} listening on :{self.port}, "
                   f"metrics :{self.metrics_port}")

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    def sigterm_and_wait(self, timeout):
        """Sends SIGTERM; returns (exit code, seconds until exit). Kills and fails after `timeout`."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise CheckFailed(f"{self.label}: mivla-server still running {timeout}s after SIGTERM")
        self.exit_code = rc
        return rc, time.monotonic() - t0

    def scrape(self, timeout=5):
        return http_get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout)


# --- networking helpers ------------------------------------------------------------------------------

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url, timeout=5):
    with _NO_PROXY.open(url, timeout=timeout) as r:
        return r.read().decode("utf-8")


CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0), ("grpc.max_receive_message_length", 64 << 20)]


def insecure_channel(target):
    import grpc
    return grpc.insecure_channel(target, options=CHANNEL_OPTIONS)


def secure_channel(target, credentials, override_name=None):
    import grpc
    options = list(CHANNEL_OPTIONS)
    if override_name:
        options.append(("grpc.ssl_target_name_override", override_name))
    return grpc.secure_channel(target, credentials, options=options)


def stubs(channel):
    """(PolicyServiceStub, HealthStub) on one channel."""
    from mivla.v1 import policy_pb2_grpc
    import health_check_pb2_grpc
    return policy_pb2_grpc.PolicyServiceStub(channel), health_check_pb2_grpc.HealthStub(channel)


def health_status(health_stub, service="", timeout=5, metadata=None):
    """The serving status name, e.g. 'SERVING'."""
    import health_check_pb2
    r = health_stub.Check(health_check_pb2.HealthCheckRequest(service=service), timeout=timeout,
                          metadata=metadata)
    return health_check_pb2.HealthCheckResponse.ServingStatus.Name(r.status)


def rpc_code(fn, *args, **kwargs):
    """Calls fn; returns (grpc.StatusCode, response or error details)."""
    import grpc
    try:
        return grpc.StatusCode.OK, fn(*args, **kwargs)
    except grpc.RpcError as e:
        return e.code(), e.details()


# --- requests (the camera layouts of server/inference/test_requests.cc) ------------------------------

PIPER_CAMERAS = (("head_camera", 320, 240), ("right_camera", 320, 240))
_FRAME_CACHE = {}


def raw_frame(width, height, seed, view):
    """A deterministic RAW_RGB8 test pattern (rows of R, G, B bytes), no image library needed."""
    key = (width, height, seed, view)
    if key not in _FRAME_CACHE:
        out = bytearray(width * height * 3)
        for y in range(height):
            g = (y * 2 + view * 40) % 256
            row = bytearray(width * 3)
            row[0::3] = bytes((x + seed * 7) % 256 for x in range(width))
            row[1::3] = bytes([g]) * width
            row[2::3] = bytes((x + y + seed) % 256 for x in range(width))
            out[y * width * 3:(y + 1) * width * 3] = row
        _FRAME_CACHE[key] = bytes(out)
    return _FRAME_CACHE[key]


def start_request(embodiment="PIPER", cameras=PIPER_CAMERAS, instruction="press the bell",
                  task="press_bell", robot_id="py-test-robot"):
    from mivla.v1 import policy_pb2 as pb
    r = pb.StartSessionRequest(embodiment=pb.Embodiment.Value(embodiment), instruction=instruction,
                               robot_id=robot_id, task=task)
    for name, w, h in cameras:
        r.cameras.add(name=name, width=w, height=h)
    return r


def observe_request(session_id, timestamp_us, seed=1, cameras=PIPER_CAMERAS):
    """A one-armed observation (right arm) with one RAW_RGB8 frame per camera."""
    import math
    from mivla.v1 import policy_pb2 as pb
    r = pb.ObserveRequest(session_id=session_id, timestamp_us=timestamp_us)
    for view, (name, w, h) in enumerate(cameras):
        r.images.add(camera=name, encoding=pb.RAW_RGB8, width=w, height=h,
                     data=raw_frame(w, h, seed, view), capture_time_us=timestamp_us)
    arm = r.proprioception.right
    arm.joint_positions.extend(0.1 * math.sin(0.3 * seed + j + 1) for j in range(6))
    arm.gripper = 0.04
    arm.end_effector.x, arm.end_effector.y, arm.end_effector.z = 0.3, -0.1, 0.2
    arm.end_effector.qw = 1.0
    return r
