#!/usr/bin/env python3
"""Streams through the forest with real processes (issue 11): N `forestcast node` processes on
loopback, 3 publishers of synthetic 2 Mbit/s streams found by name, 8 viewers per stream. Checks
that every viewer receives every stripe on data; SIGKILLs 6 non-publisher nodes (one of them a
stripe root) and requires every surviving viewer to receive every stripe again within the
repair bound. (A graceful leave is test_stream_leave.py.)

usage: test_streams.py PATH/TO/forestcast [--nodes 24] [--capacity C] [--seed S] [--dump FILE]
                      [--repair-bound S] [--keep-logs DIR]

The issue's figure is 2 s (the default, used by bench/streams_repair.sh). CI passes a looser
bound (CMakeLists.txt): the 2 s figure is met in most runs, not all (BENCHMARKS.md). --seed
replays the same ring: the node keys derive from it."""
import argparse
import base64
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from single_node import Cluster, bound_runtime, free_ports, wait_for_status  # noqa: E402

STREAMS = ("news", "sport", "music")
KBPS = 2000
VIEWERS_PER_STREAM = 8
KILLS = 6
FRESH_MS = 400  # a stripe counts as flowing when its last packet is younger than this


def stripes_by_stream(st):
    """{stream name: [stripe dicts]} for the streams this node views (resolved)."""
    return {s["name"]: s["stripes"] for s in st.get("streams", [])
            if s["role"] == "viewer" and s.get("resolved")}


def all_flowing(st, names, baseline=None):
    got = stripes_by_stream(st)
    for name in names:
        stripes = got.get(name)
        if not stripes or len(stripes) != 16:
            return False
        for s in stripes:
            age = s["last_receive_age_ms"]
            if age is None or age > FRESH_MS:
                return False
            if baseline is not None and s["packets_received"] <= baseline.get((name, s["index"]), 0):
                return False
    return True


def repair_note(stripe, id_index):
    """A stripe's repair step in a few letters (/status repair_state): R root, C cut off,
    J<n>><node> JOIN attempt n (direct to node, or routed: r), W walk in flight."""
    rs = stripe.get("repair_state") or {}
    note = ("R" if stripe.get("root") else "") + ("C" if rs.get("cut_off") else "")
    if rs.get("joining"):
        target = rs.get("join_target")
        note += f"J{rs.get('join_attempts', 0)}>" + (
            str(id_index.get(target, "?")) if target else "r")
    if rs.get("walk_age_ms") is not None:
        note += "W"
    return note


