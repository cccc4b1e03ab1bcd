#!/usr/bin/env python3
"""`forestcast node` as a program (DESIGN.md §7): usage and configuration errors exit 2 with one
line and start nothing; the key file keeps the id across restarts; SIGTERM leaves cleanly; a
live node counts and survives malformed datagrams; the admin API answers.

usage: test_cli.py PATH/TO/forestcast"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from single_node import Cluster, bound_runtime, free_ports, wait_for_status

FAILURES = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def run(binary, args, timeout=20):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)


def expect_usage_error(binary, args, what, must_mention=None):
    r = run(binary, args)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    ok = r.returncode == 2 and len(lines) == 1 and not r.stdout.strip()
    if must_mention:
        ok = ok and must_mention in r.stderr
    check(ok, f"{what}: exit {r.returncode}, stderr {r.stderr.strip()!r}")


def envelope(version, sender=b"\x11" * 16, body=b"\x82\x01\x00"):
    """Hand-encoded Envelope (no protobuf module needed): version (field 1, varint),
    sender_id (field 2, bytes) and by default an empty Announce (field 16)."""
    return bytes([0x08, version, 0x12, len(sender)]) + sender + body


def counters(node):
    return node.status()["counters"]


def main():
    binary = os.path.abspath(sys.argv[1])
    bound_runtime(90)
    with tempfile.TemporaryDirectory(prefix="forestcast-cli-") as work, \
            Cluster(binary, work) as cluster:
        os.chdir(work)
        p = free_ports(8)

        # --- usage and configuration errors: exit 2, one line, nothing started -------------
        expect_usage_error(binary, ["node", "--no-such-flag"], "unknown flag")
        expect_usage_error(binary, ["node", "--bind", "nowhere:99999"], "bad bind address",
                           "--bind")
        expect_usage_error(binary, ["node", "--bootstrap", "1.2.3.4"], "bootstrap without port",
                           "--bootstrap")
        expect_usage_error(binary, ["node", "--leaf-set", "7"], "odd leaf set", "--leaf-set")
        expect_usage_error(binary, ["node", "--log-level", "pastry=loud"], "bad module level",
                           "pastry=loud")
        expect_usage_error(binary, ["node", "--log-level", "gossip=debug"], "unknown log module",
                           "gossip")
        expect_usage_error(binary, ["node", "--emulate-latency-ms", "5"], "bad latency range",
                           "--emulate-latency-ms")
        expect_usage_error(binary, ["node", "--emulate-loss", "0.1"], "loss without latency",
                           "--emulate-latency-ms")
        expect_usage_error(binary, ["node", "--config", "missing.conf"], "missing config file",
                           "missing.conf")
        with open("bad.conf", "w") as f:
            f.write("bind = 127.0.0.1:%d\nwhat = 1\n" % p[0])
        expect_usage_error(binary, ["node", "--config", "bad.conf"], "unknown config key",
                           "line 2")
        os.mkdir("keydir")
        expect_usage_error(binary, ["node", "--bind", f"127.0.0.1:{p[0]}", "--key", "keydir"],
                           "key file is a directory", "keydir")
        with open("corrupt.key", "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        expect_usage_error(binary, ["node", "--bind", f"127.0.0.1:{p[0]}", "--key",
                                    "corrupt.key"], "corrupt key file", "corrupt.key")
        if os.geteuid() != 0:
            with open("locked.key", "w") as f:
                f.write("x")
            os.chmod("locked.key", 0)
            expect_usage_error(binary, ["node", "--bind", f"127.0.0.1:{p[0]}", "--key",
                                        "locked.key"], "unreadable key file", "locked.key")
        else:
            print("skip unreadable (mode 000) key file: running as root", flush=True)

        busy_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        busy_udp.bind(("127.0.0.1", p[1]))
        expect_usage_error(binary, ["node", "--bind", f"127.0.0.1:{p[1]}", "--key", "busy.key"],
                           "busy UDP port", "cannot bind")
        check(not os.path.exists("busy.key"), "a start that failed wrote no key file")
        busy_udp.close()
        busy_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        busy_tcp.bind(("127.0.0.1", p[2]))
        busy_tcp.listen()
        expect_usage_error(binary, ["node", "--bind", f"127.0.0.1:{p[1]}", "--admin",
                                    f"127.0.0.1:{p[2]}", "--key", "busy.key"],
                           "busy admin port", "admin")
        busy_tcp.close()

        # --- identity: same key file, same id; SIGTERM leaves with exit 0 ------------------
        first = cluster.start(0, p[3], p[4])
        st = wait_for_status(first, time.monotonic() + 5)
        check(st["state"] == "active", f"first node active (state {st['state']})")
        check(oct(os.stat(first.key).st_mode & 0o777) == "0o600", "key file created with 0600")
        node_id = st["node_id"]
        check(len(node_id) == 32 and all(c in "0123456789abcdef" for c in node_id),
              f"node_id is 32 hex digits ({node_id})")
        t = time.monotonic()
        cluster.kill(first, signal.SIGTERM)
        rc = first.proc.wait(timeout=5)
        check(rc == 0, f"SIGTERM: exit {rc} after {time.monotonic() - t:.2f} s")
        again = cluster.start(0, p[3], p[4])
        st2 = wait_for_status(again, time.monotonic() + 5)
        check(st2["node_id"] == node_id, "restart with the same key file keeps the node id")

        # --- admin API --------------------------------------------------------------------
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{p[4]}/nope", timeout=2)
            check(False, "unknown admin path gives 404")
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"unknown admin path gives 404 (got {e.code})")
        with urllib.request.urlopen(f"http://127.0.0.1:{p[4]}/metrics", timeout=2) as r:
            metrics = r.read().decode()
        check("forestcast_dropped_malformed_total 0" in metrics and
              "forestcast_messages_in_total" in metrics, "/metrics has the counters")
        for field in ("bind", "state", "leaf_set", "leaf_set_left", "leaf_set_right",
                      "routing_table_entries", "routing_table_rows", "neighborhood_set"):
            check(field in st2, f"/status has {field}")

        # --- malformed datagrams are counted and dropped; the node stays up ---------------
        before = counters(again)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = ("127.0.0.1", p[3])
        rng = random.Random(42)
        good = envelope(1)
        sent = {
            "bad_version": [envelope(2), envelope(0), envelope(127)],
            "oversize": [b"\x08\x01" + b"\x00" * 1399, os.urandom(4000)],
            "bad_sender_id": [envelope(1, sender=b"\x11" * 15)],
        }
        truncated = [good[:n] for n in (3, 5, 10, 17)]  # cut inside sender_id / announce
        random_bufs = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1400)))
                       for _ in range(200)]
        total = sum(len(v) for v in sent.values()) + len(truncated) + len(random_bufs)
        # Paced: a burst of 200 datagrams would overflow the kernel's receive buffer, and a
        # loss there is not what this test is about.
        for i, b in enumerate([b for bufs in sent.values() for b in bufs] + truncated +
                              random_bufs):
            sock.sendto(b, target)
            if i % 10 == 9:
                time.sleep(0.005)
        sock.close()
        deadline = time.monotonic() + 5
        after = counters(again)
        while time.monotonic() < deadline and \
                after["datagrams_in"] - before["datagrams_in"] < total:
            time.sleep(0.05)
            after = counters(again)
        delta = {k: after[k] - before[k] for k in after}
        check(again.alive(), "node still running after malformed datagrams")
        check(delta["datagrams_in"] == total, f"all {total} datagrams received "
              f"({delta['datagrams_in']})")
        for reason, bufs in sent.items():
            check(delta["dropped_" + reason] >= len(bufs),
                  f"{len(bufs)} {reason} counted ({delta['dropped_' + reason]})")
        check(delta["dropped_malformed"] == total,
              f"every bad datagram dropped and counted ({delta['dropped_malformed']}/{total}); "
              "by reason: " + json.dumps({k: v for k, v in delta.items()
                                          if v}))
        check(delta["messages_in"] == 0, "nothing malformed reached the core")
        st3 = again.status()
        check(st3["state"] == "active", "node still answers /status and is active")

        # --- config file with the same keys as the flags ----------------------------------
        with open("node.conf", "w") as f:
            f.write(f"# test config\nbind = 127.0.0.1:{p[5]}\nadmin = \"127.0.0.1:{p[6]}\"\n"
                    f"key = {again.key}\nleaf_set = 8\nlog-json = true\n"
                    "log-level = warn,node=info\n")
        proc = subprocess.Popen([binary, "node", "--config", "node.conf"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        cluster.procs.append(proc)
        st4 = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{p[6]}/status", timeout=1) as r:
                    st4 = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.05)
        check(st4 is not None and st4["node_id"] == node_id and
              st4["bind"] == f"127.0.0.1:{p[5]}", "config file sets bind, admin and key")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=5)
        first_line = err.splitlines()[0] if err else ""
        try:
            json.loads(first_line)
            check(True, "log-json from the config file gives JSON lines")
        except ValueError:
            check(False, f"log-json from the config file gives JSON lines ({first_line!r})")
        try:
            lines = [json.loads(line) for line in err.splitlines() if line.strip()]
        except ValueError:
            lines = []
        by_logger = {(ln["logger"], ln["level"]) for ln in lines}
        check(lines and all(set(ln) >= {"ts", "level", "logger", "node", "msg"} for ln in lines)
              and ("node", "info") in by_logger and ("pastry", "info") not in by_logger,
              f"every line one JSON object; log-level warn,node=info keeps node's info lines "
              f"and drops pastry's ({sorted(by_logger)})")

        # --- unreachable bootstrap: one clear error line and exit 1 -----------------------
        t = time.monotonic()
        r = run(binary, ["node", "--bind", f"127.0.0.1:{p[7]}", "--bootstrap",
                         f"127.0.0.1:{p[5]}", "--key", "lonely.key"], timeout=40)
        errors = [line for line in r.stderr.splitlines() if "cannot join" in line]
        check(r.returncode == 1 and len(errors) == 1,
              f"unreachable bootstrap: exit {r.returncode} after {time.monotonic() - t:.1f} s, "
              f"{errors[0].strip() if errors else 'no cannot-join line'}")

    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all CLI checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
