#!/usr/bin/env python3
"""Graceful leave of a stream relay with real processes (issue 11): N `forestcast node` processes
on loopback, one publisher of a synthetic 2 Mbit/s stream, every other node viewing it. Once every
viewer receives every stripe, the viewer with the most stripe-children gets SIGTERM; it hands its
children over before it leaves the ring, so none of them may go without a stripe for longer than
one packet interval plus one heartbeat interval (LEAVE_BOUND_MS). Every child is polled as fast
as /status answers for the whole window.

`--signal KILL` runs the same measurement with SIGKILL instead (no hand-over): the children then
wait for their failure timeout, which is what the bound tells apart.

usage: test_stream_leave.py PATH/TO/forestcast [--nodes 20] [--capacity 20] [--seed S]
                            [--signal TERM|KILL]"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from single_node import Cluster, bound_runtime, free_ports, wait_for_status  # noqa: E402
from test_streams import repair_note  # noqa: E402

STREAM = "leave"
KBPS = 2000
STRIPES = 16
PACKET_INTERVAL_MS = 1200 * 8 * STRIPES / KBPS  # one stripe's packet spacing: 76.8 ms
HEARTBEAT_MS = 100
# A child may miss at most one heartbeat interval beyond its stripe's normal packet spacing; a
# little slack for a loaded 2-core box scheduling 12 processes and the poller.
LEAVE_BOUND_MS = PACKET_INTERVAL_MS + HEARTBEAT_MS + 40
WATCH_S = 2.0
FRESH_MS = 400


def viewer_stripes(st):
    for s in (st or {}).get("streams", []):
        if s["role"] == "viewer" and s.get("resolved"):
            return s["stripes"]
    return None


def flowing(st):
    stripes = viewer_stripes(st)
    return bool(stripes) and len(stripes) == STRIPES and all(
        x["last_receive_age_ms"] is not None and x["last_receive_age_ms"] <= FRESH_MS
        for x in stripes)


def with_attempts(attempts):
    """Runs the test in up to `attempts` fresh rings and passes if one does. Known flake, kept
    visible: 8 of 10 single runs passed on a loaded 2-core box (main 9a0e599 and after it
    alike); a failing run shows a handed-over child re-attached but silent 0.4-2.8 s
    (docs/multicast.md "Small real rings"). Every attempt's output is printed."""
    argv = [a for a in sys.argv[1:] if not a.startswith("--attempts")]
    if "--attempts" in sys.argv:  # the separate-value form: drop the value as well
        i = sys.argv.index("--attempts")
        argv = sys.argv[1:i] + sys.argv[i + 2:]
    for k in range(1, attempts + 1):
        print(f"--- attempt {k} of {attempts}", flush=True)
        if subprocess.call([sys.executable, __file__, *argv]) == 0:
            if k > 1:
                print(f"FLAKY: passed on attempt {k} of {attempts}", flush=True)
            return 0
    return 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--signal", choices=("TERM", "KILL"), default="TERM")
    ap.add_argument("--capacity", type=int, default=20)
    ap.add_argument("--attempts", type=int, default=1,
                    help="fresh rings (new seeds) to try before failing; each is printed")
    args = ap.parse_args()
    if args.attempts > 1:
        return with_attempts(args.attempts)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)
    bound_runtime(120)
    n = args.nodes
    publisher = n - 1  # joins a formed ring, as in test_streams.py
    with tempfile.TemporaryDirectory(prefix="forestcast-leave-") as workdir, \
            Cluster(args.binary, workdir) as cluster:
        try:
            ports = free_ports(2 * n)
            nodes = []
            for i in range(n):
                # 20 stripe-children each (2.5 Mbit/s of upload for a 2 Mbit/s stream): the leaver's
                # children must find room, which the tight default does not promise.
                extra = ["--capacity", str(args.capacity)]
                extra += (["--publish", STREAM, "--synthetic-kbps", str(KBPS)] if i == publisher
                          else ["--view", STREAM])
                boots = [] if i == 0 else [nodes[rng.randrange(i)].addr]
                nodes.append(cluster.start(i, ports[2 * i], ports[2 * i + 1], boots, extra))
                if i == 0:
                    wait_for_status(nodes[0], time.monotonic() + 5)
                time.sleep(0.1)
            viewers = [i for i in range(n) if i != publisher]

            deadline = time.monotonic() + 30
            while True:
                sts = {i: nodes[i].try_status() for i in viewers}
                if all(flowing(sts[i]) for i in viewers):
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("viewers never all received every stripe: "
                                         f"{[i for i in viewers if not flowing(sts[i])]}")
                time.sleep(0.3)
            # Let the forest settle a little more, then pick the viewer with the most children in
            # stripes it is not the root of (a root's children go to its successor instead).
            time.sleep(1.0)
            sts = {i: nodes[i].try_status() for i in viewers}
            id_of = {i: sts[i]["node_id"] for i in viewers if sts[i]}
            index_of = {v: k for k, v in id_of.items()}

            def children(i):  # in the stripes where i is not the root (see test_streams.py)
                return [(index_of.get(c["node_id"]), x["index"]) for x in viewer_stripes(sts[i])
                        if not x["root"] for c in x["children"]]
            candidates = [i for i in viewers if sts[i]]
            leaver = max(candidates, key=lambda i: (len(children(i)), -i))
            watched = [(c, s) for c, s in children(leaver) if c is not None]
            if not watched:
                raise AssertionError("no viewer has stripe-children outside its root stripes")
            print(f"node {leaver} has {len(watched)} stripe-children "
                  f"({len({c for c, _ in watched})} nodes); SIG{args.signal}", flush=True)

            cluster.kill(nodes[leaver], getattr(signal, "SIG" + args.signal))
            t0 = time.monotonic()
            worst = {w: 0.0 for w in watched}
            # Each watched pair's parents since the signal, with when they were first seen: what a
            # late pair went through is printed (diagnosis).
            history = {w: [] for w in watched}
            polls = 0
            kids = sorted({c for c, _ in watched})
            while time.monotonic() - t0 < WATCH_S:
                for c in kids:
                    st = viewer_stripes(nodes[c].try_status())
                    if st is None:
                        continue
                    t = round((time.monotonic() - t0) * 1000)
                    for (cc, s) in watched:
                        if cc == c:
                            age = st[s]["last_receive_age_ms"]
                            worst[(cc, s)] = max(worst[(cc, s)], age if age is not None else 1e9)
                            par = st[s]["parent"] and index_of.get(st[s]["parent"]["node_id"],
                                                                   "publisher")
                            step = (par, repair_note(st[s], index_of))
                            h = history[(cc, s)]
                            if not h or h[-1][1] != step:
                                h.append((t, step))
                polls += 1
            final = {c: nodes[c].try_status() for c in kids}
            lost = []
            for (c, s) in watched:
                parent = viewer_stripes(final[c])[s]["parent"]
                if parent is None or parent["node_id"] == id_of[leaver]:
                    lost.append((c, s))
            slowest = max(worst.values())
            print(f"{polls} polling rounds over {WATCH_S} s; longest silence of a stripe at a "
                  f"child {slowest:.0f} ms (bound {LEAVE_BOUND_MS:.0f} ms)", flush=True)
            if lost:
                raise AssertionError(f"(child, stripe) pairs without a new parent: {lost}")
            late = {w: round(v) for w, v in worst.items() if v > LEAVE_BOUND_MS}
            for w in sorted(late, key=late.get, reverse=True)[:6]:
                print(f"  child {w[0]} stripe {w[1]}: silent {late[w]} ms; (ms, (parent, repair "
                      f"step)) {history[w]}", flush=True)
            for s in sorted({s for _, s in late}):  # where the leaver sat in the late stripes
                x = viewer_stripes(sts[leaver])[s]
                par = x["parent"] and index_of.get(x["parent"]["node_id"], "publisher")
                print(f"  leaver in stripe {s} before the signal: parent {par}, "
                      f"{repair_note(x, index_of) or 'attached'}, children "
                      f"{[index_of.get(c['node_id'], 'publisher') for c in x['children']]}",
                      flush=True)
            # What the late children's repairs cost in messages (counters since before the signal).
            def moved(before, after):
                b, a = (before or {}).get("counters", {}), (after or {}).get("counters", {})
                return {k: a[k] - b.get(k, 0) for k in sorted(a)
                        if isinstance(a[k], int) and a[k] != b.get(k, 0) and
                        any(w in k for w in ("anycast", "walk", "join", "refus", "pushdown"))}
            for c in sorted({c for c, _ in late})[:3]:
                print(f"  child {c} counters since the signal: {moved(sts.get(c), final.get(c))}",
                      flush=True)
            if late:
                raise AssertionError(f"(child, stripe): longest silence ms over the bound: {late}")
            if args.signal == "TERM":
                try:
                    code = nodes[leaver].proc.wait(timeout=5)
                except Exception:
                    raise AssertionError("the leaver did not exit within 5 s of SIGTERM")
                if code != 0:
                    raise AssertionError(f"the leaver exited with {code}")
            print(f"PASS graceful leave: {len(watched)} stripe-children re-attached, none "
                  f"silent for more than {slowest:.0f} ms", flush=True)
            return 0
        except (AssertionError, TimeoutError) as e:
            print(f"FAIL: {e}", flush=True)
            return 1


if __name__ == "__main__":
    sys.exit(main())
