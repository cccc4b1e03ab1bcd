#!/usr/bin/env python3
"""`./run demo`: a local ring of real forestcast nodes on loopback, started by the same launcher
as `forestcast cluster`. Starts them, checks every leaf set against an oracle, SIGKILLs some and
reports how fast the ring repairs; then brings everything down, however it ends."""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops"))
import admin_api  # noqa: E402
from cluster import Cluster, ClusterError, find_free_base  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--nodes", type=int, default=24)
    ap.add_argument("--kill", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.nodes < 2 or not 0 <= args.kill < args.nodes:
        ap.error("need --nodes >= 2 and 0 <= --kill < --nodes")

    with tempfile.TemporaryDirectory(prefix="forestcast-demo-") as workdir:
        cluster = Cluster(workdir, os.path.abspath(args.binary))
        try:
            print(f"starting {args.nodes} nodes on 127.0.0.1, each joining through a random "
                  "earlier one ...", flush=True)
            took = cluster.up(args.nodes, find_free_base(args.nodes), False, None, 0.0,
                              "sphere", args.seed, 30.0, False, 0.05)
            print(f"ring formed: all {args.nodes} leaf sets equal the oracle's {took:.2f} s "
                  "after the first start\n")
            statuses, by_id = cluster.gather()
            rows = [[h, by_id[h]["addr"], len(s["leaf_set"]), s["routing_table_entries"],
                     s["neighborhood_set"], s["counters"].get("messages_in", 0)]
                    for h, s in sorted(statuses.items())]
            print(admin_api.table(rows, ["node_id", "addr", "leaf", "rt", "nbr", "msgs in"]))
            victims = cluster.kill(count=args.kill, seed=args.seed)
            print(f"\nkilling {len(victims)} nodes with SIGKILL: "
                  + ", ".join(v["node_id"][:8] for v in victims), flush=True)
            killed_at = time.monotonic()
            took = cluster.wait_stable(killed_at + 30)
            counters = [s["counters"] for s in cluster.gather()[0].values() if s]
            print("\nrepair report")
            print(f"  nodes killed:            {len(victims)}")
            print(f"  survivors:               {args.nodes - len(victims)}")
            print(f"  leaf sets repaired in:   {took:.2f} s (every survivor equals the oracle)")
            print(f"  failure declarations:    "
                  f"{sum(c.get('nodes_declared_dead', 0) for c in counters)}")
            print(f"  leaf set repairs:        {sum(c.get('leaf_set_repairs', 0) for c in counters)}")
            print(f"  routed hops retried:     {sum(c.get('route_retries', 0) for c in counters)}")
            return 0
        except ClusterError as e:
            print(f"demo: {e}")
            return 1
        finally:
            cluster.down(quiet=True)


if __name__ == "__main__":
    sys.exit(main())
