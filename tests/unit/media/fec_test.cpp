// Reed-Solomon across stripes (ISA-L) and the group byte-stream framing.
#include <gtest/gtest.h>

#include "base/random.hpp"
#include "media/fec_scheme.hpp"
#include "media/group_format.hpp"
#include "media/reed_solomon.hpp"

namespace forestcast::media {
namespace {

struct Symbols {
  Symbols(unsigned n, size_t symbol_len) : bytes(n * symbol_len), len(symbol_len) {
    for (unsigned i = 0; i < n; ++i) ptrs.push_back(bytes.data() + i * len);
  }
  std::vector<uint8_t> bytes;
  size_t len;
  std::vector<uint8_t*> ptrs;
};

// Encodes random data, erases `lost`, restores, and checks the data came back exactly.
void check_restore(ReedSolomon& rs, Rng& rng, const std::vector<unsigned>& lost, size_t len) {
  const unsigned k = rs.scheme().data;
  const unsigned n = rs.scheme().total();
  Symbols s(n, len);
  for (size_t i = 0; i < k * len; ++i) s.bytes[i] = static_cast<uint8_t>(rng.next());
  const std::vector<uint8_t> original(s.bytes.begin(), s.bytes.begin() + k * len);
  std::vector<const uint8_t*> data(s.ptrs.begin(), s.ptrs.begin() + k);
  rs.encode(data, {s.ptrs.data() + k, n - k}, len);
  std::unique_ptr<bool[]> present(new bool[n]);
  for (unsigned i = 0; i < n; ++i) present[i] = true;
  for (unsigned l : lost) {
    present[l] = false;
    std::fill_n(s.ptrs[l], len, uint8_t{0xa5});  // garbage where the symbol was lost
  }
  ASSERT_TRUE(rs.restore(s.ptrs, {present.get(), n}, len));
  EXPECT_TRUE(std::equal(original.begin(), original.end(), s.bytes.begin()));
}

TEST(ReedSolomon, EveryPairOfLostSymbolsIsRestoredFor14Plus2) {
  ReedSolomon rs(FecScheme{14, 2});
  Rng rng(1);
  for (unsigned a = 0; a < 16; ++a) {
    for (unsigned b = a + 1; b < 16; ++b) {
      SCOPED_TRACE(testing::Message() << "lost " << a << "," << b);
      check_restore(rs, rng, {a, b}, 1100);
    }
  }
  for (unsigned a = 0; a < 16; ++a) check_restore(rs, rng, {a}, 333);
}

TEST(ReedSolomon, RandomErasuresUpToMAreRestoredForOtherSchemes) {
  Rng rng(7);
  for (FecScheme scheme : {FecScheme{1, 1}, FecScheme{4, 2}, FecScheme{10, 4}, FecScheme{8, 8},
                           FecScheme{12, 4}, FecScheme{20, 12}}) {
    ReedSolomon rs(scheme);
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<unsigned> all(scheme.total());
      for (unsigned i = 0; i < all.size(); ++i) all[i] = i;
      for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng.below(i)]);
      all.resize(rng.below(scheme.parity + 1));
      SCOPED_TRACE(scheme.to_string());
      check_restore(rs, rng, all, 1 + rng.below(1100));
    }
  }
}

TEST(ReedSolomon, MoreThanMErasuresAreRefused) {
  ReedSolomon rs(FecScheme{4, 2});
  Symbols s(6, 16);
  bool present[6] = {true, false, false, false, true, true};
  EXPECT_FALSE(rs.restore(s.ptrs, {present, 6}, 16));
}

TEST(ReedSolomon, DecodeTablesAreCachedPerErasurePatternAndBounded) {
  ReedSolomon rs(FecScheme{14, 2}, 4);
  Rng rng(3);
  check_restore(rs, rng, {3}, 64);
  check_restore(rs, rng, {3}, 64);
  check_restore(rs, rng, {3}, 64);
  EXPECT_EQ(rs.decode_cache_misses(), 1u);
  EXPECT_EQ(rs.decode_cache_hits(), 2u);
  for (unsigned i = 0; i < 8; ++i) check_restore(rs, rng, {i}, 64);  // evicts {3}
  check_restore(rs, rng, {3}, 64);
  EXPECT_EQ(rs.decode_cache_misses(), 1u + 8u);  // {3} had been evicted: missed once more
}

