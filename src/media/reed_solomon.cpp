#include "media/reed_solomon.hpp"

#include <isa-l/erasure_code.h>

#include <cassert>

namespace forestcast::media {

ReedSolomon::ReedSolomon(FecScheme scheme, size_t decode_cache_entries)
    : scheme_(scheme), cache_capacity_(decode_cache_entries == 0 ? 1 : decode_cache_entries) {
  const int k = static_cast<int>(scheme.data);
  const int m = static_cast<int>(scheme.parity);
  if (k == 0 || scheme.total() > FecScheme::kMaxSymbols) {
    throw FecConfigError("Reed-Solomon needs 1 <= k and k + m <= 32");
  }
  matrix_.resize(static_cast<size_t>((k + m) * k));
  gf_gen_cauchy1_matrix(matrix_.data(), k + m, k);
  if (m > 0) {
    encode_tables_.resize(static_cast<size_t>(32 * k * m));
    ec_init_tables(k, m, &matrix_[static_cast<size_t>(k * k)], encode_tables_.data());
  }
}

void ReedSolomon::encode(std::span<const uint8_t* const> data, std::span<uint8_t* const> parity,
                         size_t len) const {
  assert(data.size() == scheme_.data && parity.size() == scheme_.parity);
  if (scheme_.parity == 0 || len == 0) return;
  // ISA-L's signature takes non-const pointers; it only reads the sources and the tables.
  uint8_t* sources[FecScheme::kMaxSymbols];
  uint8_t* outputs[FecScheme::kMaxSymbols];
  for (size_t i = 0; i < data.size(); ++i) sources[i] = const_cast<uint8_t*>(data[i]);
  for (size_t i = 0; i < parity.size(); ++i) outputs[i] = parity[i];
  ec_encode_data(static_cast<int>(len), static_cast<int>(scheme_.data),
                 static_cast<int>(scheme_.parity), const_cast<uint8_t*>(encode_tables_.data()),
                 sources, outputs);
}

bool ReedSolomon::restore(std::span<uint8_t* const> symbols, std::span<const bool> present,
                          size_t len) {
  const unsigned k = scheme_.data;
  const unsigned n = scheme_.total();
  assert(symbols.size() == n && present.size() == n);
  unsigned sources[FecScheme::kMaxSymbols];
  unsigned missing[FecScheme::kMaxSymbols];
  unsigned source_count = 0;
  unsigned missing_count = 0;
  uint32_t pattern = 0;
  for (unsigned i = 0; i < k; ++i) {
    if (!present[i]) missing[missing_count++] = i;
  }
  if (missing_count == 0) return true;
  // The first k present symbols decide the pattern: data first, then parity in index order.
  for (unsigned i = 0; i < n && source_count < k; ++i) {
    if (present[i]) {
      sources[source_count++] = i;
      pattern |= 1u << i;
    }
  }
  if (source_count < k) return false;
  const CachedTables* t = tables_for(pattern, {sources, source_count}, {missing, missing_count});
  if (t == nullptr) return false;
  uint8_t* in[FecScheme::kMaxSymbols];
  uint8_t* out[FecScheme::kMaxSymbols];
  for (unsigned i = 0; i < k; ++i) in[i] = symbols[sources[i]];
  for (unsigned i = 0; i < missing_count; ++i) out[i] = symbols[missing[i]];
  if (len > 0) {
    ec_encode_data(static_cast<int>(len), static_cast<int>(k), static_cast<int>(missing_count),
                   const_cast<uint8_t*>(t->tables.data()), in, out);
  }
  return true;
}

const ReedSolomon::CachedTables* ReedSolomon::tables_for(uint32_t pattern,
                                                         std::span<const unsigned> sources,
                                                         std::span<const unsigned> missing) {
  if (auto it = cache_.find(pattern); it != cache_.end()) {
    ++cache_hits_;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return &it->second;
  }
  ++cache_misses_;
  const unsigned k = scheme_.data;
  // Rows of the generator for the symbols we hold; inverting them maps held -> data.
  std::vector<uint8_t> held(size_t{k} * k);
  std::vector<uint8_t> inverse(size_t{k} * k);
  for (unsigned r = 0; r < k; ++r) {
    for (unsigned c = 0; c < k; ++c) held[r * k + c] = matrix_[sources[r] * k + c];
  }
  if (gf_invert_matrix(held.data(), inverse.data(), static_cast<int>(k)) != 0) return nullptr;
  // Missing symbols are data symbols, so their decode rows are rows of the inverse.
  std::vector<uint8_t> rows(missing.size() * k);
  for (size_t r = 0; r < missing.size(); ++r) {
    for (unsigned c = 0; c < k; ++c) rows[r * k + c] = inverse[missing[r] * k + c];
  }
  CachedTables entry;
  entry.tables.resize(32 * k * missing.size());
  ec_init_tables(static_cast<int>(k), static_cast<int>(missing.size()), rows.data(),
                 entry.tables.data());
  if (cache_.size() >= cache_capacity_) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(pattern);
  entry.lru = lru_.begin();
  return &cache_.emplace(pattern, std::move(entry)).first->second;
}

}  // namespace forestcast::media
