"""A strict parser of the Prometheus text exposition format 0.0.4, for the tests: it rejects
anything the format does not allow (bad names, bad escapes, a TYPE after samples, interleaved
families, duplicate series, values that are not Go floats, a missing final newline)."""
import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = ("_bucket", "_count", "_sum")


class FormatError(Exception):
    pass


def _unescape(text, allow_quote, where):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                raise FormatError(f"{where}: dangling backslash")
            n = text[i + 1]
            if n == "\\":
                out.append("\\")
            elif n == "n":
                out.append("\n")
            elif n == '"' and allow_quote:
                out.append('"')
            else:
                raise FormatError(f"{where}: invalid escape \\{n}")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _labels(text, where):
    """text is what follows '{' up to the end of the line; returns (labels dict, rest)."""
    labels, i = {}, 0
    while True:
        if text[i:i + 1] == "}":
            return labels, text[i + 1:]
        m = LABEL.match(text, i)
        if not m:
            raise FormatError(f"{where}: bad label name at {text[i:i + 20]!r}")
        name = m.group()
        i = m.end()
        if text[i:i + 2] != '="':
            raise FormatError(f"{where}: expected =\" after label {name}")
        i += 2
        j, raw = i, []
        while True:
            if j >= len(text):
                raise FormatError(f"{where}: unterminated label value")
            if text[j] == "\\":
                raw.append(text[j:j + 2])
                j += 2
                continue
            if text[j] == '"':
                break
            raw.append(text[j])
            j += 1
        if name in labels:
            raise FormatError(f"{where}: label {name} repeated")
        labels[name] = _unescape("".join(raw), True, where)
        i = j + 1
        if text[i:i + 1] == ",":
            i += 1
        elif text[i:i + 1] != "}":
            raise FormatError(f"{where}: expected , or }} after label {name}")


def parse(text):
    """Returns {family: {"help", "type", "samples": [(name, labels, value)]}}."""
    if not text.endswith("\n"):
        raise FormatError("the last line must end with a newline")
    families, series, current, closed = {}, set(), None, set()

    def family_of(sample_name):
        for suffix in SUFFIXES:
            base = sample_name[:-len(suffix)]
            if sample_name.endswith(suffix) and base in families and \
                    families[base]["type"] in ("histogram", "summary"):
                return base
        return sample_name

    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {number}"
        if line == "":
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.fullmatch(name):
                    raise FormatError(f"{where}: bad metric name {name!r}")
                fam = families.setdefault(name, {"help": None, "type": None, "samples": []})
                if name in closed:
                    raise FormatError(f"{where}: {name} reopened after other families")
                if parts[1] == "HELP":
                    if fam["help"] is not None:
                        raise FormatError(f"{where}: second HELP for {name}")
                    fam["help"] = _unescape(parts[3] if len(parts) > 3 else "", False, where)
                else:
                    if fam["type"] is not None:
                        raise FormatError(f"{where}: second TYPE for {name}")
                    if fam["samples"]:
                        raise FormatError(f"{where}: TYPE for {name} after its samples")
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise FormatError(f"{where}: bad TYPE line {line!r}")
                    fam["type"] = parts[3]
                if current is not None and current != name:
                    closed.add(current)
                current = name
            continue  # other comments are allowed
        m = NAME.match(line)
        if not m:
            raise FormatError(f"{where}: bad sample name in {line!r}")
        name, rest = m.group(), line[m.end():]
        labels = {}
        if rest.startswith("{"):
            labels, rest = _labels(rest[1:], where)
        if not rest.startswith(" "):
            raise FormatError(f"{where}: expected a space before the value in {line!r}")
        fields = rest[1:].split(" ")
        if not 1 <= len(fields) <= 2 or not FLOAT.fullmatch(fields[0]):
            raise FormatError(f"{where}: bad value in {line!r}")
        if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
            raise FormatError(f"{where}: bad timestamp in {line!r}")
        fam_name = family_of(name)
        if fam_name in closed:
            raise FormatError(f"{where}: samples of {fam_name} are not contiguous")
        if current is not None and current != fam_name:
            closed.add(current)
        current = fam_name
        fam = families.setdefault(fam_name, {"help": None, "type": None, "samples": []})
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            raise FormatError(f"{where}: duplicate series {name}{labels}")
        series.add(key)
        fam["samples"].append((name, labels, float(fields[0].replace("Inf", "inf"))))
    return families
