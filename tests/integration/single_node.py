"""Single `forestcast node` processes for test_cli.py, which tests the daemon's own flags and
errors: started directly, each in its own session, and all killed when the test ends. (Whole
clusters come from `forestcast cluster`, see launcher.py.)"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_ports(count):
    """Ports free for both UDP and TCP right now: bind them all at once so none repeats."""
    held, ports = [], []
    try:
        while len(ports) < count:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                u.close()
                t.close()
                continue
            held += [u, t]
            ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


class Node:
    def __init__(self, proc, index, port, admin_port, key, log_path):
        self.proc, self.index, self.port, self.admin_port = proc, index, port, admin_port
        self.key, self.log_path = key, log_path
        self.node_id = None

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def status(self, timeout=1.0):
        url = f"http://127.0.0.1:{self.admin_port}/status"
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())

    def try_status(self):
        try:
            return self.status()
        except (OSError, ValueError):
            return None

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "<no log>"


class Cluster:
    """Owns every process it starts; close() kills them all (use as a context manager)."""

    def __init__(self, binary, workdir):
        self.binary, self.workdir = binary, workdir
        self.nodes = []
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self, index, port, admin_port, bootstraps=(), extra=()):
        key = os.path.join(self.workdir, f"node{index}.key")
        log_path = os.path.join(self.workdir, f"node{index}.log")
        cmd = [self.binary, "node", "--bind", f"127.0.0.1:{port}",
               "--admin", f"127.0.0.1:{admin_port}", "--key", key, *extra]
        for b in bootstraps:
            cmd += ["--bootstrap", b]
        log = open(log_path, "w")
        # Own process group: a stray child can't survive the group kill in close().
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        node = Node(proc, index, port, admin_port, key, log_path)
        self.nodes.append(node)
        return node

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def bound_runtime(seconds):
    """Turns SIGALRM after `seconds`, and SIGTERM/SIGINT (CTest or a user giving up), into an
    exception, so the Cluster context manager still kills every node: they run in their own
    sessions and would not get a signal sent to our process group."""
    def stop(signo, _frame):
        raise TimeoutError(f"stopped by signal {signo} (overall limit {seconds} s)")
    for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, stop)
    signal.alarm(seconds)


def wait_for_status(node, deadline):
    while time.monotonic() < deadline:
        if not node.alive():
            raise AssertionError(f"node {node.index} exited with {node.proc.returncode}:\n"
                                 + node.log_tail())
        st = node.try_status()
        if st is not None:
            return st
        time.sleep(0.02)
    raise AssertionError(f"node {node.index} never answered /status:\n" + node.log_tail())
