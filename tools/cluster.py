"""Helpers shared by the integration tests: start `forestcast node` processes on loopback, read
their /status, compute the leaf-set oracle, and guarantee no process outlives the test."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

HALF_LEAF_SET = 8
RING = 1 << 128


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


def oracle_leaf_set(self_id, all_ids, half=HALF_LEAF_SET):
    """The `half` closest ids on each side of self_id on the ring, as one set (a node can be on
    both sides in a small ring)."""
    others = [i for i in all_ids if i != self_id]
    right = sorted(others, key=lambda i: (i - self_id) % RING)[:half]
    left = sorted(others, key=lambda i: (self_id - i) % RING)[:half]
    return set(left) | set(right)


def leaf_set_ids(status):
    return {int(e["node_id"], 16) for e in status["leaf_set"]}


def leaf_set_mismatches(nodes):
    """(node, have, want, status) for every node whose reported leaf set differs from the
    oracle's, computed over the ids of `nodes` (the live ones)."""
    ids = [int(n.node_id, 16) for n in nodes]
    bad = []
    for n in nodes:
        st = n.try_status()
        have = leaf_set_ids(st) if st else set()
        want = oracle_leaf_set(int(n.node_id, 16), ids)
        if st is None or have != want:
            bad.append((n, have, want, st))
    return bad


def describe_mismatch(node, have, want):
    missing = sorted(f"{i:032x}"[:8] for i in want - have)
    extra = sorted(f"{i:032x}"[:8] for i in have - want)
    return f"node {node.index} ({node.node_id[:8]}): missing {missing} extra {extra}"


def wait_converged(nodes, deadline, started):
    """Seconds from `started` until every node's leaf set equals the oracle's, or None at
    `deadline`. Raises if a node died."""
    while True:
        for n in nodes:
            if not n.alive():
                raise AssertionError(f"node {n.index} died (exit {n.proc.returncode}):\n"
                                     + n.log_tail())
        if not leaf_set_mismatches(nodes):
            return time.monotonic() - started
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
