#!/usr/bin/env python3
"""The operator's tools behind `forestcast cluster ...` and `forestcast status HOST:PORT` (the
forestcast binary runs this file, installed next to it as ops/, and passes its own path in
FORESTCAST_BINARY). Exit codes: 0 ok, 1 the operation failed, 2 bad usage; every failure is one
line on stderr."""
import argparse
import random
import json
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import admin_api  # noqa: E402
import cluster_state  # noqa: E402
import netns  # noqa: E402
import ring  # noqa: E402
from cluster import ADMIN_OFFSET, Cluster, ClusterError  # noqa: E402



class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage as well by default)
        sys.stderr.write(f"{self.prog}: {message}\n")
        sys.exit(2)


def latency_range(text):
    try:
        lo, hi = (float(x) for x in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected A-B in milliseconds, got '{text}'")
    if not 0 <= lo <= hi <= 10000:
        raise argparse.ArgumentTypeError(f"need 0 <= A <= B <= 10000, got '{text}'")
    return text


def fraction(text):
    v = float(text)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return v


def build_parser():
    p = Parser(prog="forestcast", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    st = sub.add_parser("status", help="print one node's state as tables")
    st.add_argument("admin", metavar="HOST:PORT", help="the node's admin API address")
    st.add_argument("--json", action="store_true", help="print the raw /status JSON")

    c = sub.add_parser("cluster", help="a local cluster of real nodes",
                       description="A local cluster of real `forestcast node` processes. Node i "
                       f"uses UDP BASE+i and admin HTTP BASE+{ADMIN_OFFSET}+i; its page is "
                       "http://ADMIN/. State, keys and logs live in --dir.")
    c.add_argument("--dir", default=cluster_state.default_dir(),
                   help="state directory (default $FORESTCAST_CLUSTER_DIR or "
                   "/tmp/forestcast-cluster-UID)")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    cs = c.add_subparsers(dest="action", required=True, parser_class=Parser)

    up = cs.add_parser("up", help="start N nodes and wait until the ring is stable")
    up.add_argument("--nodes", type=int, required=True)
    up.add_argument("--base-port", type=int, default=7000)
    up.add_argument("--netns", action="store_true",
                    help="each node in its own network namespace, joined by a bridge (root)")
    up.add_argument("--latency-ms", type=latency_range, metavar="A-B",
                    help="emulated one-way latency range (sphere model, from the node ids)")
    up.add_argument("--loss", type=fraction, default=0.0, help="emulated loss fraction")
    up.add_argument("--topology", choices=["sphere", "plane"], default="sphere")
    up.add_argument("--publish", nargs="+", metavar="NAME", default=[],
                    help="streams to publish (synthetic sources), one publisher node each")
    up.add_argument("--viewers", type=int, default=0,
                    help="viewer nodes per published stream (chosen at random)")
    up.add_argument("--stream-kbps", type=float, default=1000.0,
                    help="rate of each published synthetic stream")
    up.add_argument("--seed", type=int, default=None, help="bootstrap choice")
    up.add_argument("--test-partitionable", action="store_true",
                    help="test only: node I drops datagrams from the addresses listed in "
                         "DIR/nodeI.drop (a partition a test can make and heal)")
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a stable ring")
    up.add_argument("--spacing", type=float, default=0.05, help="seconds between node starts")

    k = cs.add_parser("kill", help="SIGKILL nodes (a crash)")
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--count", type=int)
    g.add_argument("--node", metavar="ID", help="index or node-id prefix")
    g.add_argument("--fraction", type=fraction)
    k.add_argument("--seed", type=int, default=None)

    r = cs.add_parser("restart", help="start a killed node again (same key, same id)")
    r.add_argument("--node", metavar="ID", required=True)
    r.add_argument("--timeout", type=float, default=30.0)

    s = cs.add_parser("status", help="every node, the ring, checked against the oracle")
    s.add_argument("--dot", metavar="FILE", help="also write the ring for Graphviz")
    s.add_argument("--json", action="store_true", help="machine-readable summary")

    cs.add_parser("down", help="stop everything this cluster started")
    # --dir and --quiet also after the action (`cluster up --dir X`), where people type them.
    for action in cs.choices.values():
        action.add_argument("--dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        action.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                            help=argparse.SUPPRESS)
    return p


def cmd_status(args):
    try:
        st = admin_api.get_status(args.admin, timeout=2.0)
    except admin_api.Unreachable as e:
        raise ClusterError(str(e))
    print(json.dumps(st, indent=2) if args.json else admin_api.format_status(st))
    return 0


def cluster_status(cl, args):
    if cl.state is None:
        raise ClusterError(f"no cluster in {cl.dir} (`forestcast cluster up` first)")
    statuses, by_id = cl.gather()
    bad = ring.check_against_oracle(statuses)
    ordered = sorted(statuses, key=lambda h: int(h, 16))
    if args.json:
        print(json.dumps({"nodes": [{"index": by_id[h]["index"], "node_id": h,
                                     "admin": by_id[h]["admin"], "addr": by_id[h]["addr"],
                                     "state": (statuses[h] or {}).get("state"),
                                     "leaf_set_ok": h not in bad} for h in ordered],
                          "killed": [n["index"] for n in cl.state["nodes"] if n["killed"]],
                          "mismatches": len(bad)}))
    else:
        rows = []
        for h in ordered:
            st, n = statuses[h], by_id[h]
            rows.append([n["index"], h, n["addr"], n["admin"], st["state"] if st else "silent",
                         len(st["leaf_set"]) if st else "-",
                         st["routing_table_entries"] if st else "-",
                         st["neighborhood_set"] if st else "-",
                         "ok" if h not in bad else "MISMATCH"])
        print(f"ring of {len(ordered)} live nodes (in id order; "
              f"{sum(n['killed'] for n in cl.state['nodes'])} killed)")
        print(admin_api.table(rows, ["#", "node id", "udp", "admin", "state", "leaf", "rt",
                                     "nbr", "oracle"]))
        for h in list(bad)[:10]:
            print("  " + ring.describe_mismatch(h, *bad[h]))
        print(f"leaf sets: {len(ordered) - len(bad)}/{len(ordered)} equal the oracle's")
    if args.dot:
        labels = {h: f"#{by_id[h]['index']}" for h in ordered}
        with open(args.dot, "w") as f:
            f.write(ring.ring_dot(statuses, labels))
    return 0 if not bad else 1


def stream_roles(args):
    """Extra `forestcast node` flags per node index: the last len(--publish) nodes publish, and
    --viewers nodes (at random among the others) view each stream. They start with the ring;
    viewers find their stream by name once its publisher is up."""
    names = args.publish
    if len(set(names)) != len(names):
        raise ClusterError("--publish names must differ")
    if args.viewers and not names:
        raise ClusterError("--viewers needs --publish NAME")
    others = args.nodes - len(names)
    if others < 0 or args.viewers < 0 or args.viewers > others:
        raise ClusterError(f"{args.nodes} nodes cannot hold {len(names)} publishers and "
                           f"{args.viewers} viewers per stream")
    if names and not 0 < args.stream_kbps <= 1_000_000:
        raise ClusterError("--stream-kbps must be in (0, 1000000]")
    rng = random.Random(args.seed)
    extra = {}
    for k, name in enumerate(names):
        extra.setdefault(others + k, []).extend(
            ["--publish", name, "--synthetic-kbps", f"{args.stream_kbps:g}"])
        for i in rng.sample(range(others), args.viewers):
            extra.setdefault(i, []).extend(["--view", name])
    return extra


def cmd_cluster(args):
    binary = os.environ.get("FORESTCAST_BINARY") or shutil.which("forestcast")
    if args.action == "up" and not binary:
        raise ClusterError("cannot find the forestcast binary (set FORESTCAST_BINARY)")
    cl = Cluster(args.dir, binary)
    if args.action == "up":
        if not 1 <= args.nodes <= 1000:
            raise ClusterError("--nodes must be between 1 and 1000")
        streams = stream_roles(args)
        took = cl.up(args.nodes, args.base_port, args.netns, args.latency_ms, args.loss,
                     args.topology, args.seed, args.timeout, args.quiet, args.spacing, streams,
                     args.test_partitionable)
        first = cl.state["nodes"][0]
        print(f"cluster up: {args.nodes} nodes, every leaf set equals the oracle's "
              f"({took:.1f} s after the first start); page http://{first['admin']}/ ; "
              f"state {cl.dir}/{cluster_state.STATE_FILE}")
        return 0
    if args.action == "down":
        stopped, namespaces, had_state = cl.down()
        if not had_state and not stopped and not namespaces:
            print(f"cluster down: nothing was running ({cl.dir})")
        else:
            print(f"cluster down: stopped {stopped} nodes, removed {namespaces} namespaces")
        return 0
    if cl.state is None:
        raise ClusterError(f"no cluster in {cl.dir} (`forestcast cluster up` first)")
    if args.action == "status":
        return cluster_status(cl, args)
    if args.action == "kill":
        victims = cl.kill(args.count, args.node, args.fraction, args.seed)
        print("killed " + ", ".join(f"{v['index']} ({(v.get('node_id') or '?')[:8]})"
                                    for v in victims))
        return 0
    if args.action == "restart":
        took = cl.restart(args.node, args.timeout)
        print(f"restarted node {args.node}; ring stable again after {took:.1f} s")
        return 0
    return 2


def main(argv=None):
    args = build_parser().parse_args(argv)
    # SIGTERM and SIGINT become exceptions, so `up` still cleans up what it started.
    def stop(signo, _frame):
        raise ClusterError(f"interrupted by signal {signo}")
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        return cmd_status(args) if args.command == "status" else cmd_cluster(args)
    except (ClusterError, netns.NetnsError) as e:
        print(f"forestcast {args.command}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `forestcast status ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
