"""`forestcast cluster up|kill|restart|status|down`: a local cluster of real `forestcast node`
processes on loopback, or each in its own network namespace (--netns), optionally over an
emulated WAN (--latency-ms, --loss: the nodes' test-only link emulation, since this kernel has
no netem). Everything started is recorded in DIR/cluster.json before and after it starts."""
import os
import random
import socket
import subprocess
import sys
import time

import admin_api
import cluster_state
import netns
import ring

ADMIN_OFFSET = 1000  # node i: UDP base+i, admin HTTP base+i+1000 (--peer-admin-offset)


class ClusterError(Exception):
    """One line for the user; exit code 1."""


def port_in_use(port):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        finally:
            s.close()
    return False


def ephemeral_low(default=32768):
    """The first port the kernel hands out to unbound sockets (clients, ffmpeg's outputs)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def find_free_base(count, start=10000, stop=None):
    """A base port whose UDP and admin ranges are free right now (tests use it). Below the
    kernel's ephemeral range, so that a client socket of another test cannot take one of the
    ports between this check and the node's bind."""
    if stop is None:
        stop = ephemeral_low()
    if stop - count - ADMIN_OFFSET <= start:
        raise ClusterError("no port range below the ephemeral ports for %d nodes" % count)
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(start, stop - count - ADMIN_OFFSET, 10)
        ports = list(range(base, base + count)) + \
            list(range(base + ADMIN_OFFSET, base + ADMIN_OFFSET + count))
        if not any(port_in_use(p) for p in ports):
            return base
    raise ClusterError("no free port range found")


class Progress:
    """One line on stderr, redrawn in place on a terminal, printed at most every 2 s
    otherwise (logs of CI runs stay short)."""

    def __init__(self, quiet):
        self.quiet, self.tty, self.last = quiet, sys.stderr.isatty(), 0.0

    def show(self, label, done, total, force=False):
        if self.quiet:
            return
        now = time.monotonic()
        if not self.tty and not force and now - self.last < 2.0:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        text = f"{label:<22} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}"
        sys.stderr.write(("\r" + text) if self.tty else text + "\n")
        sys.stderr.flush()

    def end(self):
        if not self.quiet and self.tty:
            sys.stderr.write("\n")


