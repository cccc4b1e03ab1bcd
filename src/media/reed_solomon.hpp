#pragma once
// Systematic Reed-Solomon over GF(2^8) with Intel ISA-L: k data symbols, m parity symbols, all
// of one length. The generator is a Cauchy matrix, so every k x k submatrix is invertible and
// any k of the k + m symbols restore the data. Decode tables depend only on which symbols
// survived, so they are cached per erasure pattern (a bounded LRU): a viewer that has lost a
// whole stripe sees the same pattern group after group and inverts the matrix once.
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "media/fec_scheme.hpp"

namespace forestcast::media {

class ReedSolomon {
 public:
  // Throws FecConfigError for k == 0 or k + m > FecScheme::kMaxSymbols.
  explicit ReedSolomon(FecScheme scheme, size_t decode_cache_entries = 64);

  const FecScheme& scheme() const { return scheme_; }

  // parity[j] (m buffers of `len` bytes) from data[i] (k buffers of `len` bytes).
  void encode(std::span<const uint8_t* const> data, std::span<uint8_t* const> parity,
              size_t len) const;

  // Restores the data symbols whose `present` bit is clear. `symbols` has k + m buffers of
  // `len` bytes (index i < k data, else parity); `present` has k + m flags. Writes the restored
  // data into the missing data buffers. Returns false when fewer than k symbols are present.
  bool restore(std::span<uint8_t* const> symbols, std::span<const bool> present, size_t len);

  uint64_t decode_cache_hits() const { return cache_hits_; }
  uint64_t decode_cache_misses() const { return cache_misses_; }

 private:
  struct CachedTables {
    std::vector<uint8_t> tables;  // ec_init_tables output for the missing rows
    std::list<uint32_t>::iterator lru;
  };
  const CachedTables* tables_for(uint32_t pattern, std::span<const unsigned> sources,
                                 std::span<const unsigned> missing);

  FecScheme scheme_;
  size_t cache_capacity_;
  std::vector<uint8_t> matrix_;         // (k + m) x k generator, identity on top
  std::vector<uint8_t> encode_tables_;  // 32 * k * m
  std::unordered_map<uint32_t, CachedTables> cache_;
  std::list<uint32_t> lru_;  // most recent first
  uint64_t cache_hits_ = 0;
  uint64_t cache_misses_ = 0;
};

}  // namespace forestcast::media
