#!/usr/bin/env python3
"""What key-proven ids cost a ring of real processes (docs/security.md §3): starts N nodes with
`forestcast cluster up`, lets them run S seconds, then sums over all nodes the datagrams and
bytes sent, the proofs made and verified (/status counters) and the CPU time of the processes
(/proc/PID/stat), and brings the cluster down. Run it with two binaries (with and without
proofs) to compare; results go to BENCHMARKS.md ("Key-proven ids").

usage: ring_proof_cost.py PATH/TO/forestcast [--nodes 32] [--seconds 30]"""
import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from launcher import Launcher, bound_runtime, find_free_base  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    bound_runtime(int(args.seconds + 120))
    with tempfile.TemporaryDirectory(prefix="forestcast-bench-") as workdir:
        with Launcher(args.binary, workdir) as cluster:
            r = cluster.run("up", "--nodes", str(args.nodes), "--base-port",
                            str(find_free_base(args.nodes)), "--seed", "1", "--spacing", "0.1",
                            "--timeout", "60")
            print(r.stdout.strip(), flush=True)
            time.sleep(args.seconds)
            totals = {"datagrams_out": 0, "bytes_out": 0, "proofs_made": 0,
                      "proofs_verified": 0, "proofs_rejected": 0, "unproven_held": 0,
                      "unproven_dropped": 0, "cpu_s": 0.0}
            for n in cluster.state()["nodes"]:
                with urllib.request.urlopen(f"http://{n['admin']}/status", timeout=2) as resp:
                    counters = json.load(resp)["counters"]
                for k in totals:
                    if k != "cpu_s":
                        totals[k] += counters.get(k, 0)
                totals["cpu_s"] += cpu_seconds(n["pid"])
            totals["cpu_s"] = round(totals["cpu_s"], 2)
            print(json.dumps({"nodes": args.nodes, "seconds": args.seconds, **totals}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
