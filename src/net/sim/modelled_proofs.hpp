#pragma once
// A stand-in for Ed25519 id proofs in large simulations (docs/security.md §3). Ten thousand
// nodes make and check millions of proofs while the ring forms; real signatures would add
// minutes of CPU to a run whose subject is the protocol, not the curve. The model keeps what the
// protocol depends on: a proof is 32 + 64 bytes on the wire, only the node holding an id can
// make one for that id (the simulator holds the only secret, and each node's KeyProofs signs
// with its own id alone), and a proof is bound to its statement. It counts what it did, so a
// run can report the CPU real signatures would have cost (signs × the measured cost of one).
// SimConfig::key_proofs selects it, real Ed25519 (node/node_key.hpp), or none.
#include <cstdint>
#include <memory>

#include "overlay/key_proofs.hpp"

namespace forestcast::sim {

// Shared by every node of one simulation.
struct ProofModel {
  uint64_t k0 = 0x243f6a8885a308d3ULL;  // the simulation's secret, seeded per run
  uint64_t k1 = 0x13198a2e03707344ULL;
  uint64_t signed_count = 0;
  uint64_t verified_count = 0;
};

class ModelledProofs final : public overlay::KeyProofs {
 public:
  ModelledProofs(const overlay::NodeId& self, std::shared_ptr<ProofModel> model)
      : self_(self), model_(std::move(model)) {}
  overlay::IdProof prove(std::span<const uint8_t> statement) override;
  bool verify(const overlay::NodeId& claimed, const overlay::IdProof& proof,
              std::span<const uint8_t> statement) override;

 private:
  overlay::NodeId self_;
  std::shared_ptr<ProofModel> model_;
};

}  // namespace forestcast::sim
