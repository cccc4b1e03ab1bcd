#!/usr/bin/env python3
"""32 real `forestcast node` processes on loopback (DESIGN.md §3): every leaf set must equal the
oracle's within 10 s of the last start, and again within 10 s after 4 nodes are SIGKILLed.

usage: test_leafset.py PATH/TO/forestcast [--nodes N] [--kill K] [--seed S]"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from cluster import (Cluster, bound_runtime, describe_mismatch, free_ports,  # noqa: E402
                     leaf_set_mismatches, wait_converged, wait_for_status)

CONVERGE_S = 10.0


def converge_or_fail(nodes, deadline, started):
    took = wait_converged(nodes, deadline, started)
    if took is not None:
        return took
    bad = leaf_set_mismatches(nodes)
    lines = [describe_mismatch(n, have, want) + ("" if st else " (no status)")
             + (f" state={st['state']}" if st else "") for n, have, want, st in bad]
    logs = "".join(f"\n--- node {n.index} log tail ---\n{n.log_tail(8)}" for n, *_ in bad[:2])
    raise AssertionError(f"{len(bad)}/{len(nodes)} leaf sets differ from the oracle after "
                         f"{CONVERGE_S:.0f} s:\n  " + "\n  ".join(lines[:12]) + logs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--kill", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--spacing", type=float, default=0.1, help="seconds between starts")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)
    bound_runtime(90)

    with tempfile.TemporaryDirectory(prefix="forestcast-it-") as workdir, \
            Cluster(args.binary, workdir) as cluster:
        try:
            t0 = time.monotonic()
            ports = free_ports(2 * args.nodes)
            nodes = []
            for i in range(args.nodes):
                boots = [] if i == 0 else [nodes[rng.randrange(i)].addr]
                nodes.append(cluster.start(i, ports[2 * i], ports[2 * i + 1], boots))
                if i == 0:  # the ring must exist before anyone joins it
                    wait_for_status(nodes[0], time.monotonic() + 5)
                time.sleep(args.spacing)
            last_start = time.monotonic()
            print(f"started {args.nodes} nodes in {last_start - t0:.2f} s", flush=True)

            for n in nodes:
                n.node_id = wait_for_status(n, last_start + CONVERGE_S)["node_id"]
            ids = [int(n.node_id, 16) for n in nodes]
            assert len(set(ids)) == len(ids), "duplicate node ids"

            took = converge_or_fail(nodes, last_start + CONVERGE_S, last_start)
            print(f"PASS join: all {len(nodes)} leaf sets match the oracle "
                  f"{took:.2f} s after the last start", flush=True)

            victims = rng.sample(nodes[1:], args.kill)
            for v in victims:
                v.proc.kill()
            killed_at = time.monotonic()
            for v in victims:
                v.proc.wait(timeout=5)
            print("killed " + ", ".join(f"{v.index} ({v.node_id[:8]})" for v in victims),
                  flush=True)
            survivors = [n for n in nodes if n not in victims]
            took = converge_or_fail(survivors, killed_at + CONVERGE_S, killed_at)
            print(f"PASS failure: all {len(survivors)} survivors' leaf sets match the new oracle "
                  f"{took:.2f} s after the kills", flush=True)
            print(f"total {time.monotonic() - t0:.1f} s")
            return 0
        except (AssertionError, TimeoutError) as e:
            print(f"FAIL: {e}", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
