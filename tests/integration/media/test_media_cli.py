#!/usr/bin/env python3
"""`forestcast node`'s media flags (issue 12): every bad combination exits 2 with one line and
starts nothing; an SDP file that does not parse and a busy --rtp-in port are start-up errors.
Then a publisher and a viewer on loopback: bytes that are not RTP sent to --rtp-in are counted
and dropped (the node lives on), the viewer's name record carries the publisher's SDP (the
viewer writes --sdp-out from it), RTP sent in comes out at --rtp-out byte for byte after the
playout delay, and /status and /metrics carry the media counters.

usage: test_media_cli.py PATH/TO/forestcast"""
import os
import socket
import struct
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE)]
from single_node import Cluster, bound_runtime, free_ports, wait_for_status  # noqa: E402
from test_cli import FAILURES, check, expect_usage_error  # noqa: E402

SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
       "a=fmtp:96 packetization-mode=1\r\n")


def rtp(seq, payload_bytes=1200, ssrc=0x1234ABCD, pt=96):
    header = struct.pack("!BBHII", 0x80, pt, seq & 0xFFFF, seq * 3000, ssrc)
    return header + bytes((seq + i) & 0xFF for i in range(payload_bytes))


def media_of(st, role):
    for s in (st or {}).get("streams", []):
        if s["role"] == role and "media" in s:
            return s["media"]
    return None


