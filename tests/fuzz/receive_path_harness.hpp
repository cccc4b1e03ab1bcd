#pragma once
// A node's whole receive path without sockets, for the receive-path fuzz target and its seed
// corpus: datagram bytes -> wire::decode (as the UDP runtime does, with the runtime's own-id
// drop) -> PastryNode::on_message, with timers fired between inputs exactly as the runtime's
// steady_timer would fire them. The node starts active with a populated leaf set and routing
// table, built by the same protocol messages a real ring would send it.
//
// A fuzz input is a sequence of records, each
//   u8 control   bits 0-4: who sends it: < kKnownPeers is that known peer's address, anything
//                          else a stranger's (the sender id is whatever the envelope claims)
//                bit 5:    afterwards, answer every Ping the node sent (the "network" is alive)
//                bit 6:    afterwards, the node routes an application message toward
//                          SHA-1(datagram) (a local command, so acks and retries get exercised)
//                bit 7:    afterwards, the node leaves the ring gracefully
//   u8 advance   then move the clock by advance x 10 ms, firing every timer due on the way
//   u16 length   little endian, then that many datagram bytes (fewer if the input ends)
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "fuzz_app.hpp"
#include "net/sim/modelled_proofs.hpp"
#include "overlay/environment.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::fuzz {

inline constexpr size_t kKnownPeers = 24;
inline constexpr size_t kMaxRecords = 64;

struct Record {
  uint8_t sender = 0;
  bool answer_pings = false;
  bool route_local = false;
  bool leave = false;
  uint8_t advance_10ms = 0;
  std::string datagram;
};

std::vector<Record> parse_records(std::span<const uint8_t> input);
std::string serialize_records(const std::vector<Record>& records);

// The node under test and the peers it knows (same ids and addresses in every run, so a saved
// input replays exactly).
overlay::NodeHandle harness_self();
overlay::NodeHandle known_peer(size_t i);
overlay::Endpoint sender_endpoint(uint8_t sender);

// Sends go nowhere: each is encoded (the bytes a peer would get must decode again: the core
// never emits what the wire rejects), counted and discarded; Pings are remembered (bounded) so
// the harness can answer them. Id proofs are on (as in the daemon), with the simulator's
// modelled scheme: cheap, deterministic, and the harness can prove any peer's id.
class RecordingEnvironment : public overlay::Environment {
 public:
  static constexpr size_t kMaxRemembered = 256;
  struct SentPing {
    overlay::Endpoint to;
    uint64_t nonce;
    uint64_t challenge;
  };

  explicit RecordingEnvironment(const FuzzApp& app);
  void send(const overlay::Endpoint& to, const overlay::Message& msg) override;
  overlay::KeyProofs* key_proofs() override { return &proofs_; }
  // The proof `peer` would send for `ping`.
  std::shared_ptr<const overlay::IdProof> proof_of(const overlay::NodeHandle& peer,
                                                   const SentPing& ping);

  std::vector<SentPing> take_pings() { return std::move(pings_); }
  uint64_t sent() const { return sent_; }

 private:
  wire::AppDecoder apps_;
  std::shared_ptr<sim::ProofModel> model_ = std::make_shared<sim::ProofModel>();
  sim::ModelledProofs proofs_;
  std::vector<SentPing> pings_;
  uint64_t sent_ = 0;
};

class ReceivePathHarness {
 public:
  ReceivePathHarness();
  void feed(const Record& r);
  overlay::PastryNode& node() { return node_; }

 private:
  void receive(const overlay::Endpoint& from, const std::string& datagram);
  void deliver(const overlay::NodeHandle& from, const overlay::Message& msg);
  void answer_pings();
  void advance(Duration d);
  void remember(const overlay::NodeHandle& h);
  void remember_handles(const overlay::Message& msg);

  FuzzApp app_;
  RecordingEnvironment env_;
  overlay::PastryNode node_;
  Time now_ = seconds(1);
  // Who answers at which address: the known peers plus every handle a fed message named.
  std::unordered_map<overlay::Endpoint, overlay::NodeId> directory_;
};

}  // namespace forestcast::fuzz
