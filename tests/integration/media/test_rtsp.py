#!/usr/bin/env python3
"""The viewer's RTSP server (`--rtsp`, issue 12) with real ffmpeg: a publisher node streams live
H.264 from ffmpeg, a viewer node serves it at rtsp://127.0.0.1:PORT/tv. ffprobe must find the
640x360 H.264 stream over UDP and over interleaved TCP, and ffmpeg must decode frames from it
over both, without decode errors. Malformed requests get 400, an unknown stream 404, PLAY
without a session 454, an unknown method 501; the server lives on.

usage: test_rtsp.py PATH/TO/forestcast"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]
from single_node import Cluster, bound_runtime, free_ports, wait_for_status  # noqa: E402
from test_cli import FAILURES, check  # noqa: E402
from test_forest_video import encode_clip, streamer_cmd  # noqa: E402
from test_media_ffmpeg import parse_player_stderr  # noqa: E402

SKIP = 77
JOIN_ARTIFACTS = ("Missing reference picture", "decode_slice_header error", "no frame!",
                  "non-existing PPS", "reference picture missing")


def rtsp_exchange(port, request, timeout=3.0):
    """Sends raw bytes on a new connection; the first response's status code (or None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def main():
    binary = os.path.abspath(sys.argv[1])
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if not ffmpeg or not ffprobe:
        print("ffmpeg/ffprobe not installed (./run installs them)")
        return SKIP
    bound_runtime(150)
    procs = []
    with tempfile.TemporaryDirectory(prefix="forestcast-rtsp-") as work, \
            Cluster(binary, work) as cluster:
        try:
            os.chdir(work)
            p = free_ports(7)
            rtsp_port, rtp_in = p[4], p[5]
            clip = os.path.join(work, "clip.ts")
            encode_clip(ffmpeg, clip, 40)
            subprocess.run(streamer_cmd(ffmpeg, clip, "h264", p[6], "in.sdp", probe=True),
                           check=True, timeout=30)
            pub = cluster.start(0, p[0], p[1], [], ["--publish", "tv", "--rtp-in",
                                                    f"127.0.0.1:{rtp_in}", "--sdp", "in.sdp",
                                                    "--capacity", "16"])
            wait_for_status(pub, time.monotonic() + 5)
            viewer = cluster.start(1, p[2], p[3], [pub.addr],
                                   ["--view", "tv", "--rtsp", f"127.0.0.1:{rtsp_port}"])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                st = viewer.try_status() or {}
                if any(s.get("media") for s in st.get("streams", []) if s["role"] == "viewer"):
                    break
                time.sleep(0.2)
            streamer = subprocess.Popen(streamer_cmd(ffmpeg, clip, "h264", rtp_in, "in.sdp"),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
            procs.append(streamer)
            time.sleep(2.0)
            url = f"rtsp://127.0.0.1:{rtsp_port}/tv"

            for transport in ("udp", "tcp"):
                probe = subprocess.run(
                    [ffprobe, "-v", "error", "-rtsp_transport", transport, "-show_streams",
                     "-of", "json", url], capture_output=True, text=True, timeout=30)
                streams = json.loads(probe.stdout or "{}").get("streams", [])
                v = streams[0] if streams else {}
                check(probe.returncode == 0 and v.get("codec_name") == "h264"
                      and v.get("width") == 640 and v.get("height") == 360,
                      f"ffprobe -rtsp_transport {transport} {url}: {v.get('codec_name')} "
                      f"{v.get('width')}x{v.get('height')} (exit {probe.returncode}, "
                      f"{probe.stderr.strip()[-300:]!r})")
                play = subprocess.run(
                    [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-stats",
                     "-rtsp_transport", transport, "-i", url, "-t", "4", "-f", "null", "-"],
                    capture_output=True, text=True, timeout=40)
                errors, frames = parse_player_stderr(play.stderr)
                # A live join lands mid-GOP: the frames before the next keyframe lack their
                # references. That, and only that, is expected.
                errors = "\n".join(e for e in errors.splitlines()
                                    if not any(j in e for j in JOIN_ARTIFACTS))
                check(play.returncode == 0 and frames >= 90 and not errors.strip(),
                      f"ffmpeg decodes 4 s over {transport}: {frames} frames, exit "
                      f"{play.returncode}, errors {errors.strip()[-300:]!r}")

            check(rtsp_exchange(rtsp_port, b"HELLO\r\n\r\n") == 400, "garbage: 400")
            check(rtsp_exchange(rtsp_port, b"OPTIONS * RTSP/1.0\r\n\r\n") == 400,
                  "no CSeq: 400")
            check(rtsp_exchange(rtsp_port, b"DESCRIBE rtsp://x/nope RTSP/1.0\r\nCSeq: 1\r\n\r\n")
                  == 404, "unknown stream: 404")
            check(rtsp_exchange(rtsp_port, b"PLAY rtsp://x/tv RTSP/1.0\r\nCSeq: 2\r\n\r\n")
                  == 454, "PLAY without a session: 454")
            check(rtsp_exchange(rtsp_port, b"FROB rtsp://x/tv RTSP/1.0\r\nCSeq: 3\r\n\r\n")
                  == 501, "unknown method: 501")
            check(rtsp_exchange(rtsp_port, b"SETUP rtsp://x/tv/trackID=0 RTSP/1.0\r\nCSeq: 4\r\n"
                                b"Transport: RTP/SAVP;unicast\r\n\r\n") == 461,
                  "unsupported transport: 461")
            check(rtsp_exchange(rtsp_port, b"OPTIONS * RTSP/1.0\r\nCSeq: 5\r\n"
                                + b"X: " + b"y" * 9000 + b"\r\n\r\n") == 400,
                  "header block past 8 KiB: 400")
            st = viewer.status()
            rtsp = st.get("rtsp") or {}
            check(viewer.alive() and rtsp.get("sessions_started", 0) >= 4
                  and rtsp.get("bad_requests", 0) >= 3 and rtsp.get("not_found", 0) >= 1,
                  f"viewer alive, /status rtsp counts sessions and bad requests: "
                  f"{ {k: v for k, v in rtsp.items() if k != 'open'} }")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    if FAILURES:
        print(f"{len(FAILURES)} failed")
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
