// The UDP runtime on real loopback sockets: two nodes form a ring, application messages cross
// the wire through the codec, bad datagrams are counted, oversize sends are refused, and the
// admin views render from the live state.
#include "net/udp/udp_runtime.hpp"
#include "node/node_key.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <boost/asio/ip/udp.hpp>
#include <set>

#include "node/metrics.hpp"
#include "node/status.hpp"

namespace forestcast::net {
namespace {

namespace asio = boost::asio;
using overlay::Endpoint;
using overlay::NodeId;

constexpr uint16_t kApp = 3;

class Note : public overlay::AppMessage {
 public:
  explicit Note(std::string text) : text_(std::move(text)) {}
  uint16_t app_id() const override { return kApp; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out += text_; }
  std::string text_;
};

class NoteApp : public overlay::Application {
 public:
  void deliver(Time, const overlay::RouteInfo&, const overlay::AppMessagePtr& m) override {
    delivered.push_back(static_cast<const Note&>(*m).text_);
  }
  void receive_direct(Time, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& m) override {
    direct.emplace_back(from.id, static_cast<const Note&>(*m).text_);
  }
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override {
    if (type != 1) return nullptr;
    return std::make_shared<Note>(std::string(body));
  }
  std::vector<std::string> delivered;
  std::vector<std::pair<NodeId, std::string>> direct;
};

Endpoint loopback_any_port() { return Endpoint::ipv4(0x7f000001, 0); }

class UdpRuntimeTest : public ::testing::Test {
 protected:
  UdpRuntime& make(uint64_t id_lo, UdpRuntimeOptions options = {}) {
    options.seed = id_lo;
    runtimes_.push_back(
        std::make_unique<UdpRuntime>(io_, NodeId::from_parts(0x1234, id_lo), options));
    UdpRuntime& rt = *runtimes_.back();
    EXPECT_FALSE(rt.open(loopback_any_port()));
    EXPECT_NE(rt.local_endpoint().port, 0);
    return rt;
  }

  // A node whose id is its key's, proving it as the daemon does.
  UdpRuntime& make_keyed(node::NodeKey key) {
    UdpRuntimeOptions options;
    options.seed = key.node_id().lo();
    const overlay::NodeId id = key.node_id();
    options.key_proofs = std::make_shared<node::Ed25519Proofs>(std::move(key));
    runtimes_.push_back(std::make_unique<UdpRuntime>(io_, id, options));
    UdpRuntime& rt = *runtimes_.back();
    EXPECT_FALSE(rt.open(loopback_any_port()));
    return rt;
  }

  // Runs the io_context until `done` holds or `limit` passes.
  template <typename Pred>
  bool run_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      io_.run_for(std::chrono::milliseconds(10));
      io_.restart();
    }
    return true;
  }

  void form_ring(UdpRuntime& a, UdpRuntime& b) {
    a.start_ring();
    b.join({a.local_endpoint()});
    ASSERT_TRUE(run_until([&] {
      return a.node().active() && b.node().active() && a.node().leaf_set().contains(b.id()) &&
             b.node().leaf_set().contains(a.id());
    })) << "a "
        << node::to_string(a.node().join_state()) << " b "
        << node::to_string(b.node().join_state());
  }

  // Two nodes in one ring, each with a NoteApp registered (app_a_, app_b_).
  std::pair<UdpRuntime&, UdpRuntime&> ring_of_two_with_apps() {
    UdpRuntime& a = make(1);
    UdpRuntime& b = make(2);
    a.node().register_app(kApp, &app_a_);
    b.node().register_app(kApp, &app_b_);
    form_ring(a, b);
    return {a, b};
  }

  asio::io_context io_;
  NoteApp app_a_, app_b_, app_c_;  // declared before the runtimes so they outlive them
  std::vector<std::unique_ptr<UdpRuntime>> runtimes_;
};

TEST_F(UdpRuntimeTest, BusyPortIsAnError) {
  UdpRuntime& a = make(1);
  UdpRuntime b(io_, NodeId::from_parts(0x1234, 2), {});
  EXPECT_TRUE(b.open(a.local_endpoint()));
  EXPECT_FALSE(b.is_open());
}

TEST_F(UdpRuntimeTest, TwoNodesFormARing) {
  UdpRuntime& a = make(1);
  UdpRuntime& b = make(2);
  std::vector<overlay::JoinState> b_states;
  b.set_state_observer([&](overlay::JoinState s) { b_states.push_back(s); });
  form_ring(a, b);
  EXPECT_EQ(b_states.front(), overlay::JoinState::kJoining);
  EXPECT_EQ(b_states.back(), overlay::JoinState::kActive);
  EXPECT_GT(a.counters().datagrams_in, 0u);
  EXPECT_GT(b.counters().datagrams_out, 0u);
  EXPECT_EQ(a.counters().dropped_malformed() + b.counters().dropped_malformed(), 0u);
  EXPECT_EQ(a.counters().send_errors + b.counters().send_errors, 0u);
}

