#!/usr/bin/env python3
"""`./run demo`: a local ring of real forestcast nodes on loopback. Starts them, checks every
leaf set against an oracle, kills some with SIGKILL and reports how fast the ring repairs."""

import argparse
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--nodes", type=int, default=24)
    ap.add_argument("--kill", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.nodes < 2 or not 0 <= args.kill < args.nodes:
        ap.error("need --nodes >= 2 and 0 <= --kill < --nodes")

    print(f"starting {args.nodes} nodes on 127.0.0.1 ...")
    cluster = Cluster(args.binary, args.nodes, seed=args.seed)
    try:
        took = cluster.wait_converged(15)
        print(f"ring formed: every leaf set equals the oracle's "
              f"{'after %.1f s' % took if took is not None else 'NOT within 15 s'}")
        print(f"{'node':>4}  {'node_id':32}  {'addr':21}  leaf  rt  nbr")
        for n in cluster.live():
            s = n.status()
            print(f"{n.index:>4}  {s['node_id']}  {s['bind']:21}  {len(s['leaf_set']):>4}"
                  f"  {s['routing_table_entries']:>2}  {s['neighborhood_set']:>3}")
        victims = random.Random(args.seed).sample(cluster.nodes[1:], args.kill)
        print(f"\nkilling {len(victims)} nodes with SIGKILL: "
              + ", ".join(v.node_id[:8] for v in victims))
        for v in victims:
            v.kill(signal.SIGKILL)
        took = cluster.wait_converged(30)
        print("repair report:")
        print(f"  live nodes: {len(cluster.live())}")
        if took is None:
            print("  leaf sets NOT converged within 30 s:")
            for n, why in cluster.last_mismatches:
                print(f"    {n.node_id[:8]}: {why}")
            return 1
        print(f"  leaf sets equal the oracle's again after {took:.1f} s")
        dead = sum(n.status()["counters"].get("nodes_declared_dead", 0) for n in cluster.live())
        print(f"  failure declarations across the ring: {dead}")
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
