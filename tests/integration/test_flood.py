#!/usr/bin/env python3
"""A 16-process ring on loopback under a garbage flood (issue 13): RATE datagrams per second at
every node for SECONDS (random bytes, truncated valid envelopes, fields out of range, ids of the
wrong length; tests/integration/garbage.py). Passes when
  - every garbage datagram is counted as a drop: per node, the drop counters grew by exactly the
    number sent to it, and datagrams_in = datagrams_accepted + drops still holds;
  - every node answers /status throughout the flood;
  - every leaf set still equals the oracle's afterwards;
  - every node's resident memory (VmRSS) after the flood is within 10 % of before.

usage: test_flood.py PATH/TO/forestcast [--nodes N] [--seconds S] [--rate R] [--seed S]"""
import argparse
import os
import random
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from garbage import Garbage  # noqa: E402
from launcher import Launcher, bound_runtime, find_free_base  # noqa: E402

import admin_api  # noqa: E402  (tools/ops, on the path through launcher)


class FloodNode:
    """A node of the cluster as the flood sees it: its UDP port, admin API and process."""

    def __init__(self, entry):
        self.index, self.pid, self.admin = entry["index"], entry["pid"], entry["admin"]
        self.port = int(entry["addr"].rsplit(":", 1)[1])

    def status(self):
        return admin_api.get_status(self.admin)

    def try_status(self):
        return admin_api.try_status(self.admin)

    def alive(self):
        return os.path.exists(f"/proc/{self.pid}")


def wait_converged(cluster, deadline):
    """Seconds until `forestcast cluster status` finds every leaf set equal to the oracle's;
    None if not by `deadline`. Also returns the last status."""
    start = time.monotonic()
    while True:
        st = cluster.status()
        if st["mismatches"] == 0:
            return time.monotonic() - start, st
        if time.monotonic() > deadline:
            return None, st
        time.sleep(0.3)


CONVERGE_S = 10.0
SOURCES_PER_NODE = 8   # distinct source ports per node: several rate-limiter buckets
RSS_TOLERANCE = 0.10
DROP_COUNTERS = ("dropped_rate_limited", "dropped_untracked_limited", "dropped_global_limit",
                 "dropped_own_id", "dropped_after_leave", "dropped_malformed")


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def drops(counters):
    return sum(counters[k] for k in DROP_COUNTERS)


