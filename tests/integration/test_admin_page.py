#!/usr/bin/env python3
"""The admin API and the live page during an 8-node `forestcast cluster` run: every node's
/metrics passes a strict 0.0.4 parser and agrees with /status; `forestcast status` prints the
node's tables; `cluster status --dot` writes the ring; headless Chromium opens a node's page,
sees the leaf set drawn, follows a link to a neighbour's page and saves a screenshot; every
metric the Grafana dashboard queries exists.

usage: test_admin_page.py PATH/TO/forestcast --artifacts DIR --dashboard FILE"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

import prom_text
from launcher import Launcher, bound_runtime, find_free_base

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def get(url):
    with urllib.request.urlopen(url, timeout=3) as r:
        return r.headers.get("Content-Type", ""), r.read().decode()


def chromium(args, profile, timeout=60):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--no-default-browser-check", f"--user-data-dir={profile}",
           "--virtual-time-budget=4000", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return r


def check_metrics(node, status):
    """Runs the checks quietly; returns (families, problems)."""
    problems = []
    global check
    loud, check = check, lambda cond, what: None if cond else problems.append(what)
    try:
        return _check_metrics(node, status), problems
    finally:
        check = loud


def _check_metrics(node, status):
    ctype, text = get(f"http://{node['admin']}/metrics")
    check(ctype.startswith("text/plain") and "version=0.0.4" in ctype,
          f"/metrics content type {ctype!r}")
    try:
        fams = prom_text.parse(text)
    except prom_text.FormatError as e:
        check(False, f"/metrics of node {node['index']} parses strictly: {e}")
        return {}
    check(all(f.startswith("forestcast_") for f in fams), "every family has the forestcast_ prefix")
    check(all(f["help"] and f["type"] for f in fams.values()),
          "every family has HELP and TYPE lines")
    check(all(name.endswith("_total") for name, f in fams.items() if f["type"] == "counter"),
          "every counter ends in _total")
    leaf = fams["forestcast_leaf_set_size"]["samples"][0][2]
    check(leaf == len(status["leaf_set"]), f"leaf_set_size {leaf} = /status leaf set "
          f"{len(status['leaf_set'])}")
    info = fams["forestcast_node_info"]["samples"][0][1]
    check(info.get("node_id") == status["node_id"], "node_info carries the node id label")
    for name, value in status["counters"].items():
        fam = fams.get(f"forestcast_{name}_total")
        if fam is None:
            check(False, f"counter {name} is in /metrics")
            return fams
        # Counters only grow: /metrics was read after /status.
        if fam["samples"][0][2] < value:
            check(False, f"{name}: /metrics {fam['samples'][0][2]} < /status {value}")
    return fams


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--artifacts", required=True)
    ap.add_argument("--dashboard", required=True)
    args = ap.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    bound_runtime(150)
    with tempfile.TemporaryDirectory(prefix="forestcast-page-") as work, \
            Launcher(args.binary, os.path.join(work, "cluster")) as cluster:
        cluster.run("up", "--nodes", "8", "--base-port", str(find_free_base(8)), "--timeout", "30")
        nodes = cluster.state()["nodes"]
        first = nodes[0]
        st = json.loads(get(f"http://{first['admin']}/status")[1])
        check(st.get("admin") == first["admin"], "/status knows its own admin address")
        check(all(h.get("admin") for h in st["leaf_set"]),
              "/status gives every leaf's admin address (UDP port + --peer-admin-offset)")
        check(len(st["routing_table"]) == st["routing_table_rows"] and
              all(len(row) == 16 for row in st["routing_table"]), "/status routing table rows")

        # --- /metrics ------------------------------------------------------------------
        fams, problems = {}, []
        for n in nodes:
            status = json.loads(get(f"http://{n['admin']}/status")[1])
            got, bad = check_metrics(n, status)
            fams, problems = got or fams, problems + bad
        check(not problems and len(fams) > 20,
              f"/metrics of all 8 nodes: strict 0.0.4 parse, HELP+TYPE, forestcast_ prefix, "
              f"_total counters, agree with /status ({len(fams)} families) {problems[:3]}")
        with open(args.dashboard) as f:
            dashboard = json.load(f)
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        used = {m for e in exprs for m in re.findall(r"\bforestcast_[a-z0-9_]+", e)}
        check(bool(used), f"the dashboard queries {len(used)} forestcast metrics")
        missing = sorted(m for m in used if m not in fams)
        check(not missing, f"every metric the dashboard uses is in /metrics (missing {missing})")

        # --- forestcast status / cluster status -----------------------------------------
        r = subprocess.run([args.binary, "status", first["admin"]], capture_output=True,
                           text=True, timeout=20)
        check(r.returncode == 0 and st["node_id"] in r.stdout and
              all(h["node_id"] in r.stdout for h in st["leaf_set"]) and
              "routing table" in r.stdout, "`forestcast status` prints the node and its leaf set")
        dot = os.path.join(args.artifacts, "ring.dot")
        r = cluster.run("status", "--dot", dot, check=False)
        check(r.returncode == 0 and "8/8 equal the oracle" in r.stdout,
              f"`cluster status` checks the ring against the oracle: {r.stdout.splitlines()[-1:]}")
        with open(dot) as f:
            text = f.read()
        check(text.startswith("graph ring") and text.count("[label=") == 8,
              "`cluster status --dot` writes the 8 nodes for Graphviz")

        # --- the page in headless Chromium ---------------------------------------------
        _, html = get(f"http://{first['admin']}/")
        check("<script" in html and not re.search(r"""(src|href)=["']https?://""", html),
              "the page is self-contained (no external src/href)")
        profile = os.path.join(work, "chromium-profile")
        r = chromium(["--dump-dom", f"http://{first['admin']}/"], profile)
        dom = r.stdout
        leaves = set(re.findall(r'class="leaf" data-id="([0-9a-f]{32})"', dom))
        want = {h["node_id"] for h in st["leaf_set"]}
        check(leaves == want, f"the page draws the leaf set ({len(leaves)} of {len(want)} dots; "
              f"chromium exit {r.returncode} {r.stderr.strip()[-200:] if not dom else ''})")
        check(f'id="node-id">{st["node_id"]}<' in dom, "the page shows this node's id")
        refreshes = re.search(r'data-refreshes="(\d+)"', dom)
        check(refreshes and int(refreshes.group(1)) >= 2,
              f"the page polls /status again (every 2 s; {refreshes and refreshes.group(1)} "
              "reads in 4 s of virtual time)")
        links = re.findall(r'<a href="(http://[^"]+/)" class="peer">', dom)
        check(len(links) >= len(want), f"the page links to the neighbours' pages ({len(links)})")
        if links:
            target = links[0]
            neighbour = next(h for h in st["leaf_set"] if f"http://{h['admin']}/" == target)
            dom2 = chromium(["--dump-dom", target], profile).stdout
            check(f'id="node-id">{neighbour["node_id"]}<' in dom2 and 'class="leaf"' in dom2,
                  f"following the link opens the neighbour's page ({neighbour['node_id'][:8]})")
        shot = os.path.abspath(os.path.join(args.artifacts, "node_page.png"))
        chromium(["--window-size=1200,1100", f"--screenshot={shot}", f"http://{first['admin']}/"],
                 profile)
        check(os.path.exists(shot) and os.path.getsize(shot) > 10000,
              f"screenshot saved as {shot}")

    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all admin/page checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
