"""How the integration tests drive `forestcast cluster` (the launcher users type): run it as a
command, bounded in time, and always `down` at the end, however the test ends."""
import json
import os
import signal
import subprocess
import sys

OPS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "ops")
sys.path.insert(0, OPS_DIR)
from cluster import find_free_base  # noqa: E402,F401  (re-exported for the tests)
import cluster_state  # noqa: E402,F401


class Launcher:
    def __init__(self, binary, directory):
        self.binary, self.dir = os.path.abspath(binary), directory

    def run(self, *args, timeout=120, check=True):
        r = subprocess.run([self.binary, "cluster", "--dir", self.dir, "--quiet", *args],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"forestcast cluster {' '.join(args)} -> exit {r.returncode}: "
                                 f"{r.stderr.strip()}")
        return r

    def status(self):
        r = self.run("status", "--json", check=False)
        if r.returncode not in (0, 1):
            raise AssertionError(f"cluster status: exit {r.returncode}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def state(self):
        return cluster_state.load(self.dir)

    def __enter__(self):
        return self

    def report_unexpected_exits(self, lines=25):
        """The log tail of every node the launcher started that is gone without a `cluster
        kill`: a failing test names the cause (a port taken at start, a crash)."""
        try:
            state = self.state() or {}
        except SystemExit:
            return
        for n in state.get("nodes", []):
            if n.get("killed") or not n.get("pid") or cluster_state.is_ours(n):
                continue
            try:
                with open(n["log"], errors="replace") as f:
                    tail = "".join(f.readlines()[-lines:])
            except OSError:
                tail = "<no log>\n"
            print(f"node {n['index']} ({n['addr']}) exited unexpectedly; its log ends:\n{tail}",
                  flush=True)

    def __exit__(self, *exc):
        self.report_unexpected_exits()
        self.run("down", check=False, timeout=60)
        return False


def bound_runtime(seconds):
    """SIGALRM after `seconds`, and SIGTERM/SIGINT from CTest, become an exception so the
    Launcher context manager still brings the cluster down."""
    def stop(signo, _frame):
        raise TimeoutError(f"stopped by signal {signo} (overall limit {seconds} s)")
    for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, stop)
    signal.alarm(seconds)
