#!/usr/bin/env python3
"""32 real `forestcast node` processes started by `forestcast cluster up` (DESIGN.md §3): every
leaf set must equal the oracle's within 10 s of the last start, and again within 10 s after
`forestcast cluster kill --count 4`; `down` leaves no process behind.

usage: test_leafset.py PATH/TO/forestcast [--nodes N] [--kill K] [--seed S]"""
import argparse
import random
import sys
import tempfile
import time

from launcher import Launcher, bound_runtime, cluster_state, find_free_base

CONVERGE_S = 10.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--kill", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--spacing", type=float, default=0.1, help="seconds between starts")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)
    bound_runtime(100)

    with tempfile.TemporaryDirectory(prefix="forestcast-it-") as workdir:
        try:
            with Launcher(args.binary, workdir) as cluster:
                t0 = time.monotonic()
                # up waits until every leaf set equals the oracle's; its timeout counts from
                # the first start, so allow for the starts themselves.
                budget = args.nodes * (args.spacing + 0.05) + CONVERGE_S
                r = cluster.run("up", "--nodes", str(args.nodes), "--base-port",
                                str(find_free_base(args.nodes)), "--seed", str(seed),
                                "--spacing", str(args.spacing), "--timeout", str(budget))
                print(f"PASS join: {r.stdout.strip()} ({time.monotonic() - t0:.1f} s)",
                      flush=True)
                st = cluster.status()
                assert len(st["nodes"]) == args.nodes and st["mismatches"] == 0, st
                ids = [n["node_id"] for n in st["nodes"]]
                assert len(set(ids)) == len(ids), "duplicate node ids"

                r = cluster.run("kill", "--count", str(args.kill), "--seed", str(seed))
                killed_at = time.monotonic()
                print(r.stdout.strip(), flush=True)
                while True:
                    st = cluster.status()
                    took = time.monotonic() - killed_at
                    if len(st["nodes"]) == args.nodes - args.kill and st["mismatches"] == 0:
                        break
                    if took > CONVERGE_S:
                        bad = [n for n in st["nodes"] if not n["leaf_set_ok"]]
                        raise AssertionError(f"{len(bad)} survivors' leaf sets differ from "
                                             f"the oracle {CONVERGE_S:.0f} s after the kills: "
                                             + ", ".join(n["node_id"][:8] for n in bad[:8]))
                    time.sleep(0.3)
                print(f"PASS failure: all {len(st['nodes'])} survivors' leaf sets match the new "
                      f"oracle {took:.2f} s after the kills", flush=True)
                # Info level logs what happens to a node, never per datagram: after the join,
                # thousands of messages and a repair, each log still has a handful of lines.
                lengths = {}
                for n in cluster.state()["nodes"]:
                    with open(n["log"], errors="replace") as f:
                        lengths[n["index"]] = sum(1 for _ in f)
                assert max(lengths.values()) <= 12, f"info logs grow with traffic: {lengths}"
                print(f"PASS logs: at most {max(lengths.values())} info lines per node", flush=True)
            left = cluster_state.strays(workdir)
            assert not left, f"processes left after down: {left}"
            print("PASS down: no node process left", flush=True)
            return 0
        except (AssertionError, TimeoutError) as e:
            print(f"FAIL: {e}", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
