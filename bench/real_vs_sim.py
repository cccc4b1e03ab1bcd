#!/usr/bin/env python3
"""Routing on real processes against the simulator, for the same node ids and latency model.

Starts `forestcast cluster up --nodes N --latency-ms 2-200 --loss L` (real `forestcast node`
processes whose UDP runtime holds each message for the sphere model's one-way delay between the
two node ids, and drops a fraction L), checks every leaf set against the oracle, lets the ring
settle, then issues lookups through the admin API (GET /lookup?key=...: the probe is routed by
the overlay, the root answers with hops and route delay). Then it runs `forestcast sim
--scenario routing --ids` with the same ids, joined in the same order, at the same positions,
with the same loss, and prints both side by side (and one JSON line).

usage: bench/real_vs_sim.py build/tools/forestcast/forestcast [--nodes 32] [--lookups 1000]"""
import argparse
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "ops"))
import cluster_state  # noqa: E402
from cluster import find_free_base  # noqa: E402

RING = 1 << 128


def closest(ids, key):
    return min(ids, key=lambda i: (min((i - key) % RING, (key - i) % RING), i))


def lookup(admin, key):
    try:
        with urllib.request.urlopen(f"http://{admin}/lookup?key={key:032x}", timeout=8) as r:
            return json.loads(r.read())
    except Exception as e:  # noqa: BLE001  (a timeout is a result here)
        return {"answered": False, "error": str(e)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--lookups", type=int, default=1000)
    ap.add_argument("--latency-ms", default="2-200")
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--spacing", type=float, default=0.1)
    ap.add_argument("--settle-s", type=float, default=30.0)
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="forestcast-bench-") as work:
        d = os.path.join(work, "cluster")
        run = lambda *a, **kw: subprocess.run([binary, "cluster", "--dir", d, "--quiet", *a],  # noqa: E731
                                              text=True, **kw)
        try:
            t0 = time.monotonic()
            r = run("up", "--nodes", str(args.nodes), "--base-port",
                    str(find_free_base(args.nodes)), "--latency-ms", args.latency_ms, "--loss",
                    str(args.loss), "--seed", str(args.seed), "--spacing", str(args.spacing),
                    "--timeout", "300", capture_output=True)
            if r.returncode != 0:
                print(f"cluster up failed: {r.stderr.strip()}")
                return 1
            formed_s = time.monotonic() - t0
            print(r.stdout.strip(), flush=True)
            status = run("status", "--json", capture_output=True)
            oracle_ok = status.returncode == 0
            print(f"leaf sets vs oracle: {'all equal' if oracle_ok else 'MISMATCH'}", flush=True)
            state = cluster_state.load(d)
            nodes = state["nodes"]
            time.sleep(max(0.0, args.settle_s - (time.monotonic() - t0 - args.nodes * args.spacing)))

            ids = [int(n["node_id"], 16) for n in nodes]
            jobs = [(rng.choice(nodes), rng.randrange(RING)) for _ in range(args.lookups)]
            t1 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                results = list(pool.map(lambda j: (j, lookup(j[0]["admin"], j[1])), jobs))
            lookup_s = time.monotonic() - t1
            answered = [(j, res) for j, res in results if res.get("answered")]
            errors = {}
            for _, res in results:
                if not res.get("answered"):
                    errors[res.get("error", "timed out in the node")] = errors.get(res.get("error", "timed out in the node"), 0) + 1
            print(f"unanswered lookups by reason: {errors}", flush=True)
            correct = sum(1 for (n, key), res in answered if int(res["root"], 16) == closest(ids, key))
            hops = [res["hops"] for _, res in answered]
            remote = [(j, res) for j, res in answered if res["root"] != j[0]["node_id"]]
            rdp = sum(res["route_ms"] for _, res in remote) / \
                max(1e-9, sum(res["direct_ms"] for _, res in remote))
            real = {"lookups": args.lookups, "answered": len(answered), "correct": correct,
                    "hops_mean": round(sum(hops) / max(1, len(hops)), 3),
                    "hops_max": max(hops, default=0), "rdp": round(rdp, 3),
                    "ring_formed_s": round(formed_s, 1), "lookup_wall_s": round(lookup_s, 1),
                    "leaf_sets_equal_oracle": oracle_ok}
        finally:
            run("down", capture_output=True)

        ids_file = os.path.join(work, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("".join(n["node_id"] + "\n" for n in nodes))
        lo, hi = args.latency_ms.split("-")
        if (lo, hi) != ("2", "200"):
            print("note: the simulator's latency range is fixed at 2-200 ms")
        s = subprocess.run([binary, "sim", "--scenario", "routing", "--ids", ids_file,
                            "--lookups", str(args.lookups), "--loss", str(args.loss),
                            "--seed", str(args.seed), "--join-interval-ms",
                            str(args.spacing * 1000), "--settle-s", str(args.settle_s),
                            "--quiet"], capture_output=True, text=True)
        if s.returncode != 0:
            print(f"sim failed: {s.stderr.strip()}")
            return 1
        sim = json.loads(s.stdout.strip().splitlines()[-1])["routing"]

    print(f"\n{args.nodes} nodes, sphere model {args.latency_ms} ms one way, "
          f"{args.loss * 100:g} % loss, {args.lookups} lookups, seed {args.seed}")
    print(f"{'':28}{'real processes':>16}{'simulator':>12}")
    print(f"{'correct root':28}{real['correct']:>10}/{args.lookups:<5}"
          f"{round(sim['correct_fraction'] * sim['lookups']):>7}/{sim['lookups']}")
    print(f"{'answered (not timed out)':28}{real['answered']:>16}{sim.get('delivered', '-'):>12}")
    print(f"{'hops mean':28}{real['hops_mean']:>16}{sim['hops_mean']:>12}")
    print(f"{'hops max':28}{real['hops_max']:>16}{sim['hops_max']:>12}")
    print(f"{'rdp':28}{real['rdp']:>16}{round(sim['rdp_mean'], 3):>12}")
    print(json.dumps({"real": real, "sim": sim}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
