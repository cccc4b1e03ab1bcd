#!/usr/bin/env python3
"""deploy/ as files (no container engine runs here): every YAML and JSON file parses; the k8s
manifests have what a working deployment needs (bootstrap StatefulSet behind a headless
Service, a node Deployment joining through it, UDP ports, requests and limits, probes on
/status, Prometheus annotations, non-root); the Dockerfile is multi-stage on Debian 12, runs as
a non-root user and installs exactly the packages that hold the libraries the built binary
links (checked with ldd and dpkg -S); the systemd unit has its hardening options. (That every
metric the Grafana dashboard queries exists in a live node's /metrics is checked by
tests/integration/test_admin_page.py.)

usage: test_deploy.py REPO_ROOT PATH/TO/forestcast"""
import glob
import json
import os
import re
import subprocess
import sys

import yaml

FAILURES = []
BASE_IMAGE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g"}  # in debian:12-slim
# Linked only by sanitizer builds (CI's second pass), never by the image's release build.
SANITIZER_RUNTIMES = {"libasan8", "libubsan1", "liblsan0", "libtsan2"}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def containers(doc):
    return doc["spec"]["template"]["spec"]["containers"]


def check_workload(doc, headless_names):
    name = f"{doc['kind']} {doc['metadata']['name']}"
    pod = doc["spec"]["template"]
    ann = pod["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "8080"
          and ann.get("prometheus.io/path") == "/metrics", f"{name}: Prometheus scrape annotations")
    check(pod["spec"].get("securityContext", {}).get("runAsNonRoot") is True,
          f"{name}: runs as non-root")
    for c in containers(doc):
        ports = {p["name"]: p for p in c["ports"]}
        check(ports["overlay"]["protocol"] == "UDP" and ports["overlay"]["containerPort"] == 7000,
              f"{name}: UDP overlay port 7000")
        check(ports["admin"]["containerPort"] == 8080, f"{name}: admin port 8080")
        res = c["resources"]
        check(all(k in res["requests"] for k in ("cpu", "memory")) and
              all(k in res["limits"] for k in ("cpu", "memory")), f"{name}: requests and limits")
        for probe in ("livenessProbe", "readinessProbe"):
            get = c[probe]["httpGet"]
            check(get["path"] == "/status" and get["port"] in ("admin", 8080),
                  f"{name}: {probe} on /status")
        script = " ".join(c.get("command", []) + c.get("args", []))
        check("--peer-admin-offset 1080" in script and "--advertise" in script and
              "--admin 0.0.0.0:8080" in script, f"{name}: advertise, admin and link offset")
        boot = re.findall(r"getent hosts ([a-z0-9-]+)\.([a-z0-9-]+)", script)
        check(boot and all(svc in headless_names for _, svc in boot),
              f"{name}: bootstraps through a pod of the headless Service ({boot})")
        check(c["securityContext"].get("allowPrivilegeEscalation") is False and
              c["securityContext"].get("readOnlyRootFilesystem") is True,
              f"{name}: no privilege escalation, read-only root")


def main():
    root, binary = sys.argv[1], sys.argv[2]
    deploy = os.path.join(root, "deploy")
    docs = []
    for path in sorted(glob.glob(f"{deploy}/**/*.yaml", recursive=True) +
                       glob.glob(f"{deploy}/**/*.yml", recursive=True)):
        try:
            with open(path) as f:
                docs += [d for d in yaml.safe_load_all(f) if d]
            check(True, f"{os.path.relpath(path, root)} parses")
        except yaml.YAMLError as e:
            check(False, f"{os.path.relpath(path, root)} parses: {e}")
    for path in sorted(glob.glob(f"{deploy}/**/*.json", recursive=True)):
        try:
            with open(path) as f:
                json.load(f)
            check(True, f"{os.path.relpath(path, root)} parses")
        except ValueError as e:
            check(False, f"{os.path.relpath(path, root)} parses: {e}")

    # --- Kubernetes ---------------------------------------------------------------------
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    headless = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])
                if s["spec"].get("clusterIP") == "None"}
    check(bool(headless), "a headless Service")
    sts = by_kind.get("StatefulSet", [])
    check(len(sts) == 1 and sts[0]["spec"]["serviceName"] in headless,
          "a bootstrap StatefulSet governed by the headless Service")
    for s in headless.values():
        sel = s["spec"]["selector"]
        check(any(all(st["spec"]["template"]["metadata"]["labels"].get(k) == v
                      for k, v in sel.items()) for st in sts),
              f"Service {s['metadata']['name']} selects the StatefulSet's pods")
        check(any(p["protocol"] == "UDP" for p in s["spec"]["ports"]), "the Service has the UDP port")
    nodes = by_kind.get("Deployment", []) + by_kind.get("DaemonSet", [])
    check(len(nodes) >= 1, "a node Deployment or DaemonSet")
    for w in sts + nodes:
        check(w["spec"]["selector"]["matchLabels"].items() <=
              w["spec"]["template"]["metadata"]["labels"].items(),
              f"{w['kind']} {w['metadata']['name']}: selector matches its pod labels")
        check_workload(w, headless)

    # --- Dockerfile ---------------------------------------------------------------------
    with open(os.path.join(deploy, "Dockerfile")) as f:
        dockerfile = f.read()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", dockerfile, re.M | re.I)
    check(len(stages) >= 2 and all(img.startswith("debian:12") for img, _ in stages),
          f"multi-stage, Debian 12 bases ({stages})")
    runtime = dockerfile[dockerfile.rfind("\nFROM"):]
    user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
    check(user and not user[-1].startswith(("root", "0")), f"runtime stage runs as non-root ({user})")
    copies = re.findall(r"^COPY\s+(.*)$", runtime, re.M)
    check(len(copies) == 1 and "--from=" in copies[0] and copies[0].split()[-1].endswith("forestcast"),
          "the runtime stage copies only the binary")
    m = re.search(r"apt-get install[^\n]*\\?\n((?:.*\\\n)*?.*?)(?:&&|\n)", runtime)
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+)\b", m.group(0) if m else ""))
    needed = set()
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for lib in re.findall(r"=>\s+(/\S+)", ldd):
        real = os.path.realpath(lib)
        owner = None
        for candidate in (lib, real, lib.replace("/lib/", "/usr/lib/"),
                          real.replace("/usr/lib/", "/lib/")):
            r = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0]
                break
        needed.add(owner or f"?{lib}")
    needed -= SANITIZER_RUNTIMES
    check(len(needed) >= 5, f"ldd names the binary's libraries ({sorted(needed)})")
    missing = sorted(needed - installed - BASE_IMAGE_PACKAGES)
    extra = sorted(installed - needed)
    check(not missing, f"the runtime stage installs every package the binary links ({missing})")
    check(not extra, f"... and nothing else ({extra})")

    # --- systemd ------------------------------------------------------------------------
    unit = {}
    with open(os.path.join(deploy, "systemd", "forestcast.service")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, v = line.split("=", 1)
                unit.setdefault(k, []).append(v)
    for key, value in (("DynamicUser", "yes"), ("NoNewPrivileges", "yes"),
                       ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("StateDirectory", "forestcast")):
        check(unit.get(key) == [value], f"systemd: {key}={value}")
    check(unit.get("CapabilityBoundingSet") == [""], "systemd: no capabilities")
    check("${STATE_DIRECTORY}/node.key" in unit.get("ExecStart", [""])[0],
          "systemd: the key lives in the state directory")

    print(f"{len(FAILURES)} failure(s)" if FAILURES else "all deploy checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
