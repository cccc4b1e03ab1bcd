#!/usr/bin/env python3
"""`./run demo`: live video through a local forest of real forestcast nodes.

1. Ring: N nodes on loopback (the `forestcast cluster` launcher); every leaf set must equal the
   oracle's before going on.
2. Video: ffmpeg encodes testsrc2 (640x360, 30 fps, H.264, ~1.5 Mbit/s) live into RTP; the last
   node publishes it (--rtp-in, FEC across the 16 stripes); V nodes view it. Viewer 0 plays out
   to a real ffmpeg decoder, viewer 1 to results/view.sdp (open it in ffplay or VLC while the
   demo runs). A live table shows each viewer's stripes, continuity and delay.
3. Failure: a quarter of the relays (nodes neither publishing nor viewing) are SIGKILLed
   part-way; the forest repairs around them.
4. Report: results/report.json, forest.svg (the stripe trees after the repair, Graphviz),
   delay-cdf.png and continuity-timeline.png (matplotlib). Exits 1 if any viewer's continuity
   fell below 99 % or the decoder saw an error, 0 otherwise. Everything started is stopped.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "ops"))
import admin_api  # noqa: E402
import cluster_state  # noqa: E402
from cluster import Cluster, ClusterError, find_free_base  # noqa: E402
from demo_figures import write_figures  # noqa: E402

STREAM = "testsrc"
MIN_CONTINUITY = 0.99
FRESH_MS = 1000  # a stripe counts as received when its last packet is younger than this


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def encoder_cmd(ffmpeg, seconds, port, sdp, probe=False):
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error"]
    if not probe:
        cmd += ["-re"]
    cmd += ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30"]
    cmd += ["-frames:v", "1"] if probe else ["-t", str(seconds)]
    return cmd + ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
                  "-b:v", "1500k", "-g", "30", "-pix_fmt", "yuv420p",
                  "-f", "rtp", "-sdp_file", sdp, f"rtp://127.0.0.1:{port}"]


def viewer_entry(st):
    for s in (st or {}).get("streams", []):
        if s["role"] == "viewer" and s.get("name") == STREAM:
            return s
    return None


def stripe_edges(statuses):
    """[(stripe index, parent id, child id)] from every node's view of its stripe parents."""
    edges = set()
    for node_id, st in statuses.items():
        for s in (st or {}).get("streams", []):
            for x in s.get("stripes", []):
                parent = x.get("parent")
                if parent and "stripe_id" in x:
                    edges.add((int(x["stripe_id"][0], 16), parent["node_id"], node_id))
            if s["role"] == "publisher":
                for x in s.get("stripes", []):
                    for c in x.get("children", []):
                        edges.add((x["index"], node_id, c["node_id"]))
    return sorted(edges)


def forest_dot(edges, names):
    colors = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
              "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3",
              "#808000", "#000075"]
    out = ["digraph forest {", "  rankdir=TB; node [shape=box, fontname=monospace, fontsize=10];"]
    for node_id, label in names.items():
        out.append(f'  "{node_id[:8]}" [label="{label}"];')
    for stripe, parent, child in edges:
        out.append(f'  "{parent[:8]}" -> "{child[:8]}" [color="{colors[stripe % 16]}", '
                   f'tooltip="stripe {stripe}"];')
    out.append("}")
    return "\n".join(out) + "\n"


def sample(viewers, t):
    """One row per viewer for the live table and the timeline."""
    rows = {}
    for idx, node in viewers.items():
        st = admin_api.try_status(node["admin"], timeout=0.5)
        s = viewer_entry(st)
        if not s:
            rows[idx] = None
            continue
        m = s.get("media", {})
        fresh = sum(1 for x in s.get("stripes", [])
                    if x.get("last_receive_age_ms") is not None
                    and x["last_receive_age_ms"] < FRESH_MS)
        rows[idx] = {"t": t, "stripes": fresh, "expected": m.get("expected", 0),
                     "delivered_in_time": m.get("delivered_in_time", 0),
                     "lost": m.get("lost", 0), "late": m.get("late", 0),
                     "fec_restored": m.get("fec_restored", 0),
                     "retransmitted": m.get("retransmitted") or 0,
                     "continuity": m.get("continuity", 1.0),
                     "delay_p50_ms": m.get("delay_p50_ms"), "delay_p99_ms": m.get("delay_p99_ms"),
                     "repairs": sum(x.get("repairs", 0) for x in s.get("stripes", []))}
    return rows


