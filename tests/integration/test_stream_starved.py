#!/usr/bin/env python3
"""Infeasible outdegree is reported, not looped on silently (issue 11): 3 `forestcast node`
processes, every one `--capacity 0` (a pure leaf), one publisher of a synthetic stream and one
viewer. A stripe whose root is the viewer reaches it (the publisher sends to each root directly);
every other stripe needs a node to adopt the viewer, and none may. The viewer must list exactly
the stripes without data in /status "starved_stripes" and say so in one warning line of its log,
once, while it keeps running.

usage: test_stream_starved.py PATH/TO/forestcast"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from single_node import Cluster, bound_runtime, free_ports, wait_for_status  # noqa: E402

STARVED_AFTER_S = 10  # kStarved in src/node/stream_service.cpp


def viewer_stream(st):
    return next((s for s in (st or {}).get("streams", [])
                 if s["role"] == "viewer" and s.get("resolved")), None)


def main():
    binary = sys.argv[1]
    bound_runtime(90)
    with tempfile.TemporaryDirectory(prefix="forestcast-starved-") as workdir, \
            Cluster(binary, workdir) as cluster:
        ports = free_ports(6)
        roles = [[], ["--publish", "tight", "--synthetic-kbps", "500"], ["--view", "tight"]]
        nodes = []
        for i, extra in enumerate(roles):
            boots = [] if i == 0 else [nodes[0].addr]
            nodes.append(cluster.start(i, ports[2 * i], ports[2 * i + 1], boots,
                                       ["--capacity", "0", *extra]))
            if i == 0:
                wait_for_status(nodes[0], time.monotonic() + 5)
            time.sleep(0.2)
        viewer = nodes[2]
        deadline = time.monotonic() + STARVED_AFTER_S + 30
        while True:
            s = viewer_stream(viewer.try_status())
            if s is not None and s.get("starved_stripes"):
                time.sleep(1.0)  # one more tick: the log line and a stable list
                s = viewer_stream(viewer.status())
                break
            if time.monotonic() > deadline:
                print(f"FAIL: no starved stripe reported: {s and s.get('starved_stripes')}")
                return 1
            time.sleep(0.5)
        silent = sorted(x["index"] for x in s["stripes"]
                        if x["last_receive_age_ms"] is None or
                        x["last_receive_age_ms"] > STARVED_AFTER_S * 1000)
        flowing = sorted(x["index"] for x in s["stripes"]
                         if x["last_receive_age_ms"] is not None and
                         x["last_receive_age_ms"] < 1000)
        failures = []
        if sorted(s["starved_stripes"]) != silent:
            failures.append(f"starved_stripes {s['starved_stripes']} != stripes silent for "
                            f"{STARVED_AFTER_S} s {silent}")
        if len(silent) + len(flowing) != 16:
            failures.append(f"stripes neither flowing nor starved: silent {silent}, "
                            f"flowing {flowing}")
        time.sleep(2.0)  # a report is made once, not every tick
        with open(viewer.log_path, errors="replace") as f:
            warnings = [ln for ln in f if "without data for" in ln]
        if len(warnings) != 1:
            failures.append(f"{len(warnings)} starvation warnings in the viewer's log, want 1")
        elif "raise --capacity" not in warnings[0]:
            failures.append(f"the warning names no remedy: {warnings[0].strip()}")
        st = viewer.status()
        if st["counters"].get("stream_starvation_reports") != 1:
            failures.append(f"stream_starvation_reports = "
                            f"{st['counters'].get('stream_starvation_reports')}, want 1")
        if not all(nd.alive() for nd in nodes):
            failures.append("a node exited")
        for f in failures:
            print("FAIL:", f)
        if failures:
            return 1
        print(f"PASS: {len(silent)} starved stripes reported once ({silent}); "
              f"{len(flowing)} flowing (the viewer is their root)")
        return 0


if __name__ == "__main__":
    sys.exit(main())
