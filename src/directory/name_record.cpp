#include "directory/name_record.hpp"

#include "media/sdp.hpp"
#include "multicast/credentials.hpp"
#include "node/node_key.hpp"

namespace forestcast::directory {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

std::string_view as_chars(const PublicKey& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

overlay::NodeId NameRecord::key_for(std::string_view name) {
  return overlay::NodeId::sha1_of(name);
}

overlay::NodeId NameRecord::group_id_for(std::string_view name, const PublicKey& key) {
  return multicast::group_id_of(name, key);  // the one derivation the stripe roots check too
}

std::string NameRecord::signed_bytes() const {
  // A domain tag keeps a record signature from ever being valid as some other signed message.
  std::string out = "forestcast name record v1";
  put_bytes(out, name);
  put_bytes(out, as_chars(publisher_key));
  put_u32(out, stripes);
  put_u32(out, fec_data);
  put_u32(out, fec_parity);
  put_u32(out, bitrate_kbps);
  put_bytes(out, sdp);
  put_u32(out, ttl_ms);
  put_u64(out, version);
  put_u64(out, clock_domain);
  return out;
}

std::string_view to_string(RecordError e) {
  switch (e) {
    case RecordError::kBadName:
      return "bad_name";
    case RecordError::kBadStripes:
      return "bad_stripes";
    case RecordError::kBadFec:
      return "bad_fec";
    case RecordError::kSdpTooLong:
      return "sdp_too_long";
    case RecordError::kBadSdp:
      return "bad_sdp";
    case RecordError::kBadTtl:
      return "bad_ttl";
    case RecordError::kBadSignature:
      return "bad_signature";
  }
  return "unknown";
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  for (char c : name)
    if (c <= ' ' || c > '~' || c == '@') return false;
  return true;
}

std::optional<RecordError> check(const NameRecord& r) {
  if (!valid_name(r.name)) return RecordError::kBadName;
  if (r.stripes == 0 || r.stripes > kMaxStripes) return RecordError::kBadStripes;
  if (r.fec_data == 0 ? r.fec_parity != 0 : r.fec_data + r.fec_parity != r.stripes)
    return RecordError::kBadFec;
  if (r.sdp.size() > kMaxSdpBytes) return RecordError::kSdpTooLong;
  // Relays refuse what no viewer could play, so a bad record never reaches one.
  if (!r.sdp.empty() && (r.fec_data == 0 || !media::parse_sdp(r.sdp).sdp))
    return RecordError::kBadSdp;
  if (r.ttl_ms < kMinTtlMs || r.ttl_ms > kMaxTtlMs) return RecordError::kBadTtl;
  if (!node::NodeKey::verify(r.publisher_key, r.signed_bytes(), r.signature))
    return RecordError::kBadSignature;
  return std::nullopt;
}

std::optional<StreamQuery> StreamQuery::parse(std::string_view text) {
  StreamQuery q;
  const size_t at = text.find('@');
  q.name = std::string(text.substr(0, at));
  if (!valid_name(q.name)) return std::nullopt;
  if (at == std::string_view::npos) return q;
  const std::string_view hex = text.substr(at + 1);
  PublicKey key{};
  if (hex.size() != 2 * key.size()) return std::nullopt;
  for (size_t i = 0; i < key.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  q.publisher = key;
  return q;
}

std::string StreamQuery::to_string() const {
  return publisher ? name + "@" + hex_of(*publisher) : name;
}

std::string hex_of(const PublicKey& key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : key) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

}  // namespace forestcast::directory