// Key-proven ids over real sockets (docs/security.md §3), as the daemon runs them.
TEST_F(UdpRuntimeTest, NodesProveTheirKeysToEachOther) {
  UdpRuntime& a = make_keyed(node::NodeKey::generate());
  UdpRuntime& b = make_keyed(node::NodeKey::generate());
  form_ring(a, b);
  EXPECT_GE(a.node().counters().proofs_verified, 1u);
  EXPECT_GE(b.node().counters().proofs_verified, 1u);
  EXPECT_EQ(a.node().counters().proofs_rejected + b.node().counters().proofs_rejected, 0u);
}

TEST_F(UdpRuntimeTest, AnIdWithoutItsKeyIsNotTakenIn) {
  UdpRuntime& a = make_keyed(node::NodeKey::generate());
  // b claims an id whose key it does not hold: it signs with another key.
  UdpRuntimeOptions options;
  options.seed = 2;
  options.key_proofs = std::make_shared<node::Ed25519Proofs>(node::NodeKey::generate());
  runtimes_.push_back(std::make_unique<UdpRuntime>(io_, node::NodeKey::generate().node_id(),
                                                   options));
  UdpRuntime& b = *runtimes_.back();
  ASSERT_FALSE(b.open(loopback_any_port()));
  a.start_ring();
  b.join({a.local_endpoint()});
  run_until([] { return false; }, std::chrono::milliseconds(1500));
  EXPECT_FALSE(a.node().leaf_set().contains(b.id()));
  EXPECT_GE(a.node().counters().proofs_rejected, 1u);
}

// The test-only drop rule (a partition in the integration tests) drops, counts and heals.
TEST_F(UdpRuntimeTest, TheTestDropRuleCutsAndHeals) {
  const std::string file = ::testing::TempDir() + "/udp_runtime_test_drop";
  std::remove(file.c_str());
  UdpRuntimeOptions options;
  options.test_drop_file = file;
  UdpRuntime& a = make(1);
  UdpRuntime& b = make(2, options);
  form_ring(a, b);
  const auto write = [&](const std::string& text) {
    std::ofstream(file + ".tmp") << text;
    std::rename((file + ".tmp").c_str(), file.c_str());
  };
  write(a.local_endpoint().to_string() + "\n");
  ASSERT_TRUE(run_until([&] { return b.counters().dropped_test_partition >= 2; }));
  write("");
  run_until([] { return false; }, std::chrono::milliseconds(300));  // the rule is re-read
  const uint64_t dropped = b.counters().dropped_test_partition;
  const uint64_t accepted = b.counters().datagrams_accepted;
  run_until([&] { return b.counters().datagrams_accepted > accepted + 1; });
  EXPECT_EQ(b.counters().dropped_test_partition, dropped);
  EXPECT_GT(b.counters().datagrams_accepted, accepted);
  EXPECT_EQ(b.counters().datagrams_in,
            b.counters().datagrams_accepted + b.counters().dropped_total());
  std::remove(file.c_str());
}

TEST_F(UdpRuntimeTest, AppMessagesCrossTheWire) {
  auto [a, b] = ring_of_two_with_apps();

  a.with_node([&](overlay::PastryNode& n, Time now) {
    n.send_direct(now, b.node().self(), std::make_shared<Note>("direct hello"));
    n.route(now, b.id(), std::make_shared<Note>("routed to b"));
  });
  ASSERT_TRUE(run_until([&] { return !app_b_.direct.empty() && !app_b_.delivered.empty(); }));
  EXPECT_EQ(app_b_.direct[0].first, a.id());
  EXPECT_EQ(app_b_.direct[0].second, "direct hello");
  EXPECT_EQ(app_b_.delivered[0], "routed to b");
}

