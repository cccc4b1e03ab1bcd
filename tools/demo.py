#!/usr/bin/env python3
"""`./run demo`: a local ring of real forestcast nodes on loopback. Starts them one after
another, checks every leaf set against an oracle, SIGKILLs some and reports how fast the ring
repairs. Every process it starts is stopped when it ends, however it ends."""

import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import (Cluster, bound_runtime, describe_mismatch, free_ports,  # noqa: E402
                     leaf_set_mismatches, wait_converged, wait_for_status)


def table(nodes):
    print(f"  {'node_id':32}  {'addr':15}  leaf  rt  nbr  msgs in")
    for n in nodes:
        s = n.status()
        print(f"  {s['node_id']}  {s['bind']:15}  {len(s['leaf_set']):>4}"
              f"  {s['routing_table_entries']:>2}  {s['neighborhood_set']:>3}"
              f"  {s['counters'].get('messages_in', 0):>7}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--nodes", type=int, default=24)
    ap.add_argument("--kill", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.nodes < 2 or not 0 <= args.kill < args.nodes:
        ap.error("need --nodes >= 2 and 0 <= --kill < --nodes")
    bound_runtime(120)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="forestcast-demo-") as workdir, \
            Cluster(os.path.abspath(args.binary), workdir) as cluster:
        print(f"starting {args.nodes} nodes on 127.0.0.1, each joining through a random "
              "earlier one ...", flush=True)
        ports = free_ports(2 * args.nodes)
        nodes = []
        for i in range(args.nodes):
            boots = [] if i == 0 else [nodes[rng.randrange(i)].addr]
            nodes.append(cluster.start(i, ports[2 * i], ports[2 * i + 1], boots))
            nodes[-1].node_id = wait_for_status(nodes[-1], time.monotonic() + 5)["node_id"]
            time.sleep(0.05)
        last_start = time.monotonic()
        took = wait_converged(nodes, last_start + 15, last_start)
        if took is None:
            print("ring did NOT converge within 15 s:")
            for n, have, want, _ in leaf_set_mismatches(nodes):
                print("  " + describe_mismatch(n, have, want))
            return 1
        print(f"ring formed: all {len(nodes)} leaf sets equal the oracle's "
              f"{took:.2f} s after the last start\n")
        table(nodes)

        victims = rng.sample(nodes[1:], args.kill)
        print(f"\nkilling {len(victims)} nodes with SIGKILL: "
              + ", ".join(v.node_id[:8] for v in victims), flush=True)
        for v in victims:
            v.proc.kill()
        killed_at = time.monotonic()
        for v in victims:
            v.proc.wait(timeout=5)
        survivors = [n for n in nodes if n not in victims]
        took = wait_converged(survivors, killed_at + 30, killed_at)
        print("\nrepair report")
        print(f"  nodes killed:            {len(victims)}")
        print(f"  survivors:               {len(survivors)}")
        if took is None:
            print("  leaf sets NOT repaired within 30 s:")
            for n, have, want, _ in leaf_set_mismatches(survivors):
                print("    " + describe_mismatch(n, have, want))
            return 1
        counters = [n.status()["counters"] for n in survivors]
        print(f"  leaf sets repaired in:   {took:.2f} s (every survivor equals the oracle)")
        print(f"  failure declarations:    {sum(c.get('nodes_declared_dead', 0) for c in counters)}")
        print(f"  leaf set repairs:        {sum(c.get('leaf_set_repairs', 0) for c in counters)}")
        print(f"  routed hops retried:     {sum(c.get('route_retries', 0) for c in counters)}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
