"""A local ring of real `forestcast node` processes on loopback, and the oracle that says what
their state should be. Used by `./run demo` and by the integration tests."""

import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request


def free_ports(count):
    """Ports the kernel says are free now (UDP and TCP both bound once to check)."""
    ports, socks = [], []
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
        socks += [u, t]
        ports.append(port)
    for s in socks:
        s.close()
    return ports


def ring_distance(a, b):
    d = (a - b) % (1 << 128)
    return min(d, (1 << 128) - d)


def true_leaf_set(self_id, all_ids, half=8):
    """The `half` numerically closest ids on each side of self_id (hex strings)."""
    me = int(self_id, 16)
    others = [int(x, 16) for x in all_ids if x != self_id]
    cw = sorted(others, key=lambda x: (x - me) % (1 << 128))[:half]
    ccw = sorted(others, key=lambda x: (me - x) % (1 << 128))[:half]
    return {format(x, "032x") for x in cw + ccw}


class Node:
    def __init__(self, binary, workdir, index, port, admin_port, bootstrap=None, extra=()):
        self.index = index
        self.addr = f"127.0.0.1:{port}"
        self.admin = f"127.0.0.1:{admin_port}"
        self.key = os.path.join(workdir, f"node{index}.key")
        self.log_path = os.path.join(workdir, f"node{index}.log")
        args = [binary, "node", "--bind", self.addr, "--admin", self.admin, "--key", self.key]
        if bootstrap:
            args += ["--bootstrap", bootstrap]
        args += list(extra)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.node_id = None

    def status(self, timeout=1.0):
        with urllib.request.urlopen(f"http://{self.admin}/status", timeout=timeout) as r:
            return json.load(r)

    def alive(self):
        return self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout=5):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Cluster:
    """Starts nodes one after another, each bootstrapping through a random earlier node."""

    def __init__(self, binary, count, spacing=0.1, seed=1, extra=()):
        self.binary = os.path.abspath(binary)
        self.workdir = tempfile.mkdtemp(prefix="forestcast-")
        self.nodes = []
        rng = random.Random(seed)
        ports = free_ports(2 * count)
        try:
            for i in range(count):
                boot = self.nodes[rng.randrange(i)].addr if i else None
                self.nodes.append(Node(self.binary, self.workdir, i, ports[2 * i],
                                       ports[2 * i + 1], boot, extra))
                self.wait_for_status(self.nodes[-1], 5.0)
                time.sleep(spacing)
            self.last_start = time.monotonic()
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def wait_for_status(node, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if not node.alive():
                raise RuntimeError(f"node {node.index} exited: " + open(node.log_path).read()[-2000:])
            try:
                node.node_id = node.status()["node_id"]
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {node.index} has no admin API after {timeout}s")
                time.sleep(0.05)

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def leaf_set_mismatches(self):
        """Live nodes whose reported leaf set differs from the oracle's, with the difference."""
        live = self.live()
        ids = [n.node_id for n in live]
        bad = []
        for n in live:
            try:
                have = {e["node_id"] for e in n.status()["leaf_set"]}
            except OSError as e:
                bad.append((n, f"no status: {e}"))
                continue
            want = true_leaf_set(n.node_id, ids)
            if have != want:
                bad.append((n, f"missing {len(want - have)}, extra {len(have - want)}"))
        return bad

    def wait_converged(self, timeout):
        """Seconds until every live node's leaf set matches the oracle, or None on timeout."""
        start = time.monotonic()
        while True:
            bad = self.leaf_set_mismatches()
            if not bad:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                self.last_mismatches = bad
                return None
            time.sleep(0.1)

    def stop(self):
        for n in self.nodes:
            n.kill(signal.SIGTERM)
        for n in self.nodes:
            n.wait()
