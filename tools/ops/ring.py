"""The ring as an operator sees it: node ids on the 128-bit circle, the leaf-set oracle (who a
node's leaf set must hold, given the live ids), a readable ring listing and Graphviz output."""

HALF_LEAF_SET = 8
RING = 1 << 128


def oracle_leaf_set(self_id, all_ids, half=HALF_LEAF_SET):
    """The `half` closest ids on each side of self_id on the ring, as one set (a node can be on
    both sides in a small ring)."""
    others = [i for i in all_ids if i != self_id]
    right = sorted(others, key=lambda i: (i - self_id) % RING)[:half]
    left = sorted(others, key=lambda i: (self_id - i) % RING)[:half]
    return set(left) | set(right)


def leaf_set_ids(status):
    return {int(e["node_id"], 16) for e in status["leaf_set"]}


def check_against_oracle(statuses):
    """statuses: {node_id_hex: status or None} of every live node. Returns
    {node_id_hex: (missing ids, extra ids)} for nodes whose leaf set differs from the oracle's
    (a node without status counts as all missing)."""
    ids = [int(h, 16) for h in statuses]
    bad = {}
    for h, st in statuses.items():
        want = oracle_leaf_set(int(h, 16), ids)
        have = leaf_set_ids(st) if st else set()
        if have != want or st is None:
            bad[h] = (want - have, have - want)
    return bad


def short(i):
    return f"{i:032x}"[:8]


def describe_mismatch(node_hex, missing, extra):
    return (f"{node_hex[:8]}: missing {sorted(short(i) for i in missing)} "
            f"extra {sorted(short(i) for i in extra)}")


def ring_dot(statuses, labels=None):
    """Graphviz: the nodes in ring order on a circle (neato), ring successor edges solid, leaf
    set edges dashed, mismatches against the oracle red."""
    labels = labels or {}
    ids = sorted(statuses, key=lambda h: int(h, 16))
    bad = check_against_oracle(statuses)
    out = ["graph ring {", '  layout=circo; node [shape=box, fontname="monospace"];']
    for h in ids:
        color = "red" if h in bad else "black"
        extra = labels.get(h, "")
        out.append(f'  "{h[:8]}" [label="{h[:8]}{chr(92) + "n" + extra if extra else ""}", '
                   f'color={color}];')
    for a, b in zip(ids, ids[1:] + ids[:1]):
        if a != b:
            out.append(f'  "{a[:8]}" -- "{b[:8]}" [penwidth=2];')
    seen = set()
    for h in ids:
        st = statuses[h]
        for e in (st or {}).get("leaf_set", []):
            pair = tuple(sorted((h[:8], e["node_id"][:8])))
            if pair not in seen:
                seen.add(pair)
                out.append(f'  "{pair[0]}" -- "{pair[1]}" [style=dashed, color=gray];')
    out.append("}")
    return "\n".join(out) + "\n"
