// Key-proven node ids (docs/security.md §3), with real Ed25519 keys: a node enters our state,
// and its messages are used, only once it signed our fresh challenge with the key of its id at
// the address we know it by. Each test fails against the overlay without proofs (where a Pong
// with the right nonce from the right address was enough).
#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "lone_node.hpp"
#include "node/node_key.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::overlay {
namespace {

using node::Ed25519Proofs;
using node::NodeKey;

class ProvingEnv : public RecordingEnv {
 public:
  explicit ProvingEnv(NodeKey key) : proofs_(std::move(key)) {}
  KeyProofs* key_proofs() override { return &proofs_; }

 private:
  Ed25519Proofs proofs_;
};

struct Note final : AppMessage {
  uint16_t app_id() const override { return 1; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out += "n"; }
};

struct Recorder : Application {
  int delivered = 0;
  int direct = 0;
  void deliver(Time, const RouteInfo&, const AppMessagePtr&) override { ++delivered; }
  void receive_direct(Time, const NodeHandle&, const AppMessagePtr&) override { ++direct; }
  AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }
};

// Another node: its key, and where it is.
struct Peer {
  explicit Peer(uint32_t address) : key(NodeKey::generate()), at{key.node_id(), addr(address)} {}
  static Endpoint addr(uint32_t n) { return Endpoint::ipv4(0x0a000000 + n, 4000); }
  NodeKey key;
  NodeHandle at;
};

// A proof by `key` for the challenge of `ping`, made for `prober`, claiming to be `claimed`.
std::shared_ptr<const IdProof> proof_for(const NodeKey& key, const Ping& ping, const NodeId& prober,
                                         const NodeHandle& claimed) {
  Ed25519Proofs signer(key);
  return std::make_shared<IdProof>(
      signer.prove(proof_statement(ping.nonce, ping.challenge, prober, claimed)));
}

struct ProvingNode {
  ProvingNode() : self_key(NodeKey::generate()), env(self_key), node(self(), config(), env, 7) {
    node.register_app(1, &app);
    node.start_ring(Time{0});
  }
  static PastryConfig config() { return PastryConfig{}; }
  NodeHandle self() const { return NodeHandle{self_key.node_id(), Peer::addr(1)}; }

  // The Pings sent to `to` since `mark`.
  std::vector<Ping> pings_to(const Endpoint& to, size_t mark = 0) const {
    std::vector<Ping> out;
    for (size_t i = mark; i < env.sent.size(); ++i)
      if (const auto* p = std::get_if<Ping>(&env.sent[i].second); p && env.sent[i].first == to)
        out.push_back(*p);
    return out;
  }
  // Every Ping to `peer` since `mark` answered with a good proof.
  void prove(const Peer& peer, Time now, size_t mark = 0) {
    for (const Ping& ping : pings_to(peer.at.endpoint, mark))
      node.on_message(now, peer.at,
                      Pong{ping.nonce, proof_for(peer.key, ping, self().id, peer.at)});
  }
  void introduce(const Peer& peer, Time now = Time{0}) {
    const size_t mark = env.sent.size();
    node.on_message(now, peer.at, Announce{});
    prove(peer, now, mark);
  }

  template <typename M>
  int count_sent(std::optional<Endpoint> to = std::nullopt) const {
    int n = 0;
    for (const auto& [e, m] : env.sent) n += ((!to || e == *to) && std::holds_alternative<M>(m));
    return n;
  }

  NodeKey self_key;
  ProvingEnv env;
  Recorder app;
  PastryNode node;
};

TEST(IdProof, AProvenPeerEntersTheLeafSet) {
  ProvingNode n;
  Peer p(2);
  n.introduce(p);
  EXPECT_TRUE(n.node.leaf_set().contains(p.at.id));
  EXPECT_EQ(n.node.counters().proofs_verified, 1u);
  ASSERT_EQ(n.pings_to(p.at.endpoint).size(), 1u);
  EXPECT_NE(n.pings_to(p.at.endpoint)[0].challenge, 0u);
}

TEST(IdProof, AnsweringTheNonceWithoutAProofIsNotEnough) {
  ProvingNode n;
  Peer p(2);
  n.node.on_message(Time{0}, p.at, Announce{});
  const auto pings = n.pings_to(p.at.endpoint);
  ASSERT_EQ(pings.size(), 1u);
  n.node.on_message(ms(1), p.at, Pong{pings[0].nonce, nullptr});
  EXPECT_FALSE(n.node.leaf_set().contains(p.at.id));
  EXPECT_EQ(n.node.counters().proofs_rejected, 1u);
  EXPECT_EQ(n.count_sent<StateTransfer>(), 0);  // nothing owed was released either
}

