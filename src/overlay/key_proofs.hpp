#pragma once
// Key-proven node ids (docs/security.md §3). A node proves that it holds the private key of its
// id by signing a statement the prober chose: its fresh random challenge, the prober's id, and
// the responder's own id and address. The Pong to a challenged Ping carries the public key and
// the signature. A proof is therefore useless for another challenge (no replay), another prober
// or another address, and it is only accepted while the probe that asked for it is pending.
//
// The core does not sign or verify itself (sans-IO, and the simulator may model the cost): the
// environment provides a KeyProofs (overlay/environment.hpp). The UDP runtime's is Ed25519 with
// OpenSSL (node/node_key.hpp); the simulator's is either the same or a modelled scheme
// (net/sim/modelled_proofs.hpp). No KeyProofs: proofs are off and a node is trusted once it
// answers a probe at its address (docs/security.md §2).
#include <array>
#include <cstdint>
#include <span>

#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

struct IdProof {
  static constexpr size_t kPublicKeyBytes = 32;
  static constexpr size_t kSignatureBytes = 64;
  std::array<uint8_t, kPublicKeyBytes> public_key{};
  std::array<uint8_t, kSignatureBytes> signature{};
  bool operator==(const IdProof&) const = default;
};

// What a proof signs: a domain tag, the challenge (the Ping's nonce and challenge: 128 random
// bits), the prober's id, the responder's id and the responder's endpoint (IPv6 or v4-mapped
// bytes, port big-endian).
inline constexpr size_t kProofStatementBytes = 16 + 8 + 8 + 16 + 16 + 16 + 2;
using ProofStatement = std::array<uint8_t, kProofStatementBytes>;
ProofStatement proof_statement(uint64_t nonce, uint64_t challenge, const NodeId& prober,
                               const NodeHandle& responder);

class KeyProofs {
 public:
  virtual ~KeyProofs() = default;
  // Signs `statement` with this node's private key.
  virtual IdProof prove(std::span<const uint8_t> statement) = 0;
  // True when `proof.public_key` is the key of `claimed` (nodeId = SHA-1(key)[0..16), DESIGN.md
  // §2, or the model's equivalent) and `proof.signature` is its signature of `statement`.
  virtual bool verify(const NodeId& claimed, const IdProof& proof,
                      std::span<const uint8_t> statement) = 0;
};

}  // namespace forestcast::overlay
