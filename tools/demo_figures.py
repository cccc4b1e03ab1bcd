#!/usr/bin/env python3
"""The demo's figures from results/report.json: delay-cdf.png (each viewer's end-to-end delay
distribution, from the quantiles its node reports) and continuity-timeline.png (each viewer's
continuity per sampling interval: packets delivered in time / packets settled in it (delivered,
lost or late), with the
moment of the kill marked).

matplotlib comes from Debian (python3-matplotlib), which installs it for the system python: when
the running interpreter cannot import it, this file runs itself under /usr/bin/python3.

usage: demo_figures.py RESULTS_DIR"""
import json
import os
import subprocess
import sys

SYSTEM_PYTHON = "/usr/bin/python3"


def write_figures(results, report):
    """Writes both figures; returns the file names written (empty when matplotlib is missing)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON) or \
                not os.path.exists(SYSTEM_PYTHON):
            print("demo: matplotlib is not installed (python3-matplotlib): no figures")
            return []
        run = subprocess.run([SYSTEM_PYTHON, os.path.abspath(__file__), results],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            print(f"demo: figures failed: {run.stderr.strip()[-500:]}")
            return []
        return run.stdout.split()
    return _draw(results, report)


def _draw(results, report):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, v in report["viewers"].items():
        cdf = (v.get("media") or {}).get("delay_cdf_ms") or []
        if cdf:
            ax.plot([ms for _, ms in cdf], [q for q, _ in cdf], marker=".",
                    label=f"viewer node {i}")
    ax.set_xlabel("end-to-end delay, ms (publisher ingest -> viewer playout)")
    ax.set_ylabel("fraction of packets")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"Delay CDF, {report['nodes']} nodes, FEC {report['fec']}")
    fig.tight_layout()
    fig.savefig(os.path.join(results, "delay-cdf.png"), dpi=110)
    plt.close(fig)
    written.append("delay-cdf.png")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, v in report["viewers"].items():
        points = v.get("timeline") or []
        ts, cs = [], []
        for a, b in zip(points, points[1:]):
            ok = b["delivered_in_time"] - a["delivered_in_time"]
            settled = ok + (b["lost"] + b["late"]) - (a["lost"] + a["late"])
            if settled > 0:
                ts.append(b["t"])
                cs.append(100.0 * ok / settled)
        if ts:
            ax.plot(ts, cs, marker=".", label=f"viewer node {i}")
    if report.get("killed_at_s") is not None:
        ax.axvline(report["killed_at_s"], color="red", linestyle="--",
                   label=f"{len(report['killed'])} relays SIGKILLed")
    ax.axhline(100 * report["min_continuity"], color="gray", linestyle=":", label="99 %")
    ax.set_xlabel("seconds since the encoder started")
    ax.set_ylabel("continuity in the interval, %")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title("Continuity per second (delivered in time / delivered + lost + late)")
    fig.tight_layout()
    fig.savefig(os.path.join(results, "continuity-timeline.png"), dpi=110)
    plt.close(fig)
    written.append("continuity-timeline.png")
    return written


if __name__ == "__main__":
    out = sys.argv[1]
    with open(os.path.join(out, "report.json")) as f:
        print(" ".join(_draw(out, json.load(f))))