TEST(IdProof, AForgedProofIsRejected) {
  ProvingNode n;
  Peer victim(2);
  n.node.on_message(Time{0}, victim.at, Announce{});
  const Ping ping = n.pings_to(victim.at.endpoint).at(0);
  // The victim's public key with a made-up signature ...
  auto forged = std::make_shared<IdProof>(*proof_for(victim.key, ping, n.self().id, victim.at));
  forged->signature[5] ^= 0x40;
  n.node.on_message(ms(1), victim.at, Pong{ping.nonce, forged});
  // ... and a good signature by another key, whose hash is not the claimed id.
  const NodeKey attacker = NodeKey::generate();
  n.node.on_message(ms(1), victim.at,
                    Pong{ping.nonce, proof_for(attacker, ping, n.self().id, victim.at)});
  EXPECT_FALSE(n.node.leaf_set().contains(victim.at.id));
  EXPECT_EQ(n.node.counters().proofs_rejected, 2u);
  // The probe is still pending: a forged answer does not cancel the real one.
  n.prove(victim, ms(2));
  EXPECT_TRUE(n.node.leaf_set().contains(victim.at.id));
}

TEST(IdProof, AReplayedProofIsRejected) {
  ProvingNode n;
  Peer p(2);
  n.node.on_message(Time{0}, p.at, Announce{});
  const Ping first = n.pings_to(p.at.endpoint).at(0);
  const auto old_proof = proof_for(p.key, first, n.self().id, p.at);
  // The first Ping goes unanswered; the retry has a new nonce and challenge.
  for (Time t = ms(10); t < seconds(3) && n.pings_to(p.at.endpoint).size() < 2; t += ms(10))
    n.node.on_timer(t);
  const auto pings = n.pings_to(p.at.endpoint);
  ASSERT_EQ(pings.size(), 2u);
  const Ping retry = pings[1];
  ASSERT_NE(retry.challenge, first.challenge);
  // Someone who saw the first exchange answers the retry with the old proof.
  n.node.on_message(seconds(3), p.at, Pong{retry.nonce, old_proof});
  EXPECT_FALSE(n.node.leaf_set().contains(p.at.id));
  EXPECT_EQ(n.node.counters().proofs_rejected, 1u);
}

TEST(IdProof, AProofMadeForAnotherAddressIsRejected) {
  ProvingNode n;
  Peer real(2);
  // An impostor at address 9 claims the id of `real`, and has it sign our challenge (a relay):
  // `real` signs for the address it is at.
  const NodeHandle impostor{real.at.id, Peer::addr(9)};
  n.node.on_message(Time{0}, impostor, Announce{});
  const Ping ping = n.pings_to(impostor.endpoint).at(0);
  n.node.on_message(ms(1), impostor,
                    Pong{ping.nonce, proof_for(real.key, ping, n.self().id, real.at)});
  EXPECT_FALSE(n.node.leaf_set().contains(real.at.id));
  EXPECT_EQ(n.node.counters().proofs_rejected, 1u);
  // A proof for another prober is no better.
  const NodeId other_prober = NodeKey::generate().node_id();
  n.node.on_message(ms(1), impostor,
                    Pong{ping.nonce, proof_for(real.key, ping, other_prober, impostor)});
  EXPECT_FALSE(n.node.leaf_set().contains(real.at.id));
  EXPECT_EQ(n.node.counters().proofs_rejected, 2u);
}

StateTransfer leaf_set_naming(const NodeHandle& h) {
  StateTransfer st;
  st.kind = StateKind::kLeafSet;
  st.nodes = {h};
  return st;
}

TEST(IdProof, AnExpiredProofIsChallengedAgainBeforeItsStateIsUsed) {
  ProvingNode n;
  Peer p(2);
  Peer q(3);
  n.introduce(p);
  ASSERT_TRUE(n.node.leaf_set().contains(p.at.id));
  const Time later = n.node.config().proof_lifetime + seconds(1);
  const size_t mark = n.env.sent.size();
  n.node.on_message(later, p.at, leaf_set_naming(q.at));
  EXPECT_TRUE(n.pings_to(q.at.endpoint, mark).empty());  // its hearsay waits for a new proof
  const auto pings = n.pings_to(p.at.endpoint, mark);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_NE(pings[0].challenge, 0u);
  n.prove(p, later, mark);
  EXPECT_EQ(n.pings_to(q.at.endpoint, mark).size(), 1u);  // released by the proof
}

TEST(IdProof, APeerIsChallengedAgainBeforeItsProofLapses) {
  ProvingNode n;
  Peer p(2);
  n.introduce(p);
  const size_t mark = n.env.sent.size();
  n.node.on_message(seconds(10), p.at, LeafHeartbeat{});
  EXPECT_TRUE(n.pings_to(p.at.endpoint, mark).empty());  // fresh: nothing to do
  const Time past_half = n.node.config().proof_lifetime / 2 + seconds(1);
  n.node.on_message(past_half, p.at, LeafHeartbeat{});
  const auto pings = n.pings_to(p.at.endpoint, mark);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_NE(pings[0].challenge, 0u);
}

