"""The emulated multi-host lab: one network namespace per node, each with a veth pair whose
host end is enslaved to one bridge. Names carry the cluster's tag so `down` finds and removes
them all, even without a state file. Needs root (CAP_NET_ADMIN)."""
import os
import shutil
import subprocess

# Node i: 10.S.x.y/16 with x.y = i + 2, the bridge (host side) 10.S.0.1; S comes from the
# cluster's tag so two clusters' bridges do not claim the same subnet.
def subnet(tag):
    return f"10.{200 + int(tag, 16) % 50}"


class NetnsError(Exception):
    pass


def names(tag):
    return {"bridge": f"fc{tag}br", "netns_prefix": f"fc{tag}n", "veth_prefix": f"fc{tag}v"}


def node_ip(tag, i):
    n = i + 2
    return f"{subnet(tag)}.{n // 256}.{n % 256}"


def check_privileges():
    if shutil.which("ip") is None:
        raise NetnsError("--netns needs the `ip` command (Debian package iproute2)")
    if os.geteuid() != 0:
        raise NetnsError("--netns needs root privileges (CAP_NET_ADMIN) to create network "
                         "namespaces; run as root or without --netns")


def _ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {r.stderr.strip() or 'failed'}")


def create_bridge(tag):
    br = names(tag)["bridge"]
    _ip("link", "add", br, "type", "bridge")
    _ip("addr", "add", f"{subnet(tag)}.0.1/16", "dev", br)
    _ip("link", "set", br, "up")


def create_node_netns(tag, i):
    n = names(tag)
    ns, veth = f"{n['netns_prefix']}{i}", f"{n['veth_prefix']}{i}"
    _ip("netns", "add", ns)
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
    _ip("link", "set", veth, "master", n["bridge"], "up")
    _ip("-n", ns, "addr", "add", f"{node_ip(tag, i)}/16", "dev", "eth0")
    _ip("-n", ns, "link", "set", "eth0", "up")
    _ip("-n", ns, "link", "set", "lo", "up")
    return ns


def exec_prefix(ns):
    return ["ip", "netns", "exec", ns]


def _tagged_links(n):
    r = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    out = []
    for line in r.stdout.splitlines():
        parts = line.split(":")
        if len(parts) > 1:
            name = parts[1].strip().split("@")[0]
            if name.startswith(n["veth_prefix"]) or name == n["bridge"]:
                out.append(name)
    return out


def _tagged_namespaces(n):
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [ln.split()[0] for ln in r.stdout.splitlines()
            if ln.split() and ln.split()[0].startswith(n["netns_prefix"])]


def remove_all(tag):
    """Deletes every namespace, veth and the bridge of this tag; returns how many namespaces
    went. Deleting a namespace deletes its veth end, and with it the pair."""
    if shutil.which("ip") is None or os.geteuid() != 0:
        return 0
    n = names(tag)
    namespaces = _tagged_namespaces(n)
    for ns in namespaces:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    for link in _tagged_links(n):
        subprocess.run(["ip", "link", "del", link], capture_output=True)
    return len(namespaces)


def leftovers(tag):
    """Namespaces and links of this tag that still exist (for tests and `down`'s report)."""
    if shutil.which("ip") is None:
        return []
    n = names(tag)
    return _tagged_namespaces(n) + _tagged_links(n)
