#!/usr/bin/env python3
"""`forestcast cluster` and `forestcast status` on bad input and bad days: every failure is one
line on stderr with a non-zero exit and leaves nothing running; a second `up` is refused; a
launcher SIGKILLed half-way is cleaned up by `down`; restart keeps the node id; --netns runs
each node in its own namespace and `down` removes every namespace, veth and the bridge.

usage: test_cluster_cli.py PATH/TO/forestcast"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from launcher import Launcher, bound_runtime, cluster_state, find_free_base
import netns  # from tools/ops, put on the path by launcher

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def one_line_error(r, code, mention, what):
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    check(r.returncode == code and len(lines) == 1 and mention in r.stderr,
          f"{what}: exit {r.returncode}, stderr {r.stderr.strip()!r}")


def nothing_left(directory, what):
    left = cluster_state.strays(directory)
    check(not left and not os.path.exists(os.path.join(directory, cluster_state.STATE_FILE)),
          f"{what}: no node process ({left}) and no state file left")


def main():
    binary = os.path.abspath(sys.argv[1])
    bound_runtime(170)
    with tempfile.TemporaryDirectory(prefix="forestcast-ccli-") as work:
        d = os.path.join(work, "c1")
        with Launcher(binary, d) as cl:
            # --- nothing running yet -------------------------------------------------------
            one_line_error(cl.run("status", check=False), 1, "no cluster", "status of no cluster")
            one_line_error(cl.run("kill", "--node", "3", check=False), 1, "no cluster",
                           "kill with no cluster")
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
            s.close()
            r = subprocess.run([binary, "status", f"127.0.0.1:{free}"], capture_output=True,
                               text=True, timeout=20)
            one_line_error(r, 1, "cannot reach", "status of an unreachable node")
            one_line_error(cl.run("up", "--nodes", "3", "--publish", "cam", "--viewers", "5",
                                  check=False), 1, "cannot hold", "up with too many viewers")
            one_line_error(cl.run("up", "--nodes", "3", "--viewers", "1", check=False), 1,
                           "--viewers needs --publish", "up --viewers without a stream")
            one_line_error(cl.run("up", "--nodes", "0", check=False), 1, "--nodes",
                           "up --nodes 0")
            one_line_error(cl.run("up", "--nodes", "2", "--latency-ms", "9-3", check=False), 2,
                           "latency", "up with a reversed latency range")

            # --- ports taken -----------------------------------------------------------------
            base = find_free_base(4)
            busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            busy.bind(("127.0.0.1", base + 2))
            one_line_error(cl.run("up", "--nodes", "4", "--base-port", str(base), check=False),
                           1, f"port {base + 2}", "up when a port is taken")
            busy.close()
            nothing_left(d, "after the refused up")

            # --- up, second up, kill, restart, status --------------------------------------
            base = find_free_base(4)
            cl.run("up", "--nodes", "4", "--base-port", str(base))
            one_line_error(cl.run("up", "--nodes", "4", "--base-port", str(base + 100),
                                  check=False), 1, "already running", "a second up")
            check(len(cl.status()["nodes"]) == 4, "the first cluster still runs all 4 nodes")
            one_line_error(cl.run("kill", "--node", "17", check=False), 1, "no node '17'",
                           "kill of an unknown index")
            one_line_error(cl.run("kill", "--node", "zz", check=False), 1, "no node 'zz'",
                           "kill of an unknown id")
            one_line_error(cl.run("kill", "--count", "9", check=False), 1, "cannot kill",
                           "kill of more nodes than run")
            before = {n["index"]: n["node_id"] for n in cl.status()["nodes"]}
            cl.run("kill", "--node", "2")
            st = cl.status()
            check(len(st["nodes"]) == 3 and st["killed"] == [2], "kill --node 2 leaves 3 nodes")
            r = cl.run("restart", "--node", "2", check=False)
            st = cl.status()
            after = {n["index"]: n["node_id"] for n in st["nodes"]}
            check(r.returncode == 0 and after == before and st["mismatches"] == 0,
                  f"restart keeps the node id and the ring heals ({r.stderr.strip()})")
            r = cl.run("down")
            check("stopped 4 nodes" in r.stdout, f"down: {r.stdout.strip()}")
            nothing_left(d, "after down")

        # --- the launcher itself crashes half-way through up ------------------------------
        d2 = os.path.join(work, "c2")
        p = subprocess.Popen([binary, "cluster", "--dir", d2, "--quiet", "up", "--nodes", "6",
                              "--base-port", str(find_free_base(6)), "--spacing", "0.4"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(cluster_state.strays(d2)) < 2:
            time.sleep(0.05)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        running = cluster_state.strays(d2)
        check(len(running) >= 2, f"nodes outlive a SIGKILLed launcher ({len(running)})")
        r = subprocess.run([binary, "cluster", "--dir", d2, "down"], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, f"down after a crash: {r.stdout.strip()}")
        nothing_left(d2, "after a crashed launcher and down")

        # --- network namespaces ------------------------------------------------------------
        d3 = os.path.join(work, "c3")
        os.makedirs(d3)
        os.chmod(work, 0o755)
        os.chmod(d3, 0o777)
        setpriv = shutil.which("setpriv")
        if os.geteuid() == 0 and setpriv:
            # As nobody, from a world-readable copy: the checkout may sit in a 0700 directory
            # (a clean clone under mktemp) that uid 65534 cannot reach.
            shared = os.path.join(work, "shared-bin")
            os.makedirs(shared)
            os.chmod(shared, 0o755)
            nobody_bin = os.path.join(shared, "forestcast")
            shutil.copy2(binary, nobody_bin)
            shutil.copytree(os.path.join(os.path.dirname(binary), "ops"),
                            os.path.join(shared, "ops"))
            for root, dirs, files in os.walk(shared):
                for x in dirs:
                    os.chmod(os.path.join(root, x), 0o755)
                for x in files:
                    os.chmod(os.path.join(root, x), 0o755)
            as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", nobody_bin]
            r = subprocess.run(as_nobody + ["cluster", "--dir", d3, "up", "--nodes", "2",
                                            "--netns"], capture_output=True, text=True,
                               timeout=30)
            one_line_error(r, 1, "--netns needs root", "--netns without privileges")
            # Tools that exist but cannot be read are named as such, not as "not installed".
            os.chmod(os.path.join(shared, "ops"), 0o700)
            r2 = subprocess.run(as_nobody + ["cluster", "--dir", d3, "status"],
                                capture_output=True, text=True, timeout=30)
            one_line_error(r2, 2, "cannot be read", "unreadable operator tools")
        else:
            r = subprocess.run([binary, "cluster", "--dir", d3, "up", "--nodes", "2", "--netns"],
                               capture_output=True, text=True, timeout=30)
            one_line_error(r, 1, "--netns needs root", "--netns without privileges")
        nothing_left(d3, "after the refused --netns")
        if os.geteuid() == 0:
            tag = cluster_state.tag_of(d3)
            with Launcher(binary, d3) as cl:
                r = cl.run("up", "--nodes", "4", "--netns", "--base-port", "7000", check=False)
                check(r.returncode == 0, f"--netns up: {r.stdout.strip()} {r.stderr.strip()}")
                st = cl.status() if r.returncode == 0 else {"nodes": []}
                check(len(st["nodes"]) == 4 and st.get("mismatches") == 0 and
                      all(n["addr"].startswith(netns.subnet(tag) + ".") for n in st["nodes"]),
                      "4 nodes in 4 namespaces form a ring matching the oracle")
                check(len(netns.leftovers(tag)) == 9, f"4 namespaces, 4 veths and a bridge "
                      f"({len(netns.leftovers(tag))})")
            check(not netns.leftovers(tag), f"down removes every namespace, veth and the bridge "
                  f"({netns.leftovers(tag)})")
            nothing_left(d3, "after --netns down")
        else:
            print("skip --netns cluster: not root", flush=True)

    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all cluster CLI checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
