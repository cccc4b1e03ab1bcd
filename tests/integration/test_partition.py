#!/usr/bin/env python3
"""A partition over real processes (issue 13 item 3): a ring of `forestcast node` processes
started with `forestcast cluster up --test-partitionable` is split into two halves that drop
each other's datagrams (each node's test-only drop rule, `--test-drop-from`) for T seconds; then
the drop rules are emptied. The halves must have drifted apart (leaf sets differ from the
oracle of the whole ring), and after the heal every leaf set must equal the oracle's again
within 60 s. `down` leaves no process behind.

usage: test_partition.py PATH/TO/forestcast [--nodes N] [--seconds T] [--seed S]"""
import argparse
import os
import random
import sys
import tempfile
import time

from launcher import Launcher, bound_runtime, cluster_state, find_free_base

HEAL_S = 60.0


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=20.0, help="partition length T")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)
    bound_runtime(int(60 + args.seconds + HEAL_S + 30))

    with tempfile.TemporaryDirectory(prefix="forestcast-it-") as workdir:
        try:
            with Launcher(args.binary, workdir) as cluster:
                r = cluster.run("up", "--nodes", str(args.nodes), "--base-port",
                                str(find_free_base(args.nodes)), "--seed", str(seed),
                                "--spacing", "0.1", "--timeout", "30", "--test-partitionable")
                print(f"PASS join: {r.stdout.strip()}", flush=True)
                nodes = cluster.state()["nodes"]
                rng = random.Random(seed)
                order = list(range(len(nodes)))
                rng.shuffle(order)
                half = set(order[: len(nodes) // 2])
                sides = [[n for n in nodes if n["index"] in half],
                         [n for n in nodes if n["index"] not in half]]
                for mine, theirs in (sides, sides[::-1]):
                    listing = "".join(n["addr"] + "\n" for n in theirs)
                    for n in mine:
                        write_atomically(os.path.join(workdir, f"node{n['index']}.drop"),
                                         listing)
                cut_at = time.monotonic()
                print(f"partition: {len(sides[0])} | {len(sides[1])} nodes for "
                      f"{args.seconds:.0f} s", flush=True)
                time.sleep(args.seconds)
                st = cluster.status()
                apart = sum(1 for n in st["nodes"] if not n["leaf_set_ok"])
                assert apart > 0, "the partition changed no leaf set: did the drop rule act?"
                print(f"PASS split: {apart} of {len(st['nodes'])} leaf sets differ from the "
                      f"whole ring's oracle after {time.monotonic() - cut_at:.1f} s", flush=True)

                for n in nodes:
                    write_atomically(os.path.join(workdir, f"node{n['index']}.drop"), "")
                healed_at = time.monotonic()
                while True:
                    st = cluster.status()
                    took = time.monotonic() - healed_at
                    bad = [n for n in st["nodes"] if not n["leaf_set_ok"]]
                    if len(st["nodes"]) == len(nodes) and not bad:
                        break
                    if took > HEAL_S:
                        raise AssertionError(
                            f"{len(bad)} leaf sets still differ from the oracle {HEAL_S:.0f} s "
                            "after the heal: " + ", ".join(n["node_id"][:8] for n in bad[:8]))
                    time.sleep(0.5)
                print(f"PASS heal: all {len(nodes)} leaf sets match the oracle {took:.1f} s "
                      "after the heal", flush=True)
            left = cluster_state.strays(workdir)
            assert not left, f"processes left after down: {left}"
            print("PASS down: no node process left", flush=True)
            return 0
        except (AssertionError, TimeoutError) as e:
            print(f"FAIL: {e}", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