TEST(IdProof, AHandleLearnedSecondHandIsNotUsedBeforeItIsProven) {
  ProvingNode n;
  Peer p(2);
  Peer q(3);
  n.introduce(p);
  const size_t mark = n.env.sent.size();
  n.node.on_message(ms(1), p.at, leaf_set_naming(q.at));
  const auto pings = n.pings_to(q.at.endpoint, mark);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_FALSE(n.node.leaf_set().contains(q.at.id));
  EXPECT_NE(n.node.next_hop(q.at.id), std::optional<NodeHandle>(q.at));
  // Whoever is at q's address answers without q's key: still not used.
  n.node.on_message(ms(2), q.at, Pong{pings[0].nonce, nullptr});
  EXPECT_FALSE(n.node.leaf_set().contains(q.at.id));
  EXPECT_NE(n.node.next_hop(q.at.id), std::optional<NodeHandle>(q.at));
  n.prove(q, ms(3), mark);
  EXPECT_TRUE(n.node.leaf_set().contains(q.at.id));
  EXPECT_EQ(n.node.next_hop(q.at.id), std::optional<NodeHandle>(q.at));
}

TEST(IdProof, HearsayOfAKnownIdAtAnotherAddressIsIgnored) {
  ProvingNode n;
  Peer p(2);
  Peer q(3);
  n.introduce(p);
  n.introduce(q);
  const size_t mark = n.env.sent.size();
  const NodeHandle elsewhere{q.at.id, Peer::addr(9)};
  n.node.on_message(ms(1), p.at, leaf_set_naming(elsewhere));
  EXPECT_TRUE(n.pings_to(elsewhere.endpoint, mark).empty());
  EXPECT_EQ(n.node.next_hop(q.at.id), std::optional<NodeHandle>(q.at));
}

RouteMsg routed_to(const NodeId& key, const NodeHandle& origin) {
  RouteMsg m;
  m.hop_id = 11;
  m.msg_id = 12;
  m.key = key;
  m.origin = origin;
  m.hops = 1;
  m.app = std::make_shared<Note>();
  return m;
}

TEST(IdProof, MessagesFromAnUnprovenIdWaitForItsProof) {
  ProvingNode n;
  Peer s(2);
  // A routed message for our own id (we are its root) and a direct message, from a stranger.
  n.node.on_message(Time{0}, s.at, routed_to(n.self().id, s.at));
  DirectMsg direct;
  direct.app = std::make_shared<Note>();
  n.node.on_message(Time{0}, s.at, direct);
  n.node.on_message(Time{0}, s.at, LeafHeartbeat{});
  EXPECT_EQ(n.app.delivered, 0);
  EXPECT_EQ(n.app.direct, 0);
  EXPECT_EQ(n.node.counters().unproven_held, 2u);
  EXPECT_EQ(n.node.counters().unproven_dropped, 1u);    // the heartbeat
  EXPECT_EQ(n.count_sent<RouteAck>(s.at.endpoint), 1);  // held, so not retried elsewhere
  n.prove(s, ms(5));
  EXPECT_EQ(n.app.delivered, 1);
  EXPECT_EQ(n.app.direct, 1);
}

TEST(IdProof, MessagesFromAnImpostorAreNeverUsed) {
  ProvingNode n;
  Peer real(2);
  const NodeHandle impostor{real.at.id, Peer::addr(9)};
  n.node.on_message(Time{0}, impostor, routed_to(n.self().id, impostor));
  const Ping ping = n.pings_to(impostor.endpoint).at(0);
  n.node.on_message(ms(1), impostor, Pong{ping.nonce, nullptr});
  for (Time t = ms(10); t < seconds(10); t += ms(50)) n.node.on_timer(t);
  EXPECT_EQ(n.app.delivered, 0);
  EXPECT_FALSE(n.node.leaf_set().contains(real.at.id));
}

TEST(IdProof, ChallengesAreAnsweredWithAProofForTheProberAndAreRateLimited) {
  ProvingNode n;
  Peer prober(2);
  const Ping ping{0x1234, false, 0x5678};
  n.node.on_message(Time{0}, prober.at, ping);
  auto last_pong = [&]() -> const Pong* {
    const Pong* found = nullptr;
    for (const auto& [e, m] : n.env.sent)
      if (const auto* p = std::get_if<Pong>(&m); p && e == prober.at.endpoint) found = p;
    return found;
  };
  const Pong* pong = last_pong();
  ASSERT_NE(pong, nullptr);
  ASSERT_TRUE(pong->proof);
  Ed25519Proofs checker(prober.key);
  EXPECT_TRUE(checker.verify(n.self().id, *pong->proof,
                             proof_statement(ping.nonce, ping.challenge, prober.at.id, n.self())));
  // A Ping without a challenge costs no signature.
  n.node.on_message(Time{0}, prober.at, Ping{1, false, 0});
  ASSERT_NE(last_pong(), nullptr);
  EXPECT_FALSE(last_pong()->proof);
  // A flood of challenges gets the burst (the one used at 0 came back 1 ms later at 1,000/s),
  // then nothing.
  const uint64_t burst = n.node.config().proof_burst;
  for (uint64_t i = 0; i < burst + 100; ++i)
    n.node.on_message(ms(1), prober.at, Ping{i + 2, false, i + 1});
  EXPECT_EQ(n.node.counters().proofs_made, burst + 1);
  EXPECT_EQ(n.node.counters().proofs_refused, 100u);
}

}  // namespace
}  // namespace forestcast::overlay