// The forwarding path's batching (docs/media.md "Forwarding cost"): what one call sends leaves
// in one sendmmsg when it returns, in order, and a message sent to several peers in a row is
// encoded once.
TEST_F(UdpRuntimeTest, SendsOfOneCallLeaveTogetherInOrderEncodedOnce) {
  auto [a, b] = ring_of_two_with_apps();
  UdpRuntime& c = make(3);
  c.node().register_app(kApp, &app_c_);
  c.join({a.local_endpoint()});
  ASSERT_TRUE(run_until([&] {
    return c.node().active() && a.node().leaf_set().contains(c.id()) &&
           b.node().leaf_set().contains(c.id());
  }));
  const WireCounters before = a.counters();
  constexpr int kNotes = 100;
  a.with_node([&](overlay::PastryNode& n, Time now) {
    for (int i = 0; i < kNotes; ++i) {
      auto note = std::make_shared<Note>("note " + std::to_string(i));
      n.send_direct(now, b.node().self(), note);  // the same message to two peers
      n.send_direct(now, c.node().self(), note);
    }
    EXPECT_EQ(a.counters().datagrams_out, before.datagrams_out);  // queued, not sent yet
  });
  EXPECT_EQ(a.counters().datagrams_out - before.datagrams_out, 2u * kNotes);
  EXPECT_EQ(a.counters().send_encodings - before.send_encodings, uint64_t{kNotes});
  EXPECT_EQ(a.counters().send_batches - before.send_batches, 1u);
  EXPECT_EQ(a.counters().send_errors, before.send_errors);
  ASSERT_TRUE(run_until([&] {
    return app_b_.direct.size() == kNotes && app_c_.direct.size() == kNotes;
  }));
  for (int i = 0; i < kNotes; ++i) {
    EXPECT_EQ(app_b_.direct[size_t(i)].second, "note " + std::to_string(i));
    EXPECT_EQ(app_c_.direct[size_t(i)].second, "note " + std::to_string(i));
  }
}

TEST_F(UdpRuntimeTest, AFullBatchIsSentAndTheRestFollows) {
  auto [a, b] = ring_of_two_with_apps();
  const WireCounters before = a.counters();
  const size_t notes = SendBatch::kMaxDatagrams + 44;
  a.with_node([&](overlay::PastryNode& n, Time now) {
    for (size_t i = 0; i < notes; ++i)
      n.send_direct(now, b.node().self(), std::make_shared<Note>(std::to_string(i)));
  });
  EXPECT_EQ(a.counters().send_batches - before.send_batches, 2u);
  EXPECT_EQ(a.counters().datagrams_out - before.datagrams_out, notes);
  ASSERT_TRUE(run_until([&] { return app_b_.direct.size() == notes; }));
  for (size_t i = 0; i < notes; ++i) EXPECT_EQ(app_b_.direct[i].second, std::to_string(i));
}

// A caller that reaches the node without with_node() (no handler of ours around it): its send
// goes out at once instead of waiting in the queue for the next event.
TEST_F(UdpRuntimeTest, ASendOutsideAnyHandlerLeavesAtOnce) {
  auto [a, b] = ring_of_two_with_apps();
  const uint64_t out = a.counters().datagrams_out;
  a.node().send_direct(a.now(), b.node().self(), std::make_shared<Note>("now"));
  EXPECT_EQ(a.counters().datagrams_out, out + 1);
  ASSERT_TRUE(run_until([&] { return !app_b_.direct.empty(); }));
  EXPECT_EQ(app_b_.direct[0].second, "now");
}

TEST_F(UdpRuntimeTest, OversizeSendIsDroppedAndCounted) {
  auto [a, b] = ring_of_two_with_apps();
  a.with_node([&](overlay::PastryNode& n, Time now) {
    n.send_direct(now, b.node().self(), std::make_shared<Note>(std::string(2000, 'x')));
  });
  EXPECT_EQ(a.counters().send_oversize, 1u);
  // Encoded once, refused for every peer it was meant for; nothing of it is queued.
  const uint64_t out = a.counters().datagrams_out;
  a.with_node([&](overlay::PastryNode& n, Time now) {
    auto big = std::make_shared<Note>(std::string(2000, 'y'));
    n.send_direct(now, b.node().self(), big);
    n.send_direct(now, b.node().self(), big);
    n.send_direct(now, b.node().self(), std::make_shared<Note>("small"));
  });
  EXPECT_EQ(a.counters().send_oversize, 3u);
  EXPECT_EQ(a.counters().datagrams_out, out + 1);
  ASSERT_TRUE(run_until([&] { return !app_b_.direct.empty(); }));
  EXPECT_EQ(app_b_.direct.back().second, "small");
}

