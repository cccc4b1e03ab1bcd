"""Reading a node's admin API (GET /status) and printing it as tables for people."""
import json
import urllib.error
import urllib.request


class Unreachable(Exception):
    pass


def get_status(admin, timeout=1.0):
    """The node's /status as a dict; raises Unreachable with a one-line reason."""
    url = f"http://{admin}/status"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise Unreachable(f"{url} answered HTTP {e.code}") from None
    except urllib.error.URLError as e:
        raise Unreachable(f"cannot reach {url}: {e.reason}") from None
    except (OSError, ValueError) as e:
        raise Unreachable(f"cannot read {url}: {e}") from None


def try_status(admin, timeout=1.0):
    try:
        return get_status(admin, timeout)
    except Unreachable:
        return None


def table(rows, header):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def handles_table(handles):
    return table([[h["node_id"], h["addr"], h.get("admin", "-")] for h in handles],
                 ["node id", "address", "admin"])


def format_status(st):
    """`forestcast status HOST:PORT`: the same facts as the node's page, as text."""
    out = [f"node      {st['node_id']}",
           f"state     {st['state']}   up {st['uptime_s']:.0f} s",
           f"udp       {st['bind']} (advertised {st['advertised']})",
           f"admin     {st.get('admin', '-')}",
           "",
           f"leaf set: {len(st['leaf_set_left'])} left, {len(st['leaf_set_right'])} right"]
    rows = [["left", *_cells(h)] for h in reversed(st["leaf_set_left"])]
    rows.append(["self", st["node_id"], st["advertised"], st.get("admin", "-")])
    rows += [["right", *_cells(h)] for h in st["leaf_set_right"]]
    out.append(table(rows, ["side", "node id", "address", "admin"]))
    out += ["", f"routing table: {st['routing_table_entries']} entries in "
                f"{st['routing_table_rows']} rows (# filled, o own digit, . empty)",
            "row  0123456789abcdef"]
    for r, row in enumerate(st.get("routing_table", [])):
        own = int(st["node_id"][r], 16)
        cells = "".join("#" if h else ("o" if c == own else ".") for c, h in enumerate(row))
        out.append(f"{r:>3}  {cells}")
    out += ["", f"neighbourhood set: {st['neighborhood_set']} nodes (nearest by RTT)"]
    if st.get("neighborhood"):
        out.append(handles_table(st["neighborhood"]))
    counters = {k: v for k, v in st["counters"].items() if v}
    out += ["", "counters (non-zero)", table(sorted(counters.items()), ["counter", "value"])]
    return "\n".join(out)


def _cells(h):
    return [h["node_id"], h["addr"], h.get("admin", "-")]
