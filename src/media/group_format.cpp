#include "media/group_format.hpp"

#include <openssl/sha.h>

#include <cstring>

#include "media/byte_io.hpp"

namespace forestcast::media {

namespace {

uint8_t kind_byte(ItemKind k) {
  return static_cast<uint8_t>((kFormatVersion << 4) | static_cast<uint8_t>(k));
}

void write_header(ByteWriter& w, const GroupHeader& h) {
  w.bytes(h.stream);
  w.u64(h.group);
  w.u64(h.publisher_time_us);
  w.u64(h.first_packet);
  w.u16(h.packet_count);
  w.u8(h.data_symbols);
  w.u8(h.parity_symbols);
  w.u16(h.symbol_bytes);
  w.u16(h.data_bytes);
}

std::optional<GroupHeader> read_header(ByteReader& r) {
  GroupHeader h;
  auto s = r.bytes(h.stream.size());
  if (!r.ok()) return std::nullopt;
  std::memcpy(h.stream.data(), s.data(), s.size());
  h.group = r.u64();
  h.publisher_time_us = r.u64();
  h.first_packet = r.u64();
  h.packet_count = r.u16();
  h.data_symbols = r.u8();
  h.parity_symbols = r.u8();
  h.symbol_bytes = r.u16();
  h.data_bytes = r.u16();
  if (!r.ok()) return std::nullopt;
  // Every field that sizes something is checked against what a publisher can produce.
  if (h.data_symbols == 0 || h.total_symbols() > 32) return std::nullopt;
  if (h.symbol_bytes == 0 || h.symbol_bytes > kMaxSymbolBytes) return std::nullopt;
  if (size_t{h.data_bytes} > size_t{h.data_symbols} * h.symbol_bytes) return std::nullopt;
  if (h.packet_count == 0 || size_t{h.packet_count} * kPacketPrefixBytes > h.data_bytes) {
    return std::nullopt;
  }
  return h;
}

}  // namespace

std::optional<ItemKind> peek_item_kind(std::span<const uint8_t> item) {
  if (item.empty() || (item[0] >> 4) != kFormatVersion) return std::nullopt;
  const uint8_t k = item[0] & 0x0f;
  if (k == static_cast<uint8_t>(ItemKind::kSymbol)) return ItemKind::kSymbol;
  if (k == static_cast<uint8_t>(ItemKind::kAuth)) return ItemKind::kAuth;
  return std::nullopt;
}

std::vector<uint8_t> encode_symbol_item(const GroupHeader& h, uint8_t index,
                                        std::span<const uint8_t> symbol) {
  std::vector<uint8_t> out;
  out.reserve(kSymbolItemOverhead + symbol.size());
  ByteWriter w(out);
  w.u8(kind_byte(ItemKind::kSymbol));
  write_header(w, h);
  w.u8(index);
  w.bytes(symbol);
  return out;
}

std::optional<SymbolItem> decode_symbol_item(std::span<const uint8_t> item) {
  if (item.size() > kMaxItemBytes || peek_item_kind(item) != ItemKind::kSymbol) {
    return std::nullopt;
  }
  ByteReader r(item.subspan(1));
  auto h = read_header(r);
  if (!h) return std::nullopt;
  SymbolItem s;
  s.header = *h;
  s.index = r.u8();
  if (!r.ok() || s.index >= h->total_symbols() || r.remaining() != h->symbol_bytes) {
    return std::nullopt;
  }
  s.symbol = r.bytes(h->symbol_bytes);
  return s;
}

std::vector<uint8_t> encode_auth_item(const GroupAuth& a) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(kind_byte(ItemKind::kAuth));
  write_header(w, a.header);
  for (const auto& h : a.hashes) w.bytes(h);
  w.bytes(a.signature);
  return out;
}

std::optional<GroupAuth> decode_auth_item(std::span<const uint8_t> item) {
  if (item.size() > kMaxItemBytes || peek_item_kind(item) != ItemKind::kAuth) {
    return std::nullopt;
  }
  ByteReader r(item.subspan(1));
  auto h = read_header(r);
  if (!h) return std::nullopt;
  const size_t n = h->total_symbols();
  if (r.remaining() != n * sizeof(SymbolHash) + sizeof(GroupSignature)) return std::nullopt;
  GroupAuth a;
  a.header = *h;
  a.hashes.resize(n);
  for (auto& hash : a.hashes) std::memcpy(hash.data(), r.bytes(hash.size()).data(), hash.size());
  std::memcpy(a.signature.data(), r.bytes(a.signature.size()).data(), a.signature.size());
  return a;
}

SymbolHash hash_item(std::span<const uint8_t> item) {
  uint8_t full[SHA256_DIGEST_LENGTH];
  SHA256(item.data(), item.size(), full);
  SymbolHash out;
  std::memcpy(out.data(), full, out.size());
  return out;
}

GroupDigest group_digest(const GroupHeader& h, std::span<const SymbolHash> hashes) {
  static constexpr char kDomain[] = "forestcast/fec-group/1";
  std::vector<uint8_t> msg(kDomain, kDomain + sizeof(kDomain));
  ByteWriter w(msg);
  write_header(w, h);
  for (const auto& s : hashes) w.bytes(s);
  GroupDigest d;
  SHA256(msg.data(), msg.size(), d.data());
  return d;
}

void append_framed_packet(std::vector<uint8_t>& stream, std::span<const uint8_t> packet,
                          uint16_t offset_units) {
  ByteWriter w(stream);
  w.u16(static_cast<uint16_t>(packet.size()));
  w.u16(offset_units);
  w.bytes(packet);
}

std::optional<std::vector<FramedPacket>> split_framed_packets(std::span<const uint8_t> stream,
                                                              size_t expected_count) {
  std::vector<FramedPacket> out;
  out.reserve(expected_count);
  ByteReader r(stream);
  while (r.remaining() > 0) {
    if (out.size() == expected_count) return std::nullopt;  // trailing bytes
    FramedPacket p;
    const uint16_t len = r.u16();
    p.offset_units = r.u16();
    p.bytes = r.bytes(len);
    if (!r.ok() || len == 0) return std::nullopt;
    out.push_back(p);
  }
  if (out.size() != expected_count) return std::nullopt;
  return out;
}

}  // namespace forestcast::media
