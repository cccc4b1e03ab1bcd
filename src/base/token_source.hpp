#pragma once
// Unguessable 64-bit tokens for the wire (probe nonces, hop ids, message ids): SipHash-2-4 of a
// counter under a 128-bit key drawn from the node's seed. A plain PRNG such as xoshiro would do
// against a blind spoofer, but its state can be rebuilt from a few consecutive outputs, and every
// peer sees ours; a keyed PRF leaks nothing about the next token however many it has seen.
// Deterministic for a given seed, so simulations still replay.
#include <cstdint>

namespace forestcast {

class TokenSource {
 public:
  explicit TokenSource(uint64_t seed) {
    k0_ = mix(seed);
    k1_ = mix(seed);
  }

  // Never 0 (0 means "none" on the wire).
  uint64_t next() {
    uint64_t t = 0;
    while (t == 0) t = siphash(k0_, k1_, counter_++);
    return t;
  }

  // SipHash-2-4 of one 8-byte message (`m`, little endian) under the key (k0, k1).
  static uint64_t siphash(uint64_t k0, uint64_t k1, uint64_t m) {
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    auto round = [&] {
      v0 += v1;
      v1 = rotl(v1, 13) ^ v0;
      v0 = rotl(v0, 32);
      v2 += v3;
      v3 = rotl(v3, 16) ^ v2;
      v0 += v3;
      v3 = rotl(v3, 21) ^ v0;
      v2 += v1;
      v1 = rotl(v1, 17) ^ v2;
      v2 = rotl(v2, 32);
    };
    auto compress = [&](uint64_t block) {
      v3 ^= block;
      round();
      round();
      v0 ^= block;
    };
    compress(m);
    compress(uint64_t{8} << 56);  // the last block: the message length (8), no tail bytes
    v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
  }

 private:
  static uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
  static uint64_t mix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t k0_ = 0;
  uint64_t k1_ = 0;
  uint64_t counter_ = 0;
};

}  // namespace forestcast