def main():
    binary = os.path.abspath(sys.argv[1])
    bound_runtime(90)
    with tempfile.TemporaryDirectory(prefix="forestcast-media-cli-") as work, \
            Cluster(binary, work) as cluster:
        os.chdir(work)
        p = free_ports(8)
        rtp_in = f"127.0.0.1:{p[6]}"
        node = ["node", "--bind", f"127.0.0.1:{p[0]}", "--key", "k.key"]

        # --- flag errors: exit 2, one line, nothing started --------------------------------
        for args, what, mention in [
            (["--rtp-in", rtp_in], "--rtp-in without --publish", "--publish"),
            (["--publish", "tv"], "--publish without a source", "--rtp-in"),
            (["--publish", "tv", "--rtp-in", rtp_in, "--synthetic-kbps", "100"],
             "two sources", "not both"),
            (["--publish", "tv", "--rtp-in", "nowhere"], "bad --rtp-in", "--rtp-in"),
            (["--publish", "tv", "--rtp-in", rtp_in, "--fec", "14+3"], "FEC past the stripes",
             "--fec"),
            (["--publish", "tv", "--rtp-in", rtp_in, "--fec", "12+2"],
             "FEC not adding up to the stripes", "--stripes"),
            (["--publish", "tv", "--rtp-in", rtp_in, "--fec", "x"], "FEC that does not parse",
             "--fec"),
            (["--publish", "tv", "--rtp-in", f"127.0.0.1:{p[0]}"], "--rtp-in on --bind",
             "--rtp-in"),
            (["--sdp", "in.sdp"], "--sdp without --rtp-in", "--rtp-in"),
            (["--fec", "10+6"], "--fec without --rtp-in", "--rtp-in"),
            (["--rtp-out", "127.0.0.1:6000"], "--rtp-out without --view", "--view"),
            (["--view", "a", "--view", "b", "--rtp-out", "127.0.0.1:6000"],
             "--rtp-out with two views", "exactly one"),
            (["--view", "a", "--sdp-out", "v.sdp"], "--sdp-out without --rtp-out", "--rtp-out"),
            (["--view", "a", "--playout-ms", "5"], "playout too short", "--playout-ms"),
            (["--playout-ms", "800"], "--playout-ms without --view", "--view"),
        ]:
            expect_usage_error(binary, node + args, what, mention)
        with open("bad.sdp", "w") as f:
            f.write("v=0\r\nm=video 0 RTP/AVP 96\r\n")
        expect_usage_error(binary, node + ["--publish", "tv", "--rtp-in", rtp_in, "--sdp",
                                           "bad.sdp"], "SDP that does not parse", "bad.sdp")
        with open("huge.sdp", "w") as f:
            f.write(SDP + "".join(f"a=fmtp:96 x{i}={'y' * 60}\r\n" for i in range(12)))
        expect_usage_error(binary, node + ["--publish", "tv", "--rtp-in", rtp_in, "--sdp",
                                           "huge.sdp"], "SDP too large for a record", "bytes")
        busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        busy.bind(("127.0.0.1", p[6]))
        expect_usage_error(binary, node + ["--publish", "tv", "--rtp-in", rtp_in],
                           "busy --rtp-in port", "--rtp-in")
        busy.close()
        check(not os.path.exists("k.key"), "failed starts wrote no key file")

        # --- a publisher and a viewer --------------------------------------------------------
        with open("in.sdp", "w") as f:
            f.write(SDP)
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        out.bind(("127.0.0.1", 0))
        out.settimeout(0.2)
        out_port = out.getsockname()[1]
        pub = cluster.start(0, p[0], p[1], [], ["--publish", "tv", "--rtp-in", rtp_in, "--sdp",
                                                "in.sdp", "--fec", "10+6", "--capacity", "16"])
        wait_for_status(pub, time.monotonic() + 5)
        viewer = cluster.start(1, p[2], p[3], [pub.addr],
                               ["--view", "tv", "--rtp-out", f"127.0.0.1:{out_port}",
                                "--sdp-out", "view.sdp", "--playout-ms", "300"])
        deadline = time.monotonic() + 20
        while media_of(viewer.try_status(), "viewer") is None and time.monotonic() < deadline:
            time.sleep(0.2)
        check(media_of(viewer.try_status(), "viewer") is not None, "the viewer resolved 'tv'")
        written = open("view.sdp").read() if os.path.exists("view.sdp") else ""
        check(f"m=video {out_port} RTP/AVP 96" in written and "H264/90000" in written
              and "packetization-mode=1" in written,
              f"--sdp-out from the record's SDP points at --rtp-out: {written!r}")
        time.sleep(1.0)  # stripes join

        got = []
        sent = [rtp(i, 1200 if i % 3 else 1460) for i in range(300)]

        def receive():  # while we send: the socket buffer would not hold them all
            end = time.monotonic() + 8
            while time.monotonic() < end and len(got) < len(sent):
                try:
                    got.append(out.recv(2048))
                except socket.timeout:
                    pass
        receiver = threading.Thread(target=receive)
        receiver.start()
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        garbage = [b"", b"\x00" * 5, b"\x40" + b"\x00" * 40, b"\x8f\x60" + b"\x00" * 10]
        for g in garbage:
            tx.sendto(g, ("127.0.0.1", p[6]))
        for pkt in sent:
            tx.sendto(pkt, ("127.0.0.1", p[6]))
            time.sleep(0.003)
        receiver.join()
        check(got == sent, f"RTP out equals RTP in, byte for byte, in order "
                           f"({len(got)} of {len(sent)} packets)")
        pm = media_of(pub.status(), "publisher") or {}
        check(pm.get("rtp_dropped", 0) >= len(garbage) - 1
              and pm.get("rtp_accepted") == len(sent),
              f"publisher counted {len(garbage)} non-RTP datagrams as dropped (the empty one "
              f"may not arrive) and accepted {len(sent)}: {pm}")
        vm = media_of(viewer.status(), "viewer") or {}
        check(vm.get("expected") == len(sent) and vm.get("delivered_in_time") == len(sent)
              and vm.get("lost") == 0 and vm.get("continuity") == 1.0,
              f"viewer: every packet in time: {vm}")
        check(vm.get("delay_exact") is True and 300 <= vm.get("delay_p50_ms", 0) < 600,
              f"viewer delay exact (same host) and about the playout delay: "
              f"{vm.get('delay_p50_ms')} ms")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{p[3]}/metrics",
                                         timeout=2).read().decode()
        check(f'forestcast_media_viewer_delivered_in_time_total{{stream="tv"}} {len(sent)}'
              in metrics, "/metrics has the viewer's media counters")
        check(metrics.count("# TYPE forestcast_media_viewer_continuity gauge") == 1,
              "each media family once")
        time.sleep(2.5)  # the publisher has stopped: the viewer reports a stall, once
        vm = media_of(viewer.status(), "viewer") or {}
        check(vm.get("stalled") is True and vm.get("stalls") == 1, f"stall reported: {vm}")
        oversize = [n.status()["counters"].get("send_oversize", 0) for n in (pub, viewer)]
        check(oversize == [0, 0], f"no datagram over 1,400 bytes (send_oversize {oversize})")
        check(pub.alive() and viewer.alive(), "both nodes alive")
    if FAILURES:
        print(f"{len(FAILURES)} failed")
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