TEST_F(UdpRuntimeTest, BadDatagramsAreCountedNotDelivered) {
  UdpRuntime& a = make(1);
  a.start_ring();
  asio::ip::udp::socket raw(io_, asio::ip::udp::v4());
  const auto to = to_asio(a.local_endpoint());
  using namespace std::string_literals;  // the envelope bytes contain a NUL
  const std::string wrong_version = "\x08\x02\x12\x10"s + std::string(16, 'a') + "\x82\x01\x00"s;
  raw.send_to(asio::buffer(wrong_version), to);
  raw.send_to(asio::buffer(std::string(3000, '\x08')), to);
  raw.send_to(asio::buffer(std::string("\xff\xff\xff")), to);
  // Claims to come from `a` itself.
  raw.send_to(asio::buffer(wire::encode(a.id(), overlay::LeafHeartbeat{})), to);
  ASSERT_TRUE(run_until([&] { return a.counters().datagrams_in == 4; }));
  const auto& c = a.counters();
  EXPECT_EQ(c.dropped_decode[size_t(wire::DecodeError::kBadVersion)], 1u);
  EXPECT_EQ(c.dropped_decode[size_t(wire::DecodeError::kOversize)], 1u);
  EXPECT_EQ(c.dropped_decode[size_t(wire::DecodeError::kMalformed)], 1u);
  EXPECT_EQ(c.dropped_own_id, 1u);
  EXPECT_EQ(c.datagrams_in, c.datagrams_accepted + c.dropped_total());
  EXPECT_EQ(a.node().counters().messages_in, 0u);
  EXPECT_TRUE(a.node().active());
}

TEST_F(UdpRuntimeTest, LimitsDropAndCountEveryDatagram) {
  UdpRuntimeOptions options;
  options.peer_rate_per_second = 1;  // whole tokens refill only after the test is over
  options.peer_burst = 3;
  options.global_rate_per_second = 1;
  options.global_burst = 5;
  UdpRuntime& a = make(1, options);
  a.start_ring();
  const auto to = to_asio(a.local_endpoint());
  const std::string heartbeat = wire::encode(NodeId::from_parts(7, 7), overlay::LeafHeartbeat{});
  // One source sends 10: its own bucket passes 3.
  asio::ip::udp::socket flooder(io_, asio::ip::udp::v4());
  for (int i = 0; i < 10; ++i) flooder.send_to(asio::buffer(heartbeat), to);
  ASSERT_TRUE(run_until([&] { return a.counters().datagrams_in == 10; }));
  EXPECT_EQ(a.counters().dropped_rate_limited, 7u);
  EXPECT_EQ(a.counters().datagrams_accepted, 3u);
  // Three more sources send 2 each: the node-wide bucket has 2 of its 5 tokens left.
  std::vector<std::unique_ptr<asio::ip::udp::socket>> others;
  for (int s = 0; s < 3; ++s) {
    others.push_back(std::make_unique<asio::ip::udp::socket>(io_, asio::ip::udp::v4()));
    for (int i = 0; i < 2; ++i) others.back()->send_to(asio::buffer(heartbeat), to);
  }
  ASSERT_TRUE(run_until([&] { return a.counters().datagrams_in == 16; }));
  const WireCounters& c = a.counters();
  EXPECT_EQ(c.datagrams_accepted, 5u);
  EXPECT_EQ(c.dropped_global_limit, 4u);
  EXPECT_EQ(c.datagrams_in, c.datagrams_accepted + c.dropped_total());
  EXPECT_EQ(node::status_json(a)["counters"]["dropped_global_limit"], 4u);
  EXPECT_NE(node::metrics_text(a).find("forestcast_dropped_global_limit_total 4\n"),
            std::string::npos);
}

TEST_F(UdpRuntimeTest, StatusAndMetricsRender) {
  UdpRuntime& a = make(1);
  UdpRuntime& b = make(2);
  form_ring(a, b);
  const auto st = node::status_json(a);
  EXPECT_EQ(st["node_id"], a.id().hex());
  EXPECT_EQ(st["state"], "active");
  EXPECT_EQ(st["bind"], a.local_endpoint().to_string());
  ASSERT_EQ(st["leaf_set"].size(), 1u);
  EXPECT_EQ(st["leaf_set"][0]["node_id"], b.id().hex());
  EXPECT_EQ(st["leaf_set"][0]["addr"], b.local_endpoint().to_string());
  EXPECT_TRUE(st["counters"].contains("dropped_unparsable"));

  // Every metric name appears once (a duplicate would silently shadow a counter in JSON).
  const std::string text = node::metrics_text(a);
  std::set<std::string> names;
  size_t samples = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    ++samples;
    names.insert(line.substr(0, line.find_first_of(" {")));
  }
  EXPECT_EQ(names.size(), samples);
  EXPECT_EQ(st["counters"].size() + 7, samples);  // counters + gauges + info
}

}  // namespace
}  // namespace forestcast::net
