#!/usr/bin/env python3
"""Real video through the media path: ffmpeg encodes testsrc2 (H.264 RTP, or MPEG-TS over RTP),
forestcast_media_pipe runs publisher pipeline -> whole stripes lost + random item loss ->
viewer pipeline -> RTP to a second ffmpeg that decodes it. Every published frame must decode
(>= 99.5 %) with no decode error, and the viewer must report no lost packet.

usage: test_media_ffmpeg.py PATH/TO/forestcast_media_pipe --format h264|mpegts --fec K+M
       [--drop-stripes a,b] [--drop-rate 0.01] [--seconds 5] [--seed N]"""
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

SKIP = 77


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def last_frame_count(progress_path):
    frames = 0
    try:
        with open(progress_path) as f:
            for line in f:
                if line.startswith("frame="):
                    frames = int(line.split("=", 1)[1])
    except FileNotFoundError:
        pass
    return frames


# Lines ffmpeg prints when its input ends or it is stopped: not decode errors.
BENIGN = ("Connection timed out", "Exiting normally", "received signal", "Last message repeated")


def parse_player_stderr(text):
    errors, frames = [], 0
    for line in text.replace("\r", "\n").splitlines():
        line = line.strip()
        if line.startswith("frame="):
            frames = int(line.split("=", 1)[1].split()[0])
        elif line and not any(b in line for b in BENIGN):
            errors.append(line)
    return "\n".join(errors), frames


def wait_for(path, deadline):
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.02)
    return False


def stop(proc, sig=signal.SIGINT, grace=5.0):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pipe")
    ap.add_argument("--format", choices=["h264", "mpegts"], default="h264")
    ap.add_argument("--fec", default="14+2")
    ap.add_argument("--drop-stripes", default="")
    ap.add_argument("--drop-rate", type=float, default=0.0)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--playout-ms", type=int, default=1000)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed} (replay with --seed {seed})", flush=True)

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        print("ffmpeg not installed (./run installs it)")
        return SKIP
    encoders = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True,
                              text=True).stdout
    if "libx264" not in encoders:
        print("this ffmpeg has no libx264")
        return SKIP

    procs = []
    with tempfile.TemporaryDirectory(prefix="forestcast-media-") as work:
        try:
            port_in, port_out = free_udp_port(), free_udp_port()
            in_sdp, view_sdp = os.path.join(work, "in.sdp"), os.path.join(work, "view.sdp")
            report = os.path.join(work, "report.json")
            pipe_cmd = [args.pipe, "--rtp-in", f"127.0.0.1:{port_in}",
                        "--rtp-out", f"127.0.0.1:{port_out}", "--sdp-out", view_sdp,
                        "--fec", args.fec, "--drop-rate", str(args.drop_rate),
                        "--seed", str(seed), "--playout-ms", str(args.playout_ms), "--stripe-delay-ms", "40",
                        "--idle-exit-ms", "1500", "--max-seconds", str(args.seconds + 30),
                        "--report", report]
            if args.drop_stripes:
                pipe_cmd += ["--drop-stripes", args.drop_stripes]
            pipe_cmd += ["--mpegts"] if args.format == "mpegts" else ["--sdp", in_sdp]
            pipe = subprocess.Popen(pipe_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            procs.append(pipe)
            time.sleep(0.3)  # the pipe binds its port before the encoder sends

            pub_progress = os.path.join(work, "pub.progress")
            publisher_cmd = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-re",
                             "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
                             "-t", str(args.seconds), "-c:v", "libx264", "-tune", "zerolatency",
                             "-g", "30", "-progress", pub_progress]
            if args.format == "mpegts":
                publisher_cmd += ["-f", "rtp_mpegts", f"rtp://127.0.0.1:{port_in}"]
            else:
                publisher_cmd += ["-f", "rtp", "-sdp_file", in_sdp, f"rtp://127.0.0.1:{port_in}"]

            # The player must listen before the first packet leaves the playout buffer (1 s
            # after the first arrives), so it starts as soon as the viewer's SDP exists.
            publisher = subprocess.Popen(publisher_cmd, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, text=True)
            procs.append(publisher)
            if not wait_for(view_sdp, time.monotonic() + 10):
                raise AssertionError("the pipe wrote no viewer SDP: "
                                     + (pipe.stderr.read() if pipe.poll() is not None else ""))
            # -stats prints the frame count even at -v error, and at exit also when stopped by
            # a signal (the -progress file is only written periodically).
            player = subprocess.Popen(
                [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-stats",
                 "-protocol_whitelist", "file,udp,rtp", "-i", view_sdp,
                 "-vsync", "passthrough", "-f", "null", "-"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            procs.append(player)

            publisher.wait(timeout=args.seconds + 20)
            pub_errors = publisher.stderr.read()
            out, pipe_err = pipe.communicate(timeout=30)
            # The player ends by itself once its input has been silent for a while ("Connection
            # timed out"); SIGINT earlier would cut off frames it still holds.
            try:
                player.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(player)
            player_errors, decoded = parse_player_stderr(player.stderr.read())

            published = last_frame_count(pub_progress)
            result = json.loads(out.strip().splitlines()[-1])
            viewer = result["viewer"]
            print(f"{args.format} fec {args.fec} drop stripes [{args.drop_stripes}] "
                  f"rate {args.drop_rate}: published {published} frames, decoded {decoded}; "
                  f"report {json.dumps(result)}", flush=True)
            if publisher.returncode != 0 or pub_errors.strip():
                raise AssertionError(f"encoder failed: {pub_errors}")
            if pipe.returncode != 0:
                raise AssertionError(f"pipe failed: {pipe_err}")
            assert published >= 25 * args.seconds, f"encoder published only {published} frames"
            # ffmpeg's depacketizers (H.264 RTP, MPEG-TS PES) emit a frame when the next one
            # starts, and its RTP input honours no end of stream, so the player may keep the last
            # frame: the same happens with ffmpeg sending straight to ffmpeg (docs/media.md).
            decodable = published - 1
            assert decoded >= 0.995 * decodable, f"decoded {decoded} of {published} frames"
            assert not player_errors.strip(), f"decode errors:\n{player_errors[-2000:]}"
            assert viewer["lost"] == 0 and viewer["late"] == 0, viewer
            assert viewer["expected"] == result["publisher"]["rtp_accepted"], result
            if args.drop_stripes:
                assert viewer["restored_by_fec"] > 0, viewer
            print("ok")
            return 0
        finally:
            for p in procs:
                stop(p, signal.SIGKILL, 2.0)


if __name__ == "__main__":
    sys.exit(main())
