#include "net/sim/modelled_proofs.hpp"

#include "base/token_source.hpp"

namespace forestcast::sim {
namespace {

// The modelled public key of an id: the id, then a keyed hash of it (so a key names one id).
std::array<uint8_t, overlay::IdProof::kPublicKeyBytes> key_of(const overlay::NodeId& id,
                                                              const ProofModel& m) {
  std::array<uint8_t, overlay::IdProof::kPublicKeyBytes> key{};
  const auto bytes = id.to_bytes();
  std::copy(bytes.begin(), bytes.end(), key.begin());
  const uint64_t a = TokenSource::siphash(m.k0, m.k1, id.hi() ^ id.lo());
  const uint64_t b = TokenSource::siphash(m.k1, m.k0, id.lo());
  for (size_t i = 0; i < 8; ++i) {
    key[16 + i] = static_cast<uint8_t>(a >> (8 * i));
    key[24 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  return key;
}

// A MAC under the simulation's secret of (key, statement), spread over 64 bytes.
std::array<uint8_t, overlay::IdProof::kSignatureBytes> mac(
    const std::array<uint8_t, overlay::IdProof::kPublicKeyBytes>& key,
    std::span<const uint8_t> statement, const ProofModel& m) {
  uint64_t h = 0x6d6f64656c6c6564ULL;
  auto absorb = [&](std::span<const uint8_t> bytes) {
    for (size_t i = 0; i < bytes.size(); i += 8) {
      uint64_t word = 0;
      for (size_t j = i; j < i + 8 && j < bytes.size(); ++j) word = word << 8 | bytes[j];
      h = TokenSource::siphash(m.k0 ^ h, m.k1, word ^ bytes.size());
    }
  };
  absorb(key);
  absorb(statement);
  std::array<uint8_t, overlay::IdProof::kSignatureBytes> sig{};
  for (size_t w = 0; w < sig.size() / 8; ++w) {
    const uint64_t v = TokenSource::siphash(m.k0, m.k1 ^ w, h);
    for (size_t b = 0; b < 8; ++b) sig[w * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
  }
  return sig;
}

}  // namespace

overlay::IdProof ModelledProofs::prove(std::span<const uint8_t> statement) {
  ++model_->signed_count;
  overlay::IdProof proof;
  proof.public_key = key_of(self_, *model_);
  proof.signature = mac(proof.public_key, statement, *model_);
  return proof;
}

bool ModelledProofs::verify(const overlay::NodeId& claimed, const overlay::IdProof& proof,
                            std::span<const uint8_t> statement) {
  ++model_->verified_count;
  return proof.public_key == key_of(claimed, *model_) &&
         proof.signature == mac(proof.public_key, statement, *model_);
}

}  // namespace forestcast::sim
