"""What the Python integration checks share (tests/deploy/deploy_common.py, tests/server/server_harness.py).

CheckBase counts checks, prints progress lines, stops with a clear message when a program the test
needs is missing, and prints the JSON result line ({"test", "passed", "checks", "seconds", "figures",
"error"}) before exiting 0 (passed) or 1 (failed); fatal() exits 2. Single-threaded use.
"""

import json
import os
import sys
import time


class CheckFailed(AssertionError):
    pass


class CheckBase:
    def __init__(self, name, clock_width=5):
        self.name = name
        self.checks = 0
        self.start = time.monotonic()
        self.figures = {}
        self._clock_width = clock_width

    def log(self, msg):
        print(f"[{self.name} {time.monotonic() - self.start:{self._clock_width}.1f}s] {msg}", flush=True)

    def check(self, cond, msg):
        self.checks += 1
        if not cond:
            raise CheckFailed(msg)

    def fatal(self, msg):
        print(f"[{self.name}] ERROR: {msg}", file=sys.stderr, flush=True)
        sys.exit(2)

    def require_tool(self, path, package):
        """Fails clearly when an external program the test runs is missing."""
        if not path or not os.access(path, os.X_OK):
            self.fatal(f"'{path}' is not an executable program (Debian package {package}; "
                       f"bash scripts/install-deps.sh)")

    def finish(self, ok, error, result_file=None):
        """Prints (and writes to result_file when given) the JSON result; exits 0 or 1."""
        result = {"test": self.name, "passed": ok, "checks": self.checks,
                  "seconds": round(time.monotonic() - self.start, 2), "figures": self.figures}
        if error:
            result["error"] = error
        if result_file:
            with open(result_file, "w") as f:
                json.dump(result, f, indent=1)
        print(json.dumps(result), flush=True)
        sys.exit(0 if ok else 1)
