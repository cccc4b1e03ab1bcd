"""The state file of a local cluster (DIR/cluster.json): what `forestcast cluster up` started,
written before each process starts and after, so `status`, `kill`, `restart` and `down` find
every node, namespace and link later, including after the launcher itself was killed."""
import hashlib
import json
import os
import signal
import time

STATE_FILE = "cluster.json"


def default_dir():
    return os.environ.get("FORESTCAST_CLUSTER_DIR") or f"/tmp/forestcast-cluster-{os.getuid()}"


def tag_of(directory):
    """A short tag naming this cluster's namespaces and links (interface names have 15 bytes)."""
    return hashlib.sha1(os.path.abspath(directory).encode()).hexdigest()[:4]


def load(directory):
    try:
        with open(os.path.join(directory, STATE_FILE)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise SystemExit(f"forestcast cluster: unreadable state file in {directory}: {e}")


def save(directory, state):
    path = os.path.join(directory, STATE_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, path)  # atomic: a crash never leaves half a state file


def remove(directory):
    for name in (STATE_FILE, STATE_FILE + ".tmp"):
        try:
            os.unlink(os.path.join(directory, name))
        except FileNotFoundError:
            pass


def proc_start_time(pid):
    """The kernel's start time of pid (clock ticks since boot), or None if it is gone: with the
    pid it identifies a process even after the pid number is reused."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid):
    """pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def is_ours(node):
    """The recorded process still runs (same pid and start time) and is not a zombie."""
    pid, started = node.get("pid"), node.get("started")
    return bool(pid) and proc_start_time(pid) == started and _alive(pid)


def strays(directory):
    """Pids of forestcast processes whose command line names a file in `directory` (the key
    file): nodes started by a launcher that died before it could record them."""
    marker = (os.path.abspath(directory) + "/node").encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        args = cmd.split(b"\0")
        if b"node" in args and any(marker in a for a in args) and \
                any(a.endswith(b"forestcast") for a in args):
            found.append(int(entry))
    return found


def stop(pids, grace=1.0, graceful=True):
    """SIGTERM (a graceful leave), then SIGKILL whatever is left after `grace` seconds; with
    graceful=False SIGKILL only (a crash: the node tells nobody)."""
    steps = ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)) if graceful else \
        ((signal.SIGKILL, 2.0),)
    for sig, wait in steps:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, sig)
                alive.append(pid)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            alive = [p for p in alive if _running(p)]
            if alive:
                time.sleep(0.02)
        pids = alive
        if not pids:
            return


def _running(pid):
    try:
        # Our own children would linger as zombies: reap them if they are ours.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    return _alive(pid)