def write_key(path, seed32):
    """An Ed25519 private key (PKCS#8 PEM) from 32 seed bytes: the seed fixes every node id, so
    --seed replays the same ring, not only the same roles."""
    der = bytes.fromhex("302e020100300506032b657004220420") + seed32
    body = base64.encodebytes(der).decode().replace("\n", "")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--nodes", type=int, default=24)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--capacity", type=int, default=None,
                    help="every node's outdegree limit (default: the daemon's, stripes received)")
    ap.add_argument("--repair-bound", type=float, default=2.0,
                    help="seconds every surviving viewer has to get every stripe back")
    ap.add_argument("--dump", help="on failure, write every node's /status here (JSON)")
    ap.add_argument("--keep-logs", help="on failure, copy every node's log into this directory")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)
    bound_runtime(150)

    n = args.nodes
    # The publishers start last, into a formed ring (root hand-over to later joiners is
    # exercised by the simulator's forest scenario).
    publishers = {n - len(STREAMS) + k: name for k, name in enumerate(STREAMS)}
    viewers = {name: set() for name in STREAMS}
    others = [i for i in range(n) if i not in publishers]
    for name in STREAMS:  # 8 viewers each; with 21 candidates some nodes view two streams
        viewers[name] = set(rng.sample(others, VIEWERS_PER_STREAM))
    views_of = {i: [s for s in STREAMS if i in viewers[s]] for i in range(n)}

    with tempfile.TemporaryDirectory(prefix="forestcast-streams-") as workdir, \
            Cluster(args.binary, workdir) as cluster:
        try:
            ports = free_ports(2 * n)
            nodes = []
            before = {}  # every node's /status just before the kill (--dump)
            key_rng = random.Random(f"keys-{seed}")
            for i in range(n):
                write_key(os.path.join(workdir, f"node{i}.key"), key_rng.randbytes(32))
                extra = [] if args.capacity is None else ["--capacity", str(args.capacity)]
                if i in publishers:
                    extra += ["--publish", publishers[i], "--synthetic-kbps", str(KBPS)]
                for s in views_of[i]:
                    extra += ["--view", s]
                boots = [] if i == 0 else [nodes[rng.randrange(i)].addr]
                nodes.append(cluster.start(i, ports[2 * i], ports[2 * i + 1], boots, extra))
                if i == 0:
                    wait_for_status(nodes[0], time.monotonic() + 5)
                time.sleep(0.1)
            watched = [i for i in range(n) if views_of[i]]

            # 1. Every viewer gets every stripe of every stream it views: each one seen with all
            # of them fresh in one /status (not all viewers in the same sweep: on the loaded box
            # one packet 1 ms late at the last sweep failed a formed forest). A viewer that loses
            # a stripe for good afterwards fails the repair check below.
            deadline = time.monotonic() + 30
            complete = set()
            while True:
                sts = {i: nodes[i].try_status() for i in watched if i not in complete}
                complete |= {i for i, st in sts.items()
                             if st is not None and all_flowing(st, views_of[i])}
                missing = [i for i in watched if i not in complete]
                if not missing:
                    break
                if time.monotonic() > deadline:
                    detail = {i: [(nm, [(x["index"], x["last_receive_age_ms"], x["parent"] and
                                         x["parent"]["node_id"][:6]) for x in ss
                                        if x["last_receive_age_ms"] is None or
                                        x["last_receive_age_ms"] > FRESH_MS])
                                  for nm, ss in stripes_by_stream(sts[i] or {}).items()]
                              for i in missing[:3]}
                    raise AssertionError(f"viewers {missing} never received every stripe "
                                         f"(stream, [(stripe, age ms, parent)]): {detail}")
                time.sleep(0.3)
            print(f"PASS forest: {len(watched)} viewers receive all 16 stripes of "
                  f"{sum(len(v) for v in views_of.values())} (viewer, stream) pairs", flush=True)
            violations = [i for i in range(n) if (nodes[i].try_status() or {}).get(
                "counters", {}).get("splitstream_limit_violations", 0)]
            if violations:
                raise AssertionError(f"outdegree limit exceeded on nodes {violations}")

            # 2. SIGKILL 6 non-publishers, one of them a stripe root, at a moment when every
            # viewer has every stripe flowing (one parallel sweep): a subtree that stalled
            # before the kill is not a repair after it (seed 11 killed a root while one stripe's
            # subtree had been cut off for 0.45 s; docs/multicast.md). A forest that never gets
            # there within 15 s fails here, as unstable.
            settle_deadline = time.monotonic() + 15
            while True:
                sts = {}
                sweep = [threading.Thread(target=lambda i=i: sts.__setitem__(i, nodes[i].try_status()))
                         for i in watched]
                for t in sweep:
                    t.start()
                for t in sweep:
                    t.join()
                unsettled = [i for i in watched
                             if sts.get(i) is None or not all_flowing(sts[i], views_of[i])]
                if not unsettled:
                    break
                if time.monotonic() > settle_deadline:
                    raise AssertionError(f"forest not stable before the kill: viewers {unsettled} "
                                         "never all flowing in one sweep within 15 s")
                time.sleep(0.1)
            candidates = others
            roots = [i for i in candidates
                     if any(s.get("root") for st in [nodes[i].try_status() or {}]
                            for stream in st.get("streams", []) for s in stream["stripes"])]
            if not roots:
                raise AssertionError("no non-publisher node is a stripe root")
            victims = [rng.choice(roots)]
            victims += rng.sample([i for i in candidates if i not in victims], KILLS - 1)
            baseline = {}
            survivors = [i for i in watched if i not in victims]
            before = {j: nodes[j].try_status() or {} for j in range(n)}
            id_index = {st["node_id"]: j for j, st in before.items() if st.get("node_id")}

            def chain(j, stripe_id):
                """j's ancestors in a stripe before the kill (from each one's /status)."""
                out = []
                while len(out) < 12:
                    par = next((x["parent"] for stream in before.get(j, {}).get("streams", [])
                                for x in stream["stripes"] if x["stripe_id"] == stripe_id), None)
                    if par is None:
                        break
                    j = id_index.get(par["node_id"], "?")
                    out.append(f"{j}{'(killed)' if j in victims else ''}")
                return out
            stripe_ids = {}
            for i in survivors:
                for name, stripes in stripes_by_stream(nodes[i].status()).items():
                    for s in stripes:
                        baseline[(i, name, s["index"])] = s["packets_received"]
                        stripe_ids[(name, s["index"])] = s["stripe_id"]
            for i in victims:
                cluster.kill(nodes[i])
            killed_at = time.monotonic()
            print(f"killed nodes {victims} (node {victims[0]} was a stripe root)", flush=True)
            # One poller per survivor, so a viewer's repair is seen within one /status round
            # trip, not after a sweep over all of them; the time taken is when the answer that
            # shows it arrived (an upper bound).
            repaired = {}
            # Per survivor and (stream, stripe): when it was first flowing again, and its parents
            # seen since the kill; what the slowest viewers waited for is printed (diagnosis).
            back = {i: {} for i in survivors}
            parents_seen = {i: {} for i in survivors}
            flowing_now = {i: set() for i in survivors}
            lock = threading.Lock()

            def watch(i):
                base = {(nm, x): v for (j, nm, x), v in baseline.items() if j == i}
                while time.monotonic() - killed_at <= args.repair_bound + 3:
                    st = nodes[i].try_status()
                    t = time.monotonic() - killed_at
                    for nm, ss in stripes_by_stream(st or {}).items():
                        for x in ss:
                            key = (nm, x["index"])
                            par = x["parent"] and id_index.get(x["parent"]["node_id"], "?")
                            par = (par, repair_note(x, id_index))
                            seen = parents_seen[i].setdefault(key, [])
                            if not seen or seen[-1][1] != par:
                                seen.append((round(t, 2), par))
                            age = x["last_receive_age_ms"]
                            fresh = age is not None and age <= FRESH_MS and \
                                x["packets_received"] > base.get(key, 0)
                            if fresh and key not in flowing_now[i]:
                                back[i][key] = t  # the last time it came back
                            (flowing_now[i].add if fresh else flowing_now[i].discard)(key)
                    if st and all_flowing(st, views_of[i], base):
                        with lock:
                            repaired[i] = t
                        return
                    time.sleep(0.02)
            pollers = [threading.Thread(target=watch, args=(i,), daemon=True) for i in survivors]
            for t in pollers:
                t.start()
            for t in pollers:
                t.join()
            print("repair times s: " + ", ".join(f"{i}:{repaired[i]:.2f}" for i in
                                                 sorted(repaired, key=repaired.get)), flush=True)
            for i in sorted(survivors, key=lambda v: -repaired.get(v, 99))[:3]:
                last = sorted(back[i].items(), key=lambda kv: -kv[1])[:2]
                missing = [k for k in parents_seen[i] if k not in back[i]]
                for key in missing + [k for k, _ in last]:
                    print(f"  viewer {i} {key[0]}/{key[1]}: back at "
                          f"{back[i].get(key, float('nan')):.2f} s; ancestors before "
                          f"{chain(i, stripe_ids.get(key))}, parents since: "
                          f"{parents_seen[i].get(key)}", flush=True)
            late = {i: repaired.get(i) for i in survivors
                    if repaired.get(i) is None or repaired[i] > args.repair_bound}
            worst = max(repaired.values()) if repaired else float("nan")
            print(f"repair: {len(repaired)}/{len(survivors)} viewers receive every stripe "
                  f"again, slowest after {worst:.2f} s", flush=True)
            if late:
                raise AssertionError(f"viewers not repaired within {args.repair_bound} s: {late}")
            print(f"PASS repair within {args.repair_bound} s (slowest {worst:.2f} s)", flush=True)
            return 0
        except (AssertionError, TimeoutError) as e:
            print(f"FAIL: {e}", flush=True)
            if args.dump:
                with open(args.dump, "w") as f:
                    json.dump({"after": {i: nd.try_status() for i, nd in enumerate(nodes)},
                               "before_kill": before}, f)
            if args.keep_logs:
                os.makedirs(args.keep_logs, exist_ok=True)
                for i in range(len(nodes)):
                    shutil.copy(os.path.join(workdir, f"node{i}.log"), args.keep_logs)
            return 1


if __name__ == "__main__":
    sys.exit(main())
