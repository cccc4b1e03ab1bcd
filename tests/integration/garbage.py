"""Datagrams a node must drop and count, never act on: random bytes, truncated valid envelopes,
valid envelopes with a field out of range, ids of the wrong length. Hand-encoded protobuf (the
wire format is proto/forestcast.proto), so the tests need only the Python standard library.

Every datagram made here is rejected by the codec whatever the node's state: no message in it
could ever be accepted, so a test can demand that each one is counted as a drop."""
import random
import struct

MAX_DATAGRAM = 1400


# ---- protobuf wire encoding ---------------------------------------------------------------

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(field, v):
    return varint(field << 3) + varint(v)


def f_fixed64(field, v):
    return varint(field << 3 | 1) + struct.pack("<Q", v)


def f_bytes(field, b):
    return varint(field << 3 | 2) + varint(len(b)) + b


def handle(node_id, ip=b"\x7f\x00\x00\x01", port=7000):
    return f_bytes(1, node_id) + f_bytes(2, ip) + f_varint(3, port)


def envelope(body_field, body, sender, version=1):
    return f_varint(1, version) + f_bytes(2, sender) + f_bytes(body_field, body)


# Body fields of Envelope.
PING, PONG, ROUTE, ROUTE_ACK, STATE, REQUEST, ANNOUNCE, LEAVE, HEARTBEAT, DIRECT = range(10, 20)


class Garbage:
    """Yields (kind, datagram) with kinds in a fixed rotation, reproducibly from `seed`."""

    KINDS = ("random_bytes", "truncated", "out_of_range", "wrong_id_length")

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.count = 0

    def id16(self):
        return bytes(self.rng.randrange(256) for _ in range(16))

    def valid(self):
        """A valid envelope with a non-empty body; only ever sent truncated."""
        r, s = self.rng, self.id16()
        choice = r.randrange(5)
        if choice == 0:
            return envelope(PING, f_fixed64(1, r.getrandbits(64)), s)
        if choice == 1:
            body = f_fixed64(1, r.getrandbits(64)) + f_bytes(2, self.id16()) + \
                f_bytes(3, handle(self.id16())) + f_varint(4, 3)
            return envelope(ROUTE, body, s)
        if choice == 2:
            nodes = b"".join(f_bytes(5, handle(self.id16(), port=1 + r.randrange(65535)))
                             for _ in range(1 + r.randrange(24)))
            return envelope(STATE, f_varint(1, 1) + nodes, s)
        if choice == 3:
            return envelope(REQUEST, f_varint(1, 0) + f_varint(2, r.randrange(32)), s)
        return envelope(ROUTE_ACK, f_fixed64(1, r.getrandbits(64)), s)

    def random_bytes(self):
        r = self.rng
        n = r.choice((0, 1, 2, 7, r.randrange(1, MAX_DATAGRAM), r.randrange(MAX_DATAGRAM, 3000)))
        return bytes(r.randrange(256) for _ in range(n))

    def truncated(self):
        # Every proper prefix of an envelope whose body comes last lacks (part of) the body.
        full = self.valid()
        return full[:self.rng.randrange(len(full))]

    def out_of_range(self):
        r, s = self.rng, self.id16()
        options = [
            lambda: envelope(ANNOUNCE, b"", s, version=r.choice((0, 2, 1000))),
            lambda: envelope(REQUEST, f_varint(2, 32 + r.randrange(1000)), s),       # row
            lambda: envelope(REQUEST, f_varint(1, 3 + r.randrange(100)), s),         # kind
            lambda: envelope(STATE, f_varint(1, 7), s),                              # kind
            lambda: envelope(STATE, f_bytes(5, handle(self.id16(), port=0)), s),     # port
            lambda: envelope(STATE, f_bytes(5, handle(self.id16(), port=70000)), s),
            lambda: envelope(STATE, f_bytes(5, handle(self.id16(), ip=b"\x01\x02\x03")), s),
            lambda: envelope(STATE, b"".join(f_bytes(5, handle(self.id16()))
                                             for _ in range(25)), s),               # > 24
            lambda: envelope(STATE, f_bytes(5, handle(self.id16())) +
                             f_varint(6, 60_000_001), s),                            # rtt
            lambda: envelope(ROUTE, f_bytes(2, self.id16()) + f_bytes(3, handle(self.id16()))
                             + f_varint(4, 70000), s),                               # hops
            lambda: envelope(ROUTE, f_bytes(2, self.id16()), s),                     # no origin
            lambda: envelope(DIRECT, b"", s),                                        # no app
            lambda: envelope(DIRECT, f_bytes(1, f_varint(1, 9999)), s),              # app id
            lambda: f_varint(1, 1) + f_bytes(2, s),                                  # no body
        ]
        return r.choice(options)()

    def wrong_id_length(self):
        r = self.rng
        bad = bytes(r.randrange(256) for _ in range(r.choice((0, 1, 8, 15, 17, 20, 32))))
        options = [
            lambda: envelope(HEARTBEAT, b"", bad),                                   # sender
            lambda: envelope(ROUTE, f_bytes(2, bad) + f_bytes(3, handle(self.id16())),
                             self.id16()),                                           # key
            lambda: envelope(STATE, f_bytes(5, handle(bad)), self.id16()),           # handle
        ]
        return r.choice(options)()

    def next(self):
        kind = self.KINDS[self.count % len(self.KINDS)]
        self.count += 1
        return kind, getattr(self, kind)()
