#include "overlay/key_proofs.hpp"

#include <algorithm>
#include <cstring>

namespace forestcast::overlay {
namespace {

constexpr char kDomainTag[16] = {'f', 'o', 'r', 'e', 's', 't', 'c', 'a',
                                 's', 't', '-', 'i', 'd', '-', 'v', '1'};

uint8_t* put_u64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) *out++ = static_cast<uint8_t>(v >> (8 * i));
  return out;
}

uint8_t* put_id(uint8_t* out, const NodeId& id) {
  const auto bytes = id.to_bytes();
  return std::copy(bytes.begin(), bytes.end(), out);
}

}  // namespace

ProofStatement proof_statement(uint64_t nonce, uint64_t challenge, const NodeId& prober,
                               const NodeHandle& responder) {
  ProofStatement s{};
  uint8_t* p = s.data();
  std::memcpy(p, kDomainTag, sizeof kDomainTag);
  p += sizeof kDomainTag;
  p = put_u64(p, nonce);
  p = put_u64(p, challenge);
  p = put_id(p, prober);
  p = put_id(p, responder.id);
  p = std::copy(responder.endpoint.ip.begin(), responder.endpoint.ip.end(), p);
  *p++ = static_cast<uint8_t>(responder.endpoint.port >> 8);
  *p++ = static_cast<uint8_t>(responder.endpoint.port);
  return s;
}

}  // namespace forestcast::overlay
