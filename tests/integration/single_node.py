"""Single `forestcast node` processes for test_cli.py, which tests the daemon's own flags and
errors: started directly, each in its own session, and all killed when the test ends. (Whole
clusters come from `forestcast cluster`, see launcher.py.)"""
import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request


def ephemeral_low(default=32768):
    """The first port the kernel hands to unbound sockets (HTTP clients, ffmpeg, other tests)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def free_ports(count, low=10000):
    """Ports free for both UDP and TCP right now, none repeated, all below the kernel's
    ephemeral range: a port bound to 0 comes from that range, where any client socket on the
    box (our own /status polls, ffmpeg, a concurrent test) can take it before the node binds
    it. That race once left a viewer of integration_forest_video_mpegts_16 unstarted."""
    high = ephemeral_low()
    rng = random.Random()
    held, ports = [], []
    try:
        for _ in range(100 * count + 1000):
            if len(ports) == count:
                return ports
            port = rng.randrange(low, high)
            if port in ports:
                continue
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                u.bind(("127.0.0.1", port))
                t.bind(("127.0.0.1", port))
            except OSError:
                u.close()
                t.close()
                continue
            held += [u, t]
            ports.append(port)
        if len(ports) == count:
            return ports
        raise AssertionError(f"only {len(ports)} of {count} free ports below {high}")
    finally:
        for s in held:
            s.close()


class Node:
    def __init__(self, proc, index, port, admin_port, key, log_path):
        self.proc, self.index, self.port, self.admin_port = proc, index, port, admin_port
        self.key, self.log_path = key, log_path
        self.node_id = None
        self.killed_by_test = False

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
        """Starts node `index` on these ports. Should one of them be taken between free_ports()
        and the node's bind (a port race, not the node's fault), it starts again on fresh
        ports, and says so; node.port/admin_port are the ports it has."""
        for attempt in range(3):
            node = self._spawn(index, port, admin_port, bootstraps, extra)
            if not self._bind_failed(node):
                return node
            print(f"node {index}: port {port} or {admin_port} taken before it bound "
                  f"({self._bind_error(node)}); starting it again on fresh ports", flush=True)
            self.nodes.remove(node)
            port, admin_port = free_ports(2)
        return node

    def _spawn(self, index, port, admin_port, bootstraps, extra):
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

    @staticmethod
    def _bind_error(node):
        try:
            with open(node.log_path, errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        for line in text.splitlines():
            if "cannot bind UDP" in line or "cannot listen for admin HTTP" in line:
                return line.strip()
        return None

    def _bind_failed(self, node, limit=10.0):
        """Waits until the node has bound both ports (its "on udp" log line, written after
        both binds) or exited; True if it exited because a port was taken."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if node.proc.poll() is not None:
                return self._bind_error(node) is not None
            try:
                with open(node.log_path, errors="replace") as f:
                    if " on udp " in f.read():
                        return False
            except OSError:
                pass
            time.sleep(0.01)
        return False  # slow or quiet (log level): the test's own checks see the rest

    def kill(self, node, signo=signal.SIGKILL):
        """Signals a node on purpose: close() reports only nodes that exited otherwise."""
        node.killed_by_test = True
        os.killpg(node.proc.pid, signo)

    def report_unexpected_exits(self):
        """The log tail of every node that exited without the test killing it: a test that
        fails because a node died at start or crashed names the cause."""
        for node in self.nodes:
            code = node.proc.poll()
            if code is not None and not node.killed_by_test:
                print(f"node {node.index} (udp {node.port}, admin {node.admin_port}) exited "
                      f"unexpectedly with {code}; its log ends:\n{node.log_tail(25)}", flush=True)

    def close(self):
        self.report_unexpected_exits()
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