TEST(FecScheme, ParsesKPlusMAndOff) {
  EXPECT_EQ(FecScheme::parse("14+2"), (FecScheme{14, 2}));
  EXPECT_EQ(FecScheme::parse("10+6"), (FecScheme{10, 6}));
  EXPECT_EQ(FecScheme::parse("off"), (FecScheme{16, 0}));
  EXPECT_EQ(FecScheme::parse("off", 8), (FecScheme{8, 0}));
  EXPECT_FALSE(FecScheme::parse("off").enabled());
  for (const char* bad : {"", "14", "14+", "+2", "0+2", "15+2", "a+b", "14+2x", "-1+2"}) {
    EXPECT_THROW(FecScheme::parse(bad), FecConfigError) << bad;
  }
}

TEST(GroupFraming, PacketsSplitBackExactly) {
  std::vector<uint8_t> stream;
  std::vector<std::vector<uint8_t>> packets{{1, 2, 3}, std::vector<uint8_t>(1472, 9), {7}};
  for (size_t i = 0; i < packets.size(); ++i) {
    append_framed_packet(stream, packets[i], static_cast<uint16_t>(i * 100));
  }
  auto split = split_framed_packets(stream, 3);
  ASSERT_TRUE(split);
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_TRUE(std::equal(packets[i].begin(), packets[i].end(), (*split)[i].bytes.begin(),
                           (*split)[i].bytes.end()));
    EXPECT_EQ((*split)[i].offset_units, i * 100);
  }
  EXPECT_FALSE(split_framed_packets(stream, 2));  // trailing packet
  EXPECT_FALSE(split_framed_packets(stream, 4));  // one missing
  stream.pop_back();
  EXPECT_FALSE(split_framed_packets(stream, 3));  // truncated
}

TEST(GroupFormat, ItemsRoundTripAndRefuseBadSizes) {
  GroupHeader h;
  h.stream[0] = 0x42;
  h.group = 7;
  h.publisher_time_us = 123456;
  h.first_packet = 99;
  h.packet_count = 2;
  h.data_symbols = 14;
  h.parity_symbols = 2;
  h.symbol_bytes = 10;
  h.data_bytes = 130;
  std::vector<uint8_t> sym(10, 5);
  auto item = encode_symbol_item(h, 15, sym);
  auto back = decode_symbol_item(item);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->header, h);
  EXPECT_EQ(back->index, 15);
  auto bad = item;
  bad.pop_back();
  EXPECT_FALSE(decode_symbol_item(bad));  // symbol shorter than the header says
  bad = item;
  bad[1 + kGroupHeaderBytes] = 16;  // index past k + m
  EXPECT_FALSE(decode_symbol_item(bad));
  bad = item;
  bad[0] = 0x21;  // version 2
  EXPECT_FALSE(decode_symbol_item(bad));
  h.data_bytes = 141;  // more than k x symbol_bytes
  EXPECT_FALSE(decode_symbol_item(encode_symbol_item(h, 0, sym)));

  GroupAuth a;
  a.header = back->header;
  a.hashes.resize(16);
  a.hashes[3][0] = 1;
  a.signature[63] = 9;
  auto auth_item = encode_auth_item(a);
  EXPECT_LE(auth_item.size(), kMaxItemBytes);
  auto a2 = decode_auth_item(auth_item);
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->hashes, a.hashes);
  EXPECT_EQ(a2->signature, a.signature);
  auth_item.push_back(0);
  EXPECT_FALSE(decode_auth_item(auth_item));
  EXPECT_FALSE(decode_symbol_item(encode_auth_item(a)));  // kinds are not confused
}

}  // namespace
}  // namespace forestcast::media