def print_table(t, rows, roles):
    header = ["t", "viewer", "stripes", "continuity", "lost", "fec rest.", "retrans.",
              "delay p50/p99 ms", "repairs"]
    out = []
    for idx, r in rows.items():
        if r is None:
            out.append([f"{t:4.0f}s", f"node {idx} {roles[idx]}"] + ["-"] * 7)
            continue
        delay = "-" if r["delay_p50_ms"] is None else \
            f"{r['delay_p50_ms']:.0f}/{r['delay_p99_ms']:.0f}"
        out.append([f"{t:4.0f}s", f"node {idx} {roles[idx]}", f"{r['stripes']}/16",
                    f"{100 * r['continuity']:.2f} %", r["lost"], r["fec_restored"],
                    r["retransmitted"], delay, r["repairs"]])
    print(admin_api.table(out, header), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--viewers", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=45, help="length of the live video")
    ap.add_argument("--kill-at", type=float, default=15.0, help="seconds into the video")
    ap.add_argument("--fec", default="14+2",
                    help="K+M; a cut of more than M stripe trees is covered by gap repair")
    ap.add_argument("--capacity", type=int, default=16,
                    help="stripe-children every node offers (relays forward too)")
    ap.add_argument("--results", default="results")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.nodes < args.viewers + 3 or args.viewers < 1:
        ap.error("need --viewers >= 1 and --nodes >= viewers + 3")
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        print("demo: ffmpeg is not installed (./run installs it)")
        return 1
    results = os.path.abspath(args.results)
    os.makedirs(results, exist_ok=True)
    rng = random.Random(args.seed)
    procs = []

    def stop_all(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_all)
    with tempfile.TemporaryDirectory(prefix="forestcast-demo-") as workdir:
        cluster = Cluster(workdir, os.path.abspath(args.binary))
        try:
            n = args.nodes
            pub = n - 1
            viewer_ids = sorted(rng.sample(range(n - 1), args.viewers))
            relays = [i for i in range(n - 1) if i not in viewer_ids]
            rtp_in = free_udp_port()
            in_sdp = os.path.join(workdir, "in.sdp")
            # The encoder's SDP before the stream starts (same settings, one frame to nowhere),
            # so the publisher's name record is ready when the viewers look for it.
            subprocess.run(encoder_cmd(ffmpeg, 1, free_udp_port(), in_sdp, probe=True),
                           check=True, timeout=30)
            decoder_port, watch_port = free_udp_port(), free_udp_port()
            decoder_sdp = os.path.join(workdir, "decoder.sdp")
            watch_sdp = os.path.join(results, "view.sdp")
            flags = {pub: ["--publish", STREAM, "--rtp-in", f"127.0.0.1:{rtp_in}", "--sdp",
                           in_sdp, "--fec", args.fec]}
            roles = {}
            for k, i in enumerate(viewer_ids):
                flags[i] = ["--view", STREAM]
                roles[i] = "viewer"
                if k == 0:
                    flags[i] += ["--rtp-out", f"127.0.0.1:{decoder_port}", "--sdp-out",
                                 decoder_sdp]
                    roles[i] = "-> ffmpeg"
                elif k == 1:
                    flags[i] += ["--rtp-out", f"127.0.0.1:{watch_port}", "--sdp-out", watch_sdp]
                    roles[i] = "-> view.sdp"
            for i in range(n):
                flags.setdefault(i, [])
                flags[i] += ["--capacity", str(args.capacity),
                             "--log-level", "info,scribe=warn,splitstream=warn"]

            print(f"1. ring: starting {n} nodes on 127.0.0.1 ...", flush=True)
            took = cluster.up(n, find_free_base(n), False, None, 0.0, "sphere", args.seed, 40.0,
                              True, 0.05, streams=flags)
            print(f"   every leaf set equals the oracle's {took:.1f} s after the first start",
                  flush=True)
            by_index = {nd["index"]: nd for nd in cluster.state["nodes"]}
            viewers = {i: by_index[i] for i in viewer_ids}

            deadline = time.monotonic() + 30
            while any(not (viewer_entry(admin_api.try_status(v["admin"])) or {}).get("media")
                      for v in viewers.values()):
                if time.monotonic() > deadline:
                    raise ClusterError("viewers did not resolve the stream in 30 s")
                time.sleep(0.3)
            print(f"2. video: node {pub} publishes '{STREAM}' (FEC {args.fec}); viewers "
                  f"{viewer_ids}; {len(relays)} relays", flush=True)
            print(f"   watch it now: ffplay -protocol_whitelist file,udp,rtp {watch_sdp}",
                  flush=True)
            decoder = subprocess.Popen(
                [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-stats",
                 "-protocol_whitelist", "file,udp,rtp", "-i", decoder_sdp,
                 "-f", "null", "-"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, start_new_session=True)
            procs.append(decoder)
            time.sleep(0.5)
            encoder = subprocess.Popen(encoder_cmd(ffmpeg, args.seconds, rtp_in, in_sdp),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       text=True, start_new_session=True)
            procs.append(encoder)
            t0 = time.monotonic()
            timeline = {i: [] for i in viewer_ids}
            victims, killed_at, before = [], None, None
            next_table = 0.0
            while encoder.poll() is None:
                t = time.monotonic() - t0
                rows = sample(viewers, t)
                for i, r in rows.items():
                    if r:
                        timeline[i].append(r)
                if t >= next_table:
                    print_table(t, rows, roles)
                    next_table = t + 5
                if killed_at is None and t >= args.kill_at:
                    before = cluster.gather()[0]
                    k = max(1, len(relays) // 4)
                    victims = sorted(rng.sample(relays, k))
                    cluster_victims = [by_index[i] for i in victims]
                    cluster_state.stop([v["pid"] for v in cluster_victims], graceful=False)
                    for v in cluster_victims:
                        v["killed"] = True
                    cluster.save()
                    killed_at = t
                    print(f"3. failure: SIGKILLed {k} of {len(relays)} relays at t={t:.0f}s: "
                          f"nodes {victims}", flush=True)
                time.sleep(1.0)
            if encoder.returncode != 0:
                raise ClusterError("encoder failed: " + encoder.stderr.read()[-500:])
            time.sleep(1.5)  # the playout buffer drains
            t = time.monotonic() - t0
            final = sample(viewers, t)
            statuses, by_id = cluster.gather()
            print_table(t, final, roles)
            try:
                decoder.wait(timeout=15)  # ends after its input has been silent a while
            except subprocess.TimeoutExpired:
                os.killpg(decoder.pid, signal.SIGINT)
                decoder.wait(timeout=5)
            dec_err, decoded = parse_decoder(decoder.stderr.read())

            names = {}
            for node_id, nd in by_id.items():
                i = nd["index"]
                role = "publisher" if i == pub else roles.get(i, "relay")
                names[node_id] = f"{i} {role}\\n{node_id[:8]}"
            with open(os.path.join(results, "forest.dot"), "w") as f:
                f.write(forest_dot(stripe_edges(statuses), names))
            svg = shutil.which("dot") and subprocess.run(
                ["dot", "-Tsvg", "-o", os.path.join(results, "forest.svg"),
                 os.path.join(results, "forest.dot")], timeout=60).returncode == 0

            report = build_report(args, viewer_ids, victims, killed_at, final, timeline, statuses,
                                  by_id, pub, decoded, dec_err, before)
            with open(os.path.join(results, "report.json"), "w") as f:
                json.dump(report, f, indent=1)
            figures = write_figures(results, report)
            print_report(report, results, svg, figures)
            return 0 if report["ok"] else 1
        except (ClusterError, subprocess.CalledProcessError, KeyboardInterrupt) as e:
            print(f"demo: {e or 'stopped'}")
            return 1
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
            cluster.down(quiet=True)


def parse_decoder(text):
    errors, frames = [], 0
    for line in text.replace("\r", "\n").splitlines():
        line = line.strip()
        if line.startswith("frame="):
            frames = int(line.split("=", 1)[1].split()[0])
        elif line and not any(b in line for b in ("Connection timed out", "Exiting normally",
                                                  "received signal", "Last message repeated")):
            errors.append(line)
    return errors, frames


def build_report(args, viewer_ids, victims, killed_at, final, timeline, statuses, by_id, pub,
                 decoded, dec_err, before):
    viewers = {}
    for i in viewer_ids:
        st = next((s for h, s in statuses.items() if by_id[h]["index"] == i), None)
        v = viewer_entry(st) or {}
        viewers[str(i)] = {"media": v.get("media"),
                           "stripes": [{k: x.get(k) for k in ("index", "packets_received",
                                                              "repairs", "depth")}
                                       for x in v.get("stripes", [])],
                           "timeline": timeline[i]}
    pub_media = next((s.get("media") for h, s in statuses.items()
                      if by_id[h]["index"] == pub and s
                      for s in s.get("streams", []) if s["role"] == "publisher"), None)
    worst = min(((v["media"] or {}).get("continuity", 0.0) for v in viewers.values()),
                default=0.0)
    counters = [s["counters"] for s in statuses.values() if s]
    frames_published = int(30 * args.seconds)
    ok = worst >= MIN_CONTINUITY and not dec_err
    return {"ok": ok, "nodes": args.nodes, "fec": args.fec, "seconds": args.seconds,
            "min_continuity": MIN_CONTINUITY, "worst_continuity": worst,
            "killed": victims, "killed_at_s": killed_at,
            "decoder": {"frames_published": frames_published, "frames_decoded": decoded,
                        "errors": dec_err[:20]},
            "repair": {
                "scribe_parent_failures": sum(c.get("scribe_parent_failures", 0)
                                              for c in counters),
                "splitstream_scg_adoptions": sum(c.get("splitstream_scg_adoptions", 0)
                                                 for c in counters),
                "nodes_declared_dead": sum(c.get("nodes_declared_dead", 0) for c in counters),
                # Gap repair: replays by surviving nodes (to re-attached children, new roots).
                "replay_packets": sum(c.get("scribe_replay_packets", 0) for c in counters),
                "replay_bytes": sum(c.get("scribe_replay_bytes", 0) for c in counters),
                "replay_requests_refused": sum(c.get("scribe_replay_requests_refused", 0)
                                               for c in counters),
                "stripe_repairs_at_viewers": {
                    i: sum(x["repairs"] or 0 for x in v["stripes"]) for i, v in viewers.items()},
                "relays_before_kill": len([s for s in (before or {}).values() if s]),
            },
            "publisher": pub_media, "viewers": viewers}


def print_report(r, results, svg, figures):
    print("\n4. repair report")
    print(f"   relays killed:         {len(r['killed'])} at t={r['killed_at_s'] or 0:.0f}s "
          f"(nodes {r['killed']})")
    rep = r["repair"]
    # A parent's death reaches Scribe either as its own silence timeout or, often first over
    # loopback, as Pastry's verdict on the node; the second is not counted as a Scribe failure.
    print(f"   dead parents seen by Scribe's silence timeout: {rep['scribe_parent_failures']}; "
          f"nodes declared dead by Pastry: {rep['nodes_declared_dead']}")
    print(f"   stripe repairs at the viewers: {rep['stripe_repairs_at_viewers']}")
    print(f"   gap repair: {rep['replay_packets']} packets ({rep['replay_bytes']} bytes) replayed "
          f"by surviving nodes, {rep['replay_requests_refused']} requests refused")
    for i, v in r["viewers"].items():
        m = v["media"] or {}
        print(f"   viewer {i}: continuity {100 * m.get('continuity', 0):.3f} % "
              f"({m.get('delivered_in_time', 0)}/{m.get('expected', 0)} packets, "
              f"{m.get('lost', 0)} lost, {m.get('late', 0)} late, "
              f"{m.get('fec_restored', 0)} rebuilt by FEC, {m.get('retransmitted') or 0} "
              f"restored by retransmission), delay p50 "
              f"{m.get('delay_p50_ms', 0):.0f} ms p99 {m.get('delay_p99_ms', 0):.0f} ms")
    d = r["decoder"]
    print(f"   ffmpeg decoder: {d['frames_decoded']} of ~{d['frames_published']} frames "
          f"(it joined live), {len(d['errors'])} error lines")
    print(f"   files: {results}/report.json" + (", forest.svg" if svg else " (no dot: no svg)")
          + "".join(", " + f for f in figures))
    print(f"\n{'PASS' if r['ok'] else 'FAIL'}: worst viewer continuity "
          f"{100 * r['worst_continuity']:.3f} % (needs >= {100 * MIN_CONTINUITY:.0f} %)"
          + ("" if not d["errors"] else "; the decoder reported errors"))


if __name__ == "__main__":
    sys.exit(main())