class Cluster:
    def __init__(self, directory, binary):
        self.dir = os.path.abspath(directory)
        self.binary = binary
        self.state = cluster_state.load(self.dir)

    # ---- what is running ----------------------------------------------------------------
    def live_nodes(self):
        return [n for n in (self.state or {}).get("nodes", []) if cluster_state.is_ours(n)]

    def save(self):
        cluster_state.save(self.dir, self.state)

    # ---- up -----------------------------------------------------------------------------
    def up(self, nodes, base_port, use_netns, latency, loss, topology, seed, timeout, quiet,
           spacing, streams=None, partitionable=False):
        if self.state is not None:
            if self.live_nodes():
                raise ClusterError(
                    f"a cluster is already running ({len(self.live_nodes())} nodes, state "
                    f"{self.dir}/{cluster_state.STATE_FILE}); `forestcast cluster down` first")
            self.down(quiet=True)  # leftovers of a crashed run
        if not (1 <= base_port and base_port + ADMIN_OFFSET + nodes <= 65535):
            raise ClusterError(f"--base-port {base_port} leaves no room for {nodes} UDP ports "
                               f"and their admin ports (+{ADMIN_OFFSET})")
        if use_netns:
            netns.check_privileges()
        if not use_netns:
            for i in range(nodes):
                for port, what in ((base_port + i, "UDP"), (base_port + ADMIN_OFFSET + i,
                                                               "admin HTTP")):
                    if port_in_use(port):
                        raise ClusterError(f"port {port} (node {i} {what}) is already in use; "
                                           "choose another --base-port")
        os.makedirs(self.dir, exist_ok=True)
        tag = cluster_state.tag_of(self.dir)
        self.state = {"launcher_pid": os.getpid(), "binary": self.binary, "tag": tag,
                      "netns": use_netns, "base_port": base_port, "latency_ms": latency,
                      "loss": loss, "topology": topology, "nodes": [],
                      "partitionable": partitionable,
                      "streams": {str(i): flags for i, flags in (streams or {}).items()}}
        self.save()
        try:
            if use_netns:
                netns.create_bridge(tag)
            rng = random.Random(seed)
            progress = Progress(quiet)
            t0 = time.monotonic()
            for i in range(nodes):
                self.start_node(i, self.pick_bootstrap(rng))
                if i == 0:
                    self.wait_answering(self.state["nodes"][0], time.monotonic() + 10)
                progress.show("starting nodes", i + 1, nodes)
                time.sleep(spacing)
            progress.show("starting nodes", nodes, nodes, force=True)
            self.wait_stable(t0 + timeout, progress)
            took = time.monotonic() - t0
            progress.end()
        except BaseException:
            self.down(quiet=True)
            raise
        return took

    def pick_bootstrap(self, rng):
        """A random node that is already active in the ring (a node still joining, over an
        emulated WAN, may not answer a join yet); node 0 when none says so."""
        started = list(self.state["nodes"])
        rng.shuffle(started)
        for n in started:
            st = admin_api.try_status(n["admin"], timeout=0.3)
            if st and st["state"] == "active":
                return n["addr"]
        return self.state["nodes"][0]["addr"] if self.state["nodes"] else None

    def drop_file(self, index):
        """Test only: the addresses node `index` drops datagrams from (--test-partitionable)."""
        return os.path.join(self.dir, f"node{index}.drop")

    def node_command(self, node):
        cmd = [self.binary, "node", "--bind", node["addr"], "--admin", node["admin"],
               "--key", node["key"], "--peer-admin-offset", str(ADMIN_OFFSET)]
        if self.state.get("latency_ms"):
            cmd += ["--emulate-latency-ms", self.state["latency_ms"],
                    "--emulate-topology", self.state.get("topology", "sphere")]
            if self.state.get("loss"):
                cmd += ["--emulate-loss", str(self.state["loss"])]
        if self.state.get("partitionable"):
            cmd += ["--test-drop-from", self.drop_file(node["index"])]
        if node.get("bootstrap"):
            cmd += ["--bootstrap", node["bootstrap"]]
        cmd += self.state.get("streams", {}).get(str(node["index"]), [])
        if node.get("netns"):
            cmd = netns.exec_prefix(node["netns"]) + cmd
        return cmd

    def start_node(self, i, bootstrap):
        """Starts node i (records it first, so a crash right after spawning still leaves a
        trace `down` can follow)."""
        existing = next((n for n in self.state["nodes"] if n["index"] == i), None)
        if existing is None:
            base = self.state["base_port"]
            if self.state["netns"]:
                ns = netns.create_node_netns(self.state["tag"], i)
                host = netns.node_ip(self.state["tag"], i)
            else:
                ns, host = None, "127.0.0.1"
            existing = {"index": i, "addr": f"{host}:{base + i}",
                        "admin": f"{host}:{base + i + ADMIN_OFFSET}",
                        "key": os.path.join(self.dir, f"node{i}.key"),
                        "log": os.path.join(self.dir, f"node{i}.log"), "netns": ns,
                        "node_id": None}
            self.state["nodes"].append(existing)
        existing.update({"bootstrap": bootstrap, "pid": None, "started": None,
                         "killed": False})
        self.save()
        with open(existing["log"], "a") as log:
            # Own session: the nodes outlive a launcher that crashes, and `down` stops them.
            proc = subprocess.Popen(self.node_command(existing), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        existing["pid"] = proc.pid
        existing["started"] = cluster_state.proc_start_time(proc.pid)
        self.save()
        return existing

    def wait_answering(self, node, deadline):
        while time.monotonic() < deadline:
            if not cluster_state.is_ours(node):
                raise ClusterError(f"node {node['index']} exited at start: "
                                   + last_line(node["log"]))
            st = admin_api.try_status(node["admin"], timeout=0.5)
            if st is not None:
                node["node_id"] = st["node_id"]
                self.save()
                return st
            time.sleep(0.05)
        raise ClusterError(f"node {node['index']} never answered on {node['admin']}")

    def gather(self):
        """{node_id: status or None} of every live node, and the node records by id."""
        statuses, by_id = {}, {}
        for n in self.live_nodes():
            st = admin_api.try_status(n["admin"])
            if st is not None and n.get("node_id") != st["node_id"]:
                n["node_id"] = st["node_id"]
                self.save()
            if n.get("node_id"):
                statuses[n["node_id"]] = st
                by_id[n["node_id"]] = n
        return statuses, by_id

    def wait_stable(self, deadline, progress=None):
        """Seconds until every live node is active and its leaf set equals the oracle's."""
        t0 = time.monotonic()
        while True:
            live = self.live_nodes()
            dead = [n for n in self.state["nodes"] if not n["killed"] and n not in live]
            if dead:
                raise ClusterError(f"node {dead[0]['index']} died: " + last_line(dead[0]["log"]))
            statuses, _ = self.gather()
            bad = ring.check_against_oracle(statuses)
            good = sum(1 for h, st in statuses.items()
                       if st and st["state"] == "active" and h not in bad)
            if progress:
                progress.show("ring forming", good, len(live))
            if len(statuses) == len(live) and good == len(live):
                if progress:
                    progress.show("ring stable", len(live), len(live), force=True)
                return time.monotonic() - t0
            if time.monotonic() > deadline:
                detail = "; ".join(ring.describe_mismatch(h, *bad[h]) for h in list(bad)[:3]) \
                    if bad else "not every node answered"
                raise ClusterError(f"ring not stable in time: {detail}")
            time.sleep(0.2)

    # ---- kill / restart -----------------------------------------------------------------
    def find(self, ref):
        nodes = self.state["nodes"]
        if ref.isdigit() and int(ref) < len(nodes) and len(ref) < 8:
            return next(n for n in nodes if n["index"] == int(ref))
        matches = [n for n in nodes if n.get("node_id") and n["node_id"].startswith(ref.lower())]
        if len(matches) == 1:
            return matches[0]
        raise ClusterError(f"no node '{ref}' in the cluster (give an index 0-{len(nodes) - 1} "
                           "or a unique node-id prefix)")

    def kill(self, count=None, ref=None, fraction=None, seed=None):
        live = self.live_nodes()
        if ref is not None:
            victim = self.find(ref)
            if victim not in live:
                raise ClusterError(f"node {ref} is not running")
            victims = [victim]
        else:
            k = count if count is not None else round(fraction * len(live))
            if not 0 < k <= len(live):
                raise ClusterError(f"cannot kill {k} of {len(live)} running nodes")
            victims = random.Random(seed).sample(live, k)
        cluster_state.stop([v["pid"] for v in victims], graceful=False)  # a crash
        for v in victims:
            v["killed"] = True
        self.save()
        return victims

    def restart(self, ref, timeout):
        node = self.find(ref)
        if node in self.live_nodes():
            raise ClusterError(f"node {ref} is running; kill it first")
        self.start_node(node["index"], self.pick_bootstrap(random.Random()))
        self.wait_answering(node, time.monotonic() + 10)
        return self.wait_stable(time.monotonic() + timeout)

    # ---- down ---------------------------------------------------------------------------
    def down(self, quiet=False):
        """Stops every recorded node and every stray node of this directory, removes the
        namespaces and links of this cluster's tag and the state file."""
        recorded = [n["pid"] for n in (self.state or {}).get("nodes", [])
                    if cluster_state.is_ours(n)]
        pids = sorted(set(recorded) | set(cluster_state.strays(self.dir)))
        cluster_state.stop(pids)
        gone_ns = netns.remove_all(cluster_state.tag_of(self.dir))
        had_state = self.state is not None
        cluster_state.remove(self.dir)
        self.state = None
        return len(pids), gone_ns, had_state


def last_line(path):
    """The last error line of a node's log (else its last line): why it stopped."""
    try:
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return "(no log)"
    errors = [ln for ln in lines if " error " in ln or '"error"' in ln or "forestcast:" in ln]
    return (errors or lines or ["(no output)"])[-1]