def flood(nodes, seconds, rate, seed):
    """Sends `rate` garbage datagrams per second to every node for `seconds`, paced in 20 ms
    slices; polls every node's /status once a second. Returns (sent per node, sent per kind,
    worst /status latency, /status failures)."""
    garbage = Garbage(seed)
    sources = [[socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(SOURCES_PER_NODE)]
               for _ in nodes]
    sent = [0] * len(nodes)
    kinds = {k: 0 for k in Garbage.KINDS}
    worst_status, status_failures = 0.0, []
    slice_s = 0.02

    def send_up_to(count):
        for i, n in enumerate(nodes):
            while sent[i] < count:
                kind, data = garbage.next()
                sources[i][sent[i] % SOURCES_PER_NODE].sendto(data, ("127.0.0.1", n.port))
                sent[i] += 1
                kinds[kind] += 1

    start = time.monotonic()
    next_poll = start
    try:
        while True:
            now = time.monotonic()
            elapsed = now - start
            if elapsed >= seconds:
                break
            due = min(int(elapsed * rate) + 1, int(seconds * rate))  # per node, so far
            send_up_to(due)
            if now >= next_poll:
                next_poll += 1.0
                for n in nodes:
                    t = time.monotonic()
                    if n.try_status() is None:
                        status_failures.append((n.index, round(elapsed, 1)))
                    worst_status = max(worst_status, time.monotonic() - t)
            time.sleep(max(0.0, slice_s - (time.monotonic() - now)))
        send_up_to(int(seconds * rate))  # the last slice's share
    finally:
        for group in sources:
            for s in group:
                s.close()
    return sent, kinds, worst_status, status_failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rate", type=int, default=200, help="garbage datagrams/s at each node")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)
    bound_runtime(int(args.seconds) + 90)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what, flush=True)
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="forestcast-flood-") as workdir, \
            Launcher(args.binary, workdir) as cluster:
        try:
            cluster.run("up", "--nodes", str(args.nodes), "--base-port",
                        str(find_free_base(args.nodes)), "--seed", str(seed),
                        "--timeout", str(args.nodes * 0.2 + CONVERGE_S))
            nodes = [FloodNode(e) for e in cluster.state()["nodes"]]
            print(f"ring of {len(nodes)} converged (forestcast cluster up)", flush=True)
            time.sleep(2.0)  # let post-join proximity rounds settle before measuring memory

            before = [n.status()["counters"] for n in nodes]
            rss_before = [vm_rss_kb(n.pid) for n in nodes]
            sent, kinds, worst_status, status_failures = flood(
                nodes, args.seconds, args.rate, seed)
            total = sum(sent)
            print(f"sent {total} garbage datagrams in {args.seconds:.0f} s "
                  f"({args.rate}/s at each of {len(nodes)} nodes): {kinds}", flush=True)
            check(not status_failures, f"every node answered /status during the flood "
                  f"(worst {worst_status * 1000:.0f} ms; failures {status_failures[:5]})")

            # Counters: wait until every datagram sent has been read (loopback loses none).
            deadline = time.monotonic() + 5
            while True:
                after = [n.status()["counters"] for n in nodes]
                if all(drops(a) - drops(b) >= s for a, b, s in zip(after, before, sent)) or \
                        time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            by_reason = {}
            for a, b in zip(after, before):
                for k, v in a.items():
                    if k.startswith("dropped_") and k not in DROP_COUNTERS and v - b[k]:
                        by_reason[k] = by_reason.get(k, 0) + v - b[k]
            print(f"drops by reason over all nodes: {by_reason}", flush=True)
            uncounted = [f"node {n.index}: sent {s}, dropped {drops(a) - drops(b)}"
                         for n, a, b, s in zip(nodes, after, before, sent)
                         if drops(a) - drops(b) != s]
            check(not uncounted, f"each of the {total} garbage datagrams counted as a drop by "
                  f"the node it was sent to {uncounted}")
            unbalanced = [f"node {n.index}: in {a['datagrams_in']} accepted "
                          f"{a['datagrams_accepted']} dropped {drops(a)}"
                          for n, a in zip(nodes, after)
                          if a["datagrams_in"] != a["datagrams_accepted"] + drops(a)]
            check(not unbalanced, f"datagrams_in = datagrams_accepted + drops on every node "
                  f"{unbalanced}")

            took, st = wait_converged(cluster, time.monotonic() + CONVERGE_S)
            bad = [n["node_id"][:8] for n in st["nodes"] if not n["leaf_set_ok"]]
            check(took is not None, f"every leaf set matches the oracle after the flood {bad[:8]}")

            rss_after = [vm_rss_kb(n.pid) for n in nodes]
            growth = [(a - b) / b for a, b in zip(rss_after, rss_before)]
            worst = max(range(len(nodes)), key=lambda i: growth[i])
            print(f"VmRSS before {min(rss_before)}-{max(rss_before)} kB, after "
                  f"{min(rss_after)}-{max(rss_after)} kB", flush=True)
            check(growth[worst] <= RSS_TOLERANCE,
                  f"resident memory within {RSS_TOLERANCE:.0%} of before (worst node "
                  f"{worst}: {rss_before[worst]} -> {rss_after[worst]} kB, "
                  f"{growth[worst]:+.1%})")
            check(all(n.alive() for n in nodes), "every node still running")
        except (AssertionError, TimeoutError) as e:
            print(f"FAIL: {e}", flush=True)
            return 1
    print(f"{len(failures)} failure(s)" if failures else "PASS flood")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
