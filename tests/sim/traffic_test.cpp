// The simulator's per-node, per-application traffic counters and its datagram-size check.
#include "net/sim/traffic.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "net/sim/simulator.hpp"
#include "net/wire/codec.hpp"

namespace forestcast::sim {
namespace {

constexpr uint16_t kBlobAppId = 9;

// An application message of a chosen body size, as a stream packet would be.
class Blob final : public overlay::AppMessage {
 public:
  explicit Blob(size_t bytes) : bytes_(bytes) {}
  uint16_t app_id() const override { return kBlobAppId; }
  uint16_t type() const override { return 1; }
  void encode(std::string& out) const override { out.append(bytes_, 'b'); }
  size_t encoded_size() const override { return bytes_; }

 private:
  size_t bytes_;
};

class BlobApp final : public overlay::Application {
 public:
  void deliver(Time, const overlay::RouteInfo&, const overlay::AppMessagePtr&) override {
    ++routed;
  }
  void receive_direct(Time, const overlay::NodeHandle&, const overlay::AppMessagePtr&) override {
    ++direct;
  }
  overlay::AppMessagePtr decode(uint16_t, std::string_view) const override { return nullptr; }
  int routed = 0;
  int direct = 0;
};

overlay::NodeId id_for(uint32_t i) {
  Rng rng(977 + i);
  return overlay::NodeId::from_parts(rng.next(), rng.next());
}

struct Ring {
  explicit Ring(uint32_t n, bool check) : sim(config(check)) {
    for (uint32_t i = 0; i < n; ++i) {
      sim.add_node(id_for(i), 50 + i);
      apps.push_back(&sim.attach_app(i, kBlobAppId, std::make_unique<BlobApp>()));
    }
    sim.start_ring(0);
    for (uint32_t i = 1; i < n; ++i)
      sim.schedule(Time{ms(20) * i}, [this, i] { sim.join(i, {Simulator::endpoint_of(0)}); });
    sim.run_until(seconds(10));
  }
  static SimConfig config(bool check) {
    SimConfig c;
    c.check_wire_size = check;
    return c;
  }
  void send_direct(uint32_t from, uint32_t to, size_t bytes) {
    sim.with_node(from, [&](overlay::PastryNode& n) {
      n.send_direct(sim.now(), sim.handle(to), std::make_shared<Blob>(bytes));
    });
  }
  Simulator sim;
  std::vector<BlobApp*> apps;
};

TEST(Traffic, CountsMessagesAndBytesPerNodeAndApplication) {
  Ring ring(12, /*check=*/true);
  ASSERT_EQ(ring.sim.active_nodes().size(), 12u);
  const TrafficCount before0 = ring.sim.traffic(0).app(kBlobAppId);
  const TrafficCount before1 = ring.sim.traffic(1).app(kBlobAppId);
  for (int k = 0; k < 3; ++k) ring.send_direct(0, 1, 1000);
  ring.sim.run_until(ring.sim.now() + seconds(1));
  EXPECT_EQ(ring.apps[1]->direct, 3);

  // The exact datagram: the 1000-byte body plus the envelope and DirectMsg framing.
  const overlay::Message sample{overlay::DirectMsg{std::make_shared<Blob>(1000)}};
  const size_t datagram = wire::encode(ring.sim.handle(0).id, sample).size();
  EXPECT_GT(datagram, 1000u);
  const TrafficCount sent = ring.sim.traffic(0).app(kBlobAppId);
  const TrafficCount received = ring.sim.traffic(1).app(kBlobAppId);
  EXPECT_EQ(sent.sent_messages - before0.sent_messages, 3u);
  EXPECT_EQ(sent.sent_bytes - before0.sent_bytes, 3 * datagram);
  EXPECT_EQ(received.received_messages - before1.received_messages, 3u);
  EXPECT_EQ(received.received_bytes - before1.received_bytes, 3 * datagram);

  // Every datagram is counted once on each side, under Pastry or an application.
  TrafficCount all;
  for (uint32_t i = 0; i < ring.sim.node_count(); ++i) all += ring.sim.traffic(i).total();
  const SimCounters& c = ring.sim.counters();
  EXPECT_EQ(all.sent_messages, c.messages_sent);
  EXPECT_EQ(all.received_messages, c.messages_delivered);
  EXPECT_GT(all.sent_bytes, all.received_bytes - 1);
  EXPECT_GT(ring.sim.traffic(5).pastry.sent_bytes, 0u);
  EXPECT_EQ(ring.sim.traffic(5).app(kBlobAppId).sent_messages, 0u);
  EXPECT_EQ(c.messages_oversize, 0u);
}

TEST(Traffic, RoutedMessagesCountForTheirApplicationAtEveryHop) {
  Ring ring(30, /*check=*/true);
  for (uint32_t k = 0; k < 20; ++k)
    ring.sim.route(k % 30, id_for(1000 + k), std::make_shared<Blob>(100));
  ring.sim.run_until(ring.sim.now() + seconds(5));
  uint64_t delivered = 0, app_sent = 0, app_received = 0;
  for (uint32_t i = 0; i < 30; ++i) {
    delivered += static_cast<uint64_t>(ring.apps[i]->routed);
    app_sent += ring.sim.traffic(i).app(kBlobAppId).sent_messages;
    app_received += ring.sim.traffic(i).app(kBlobAppId).received_messages;
  }
  EXPECT_EQ(delivered, 20u);
  EXPECT_EQ(app_sent, app_received);  // no loss: every hop's send arrives
  EXPECT_GT(app_sent, 0u);
}

// The estimate that counts bytes when the codec is not run equals the codec's size, for every
// kind of message a ring exchanges while it forms and routes.
TEST(Traffic, EstimatedSizeEqualsTheEncodedSize) {
  Simulator sim(SimConfig{});
  size_t checked = 0, wrong = 0;
  std::set<size_t> kinds;
  sim.set_drop_filter([&](uint32_t from, uint32_t, const overlay::Message& msg) {
    const size_t exact = wire::encode(sim.handle(from).id, msg).size();
    const size_t estimate = estimated_wire_size(msg);
    ++checked;
    kinds.insert(msg.index());
    if (exact != estimate) {
      ++wrong;
      ADD_FAILURE() << "variant " << msg.index() << ": estimate " << estimate << ", encoded "
                    << exact;
    }
    return false;
  });
  for (uint32_t i = 0; i < 30; ++i) {
    sim.add_node(id_for(i), 50 + i);
    sim.attach_app(i, kBlobAppId, std::make_unique<BlobApp>());
  }
  sim.start_ring(0);
  for (uint32_t i = 1; i < 30; ++i)
    sim.schedule(Time{ms(20) * i}, [&sim, i] { sim.join(i, {Simulator::endpoint_of(0)}); });
  sim.run_until(seconds(20));
  for (uint32_t k = 0; k < 10; ++k) sim.route(k, id_for(500 + k), std::make_shared<Blob>(300));
  sim.with_node(3, [&](overlay::PastryNode& n) {
    n.send_direct(sim.now(), sim.handle(4), std::make_shared<Blob>(1200));
  });
  sim.kill(7);  // probes and repair traffic too
  sim.run_until(sim.now() + seconds(20));
  EXPECT_GT(checked, 1000u);
  EXPECT_GE(kinds.size(), 8u);
  EXPECT_EQ(wrong, 0u);
}

TEST(Traffic, OversizeMessageIsCaughtAndDroppedLikeUdpWould) {
  Ring ring(6, /*check=*/true);
  ring.send_direct(0, 1, overlay::kMaxDatagramBytes);  // the body alone fills the datagram
  ring.send_direct(0, 1, 1200);
  ring.sim.run_until(ring.sim.now() + seconds(1));
  EXPECT_EQ(ring.sim.counters().messages_oversize, 1u);
  EXPECT_EQ(ring.apps[1]->direct, 1);
  EXPECT_EQ(ring.sim.traffic(0).app(kBlobAppId).sent_messages, 1u);
}

TEST(Traffic, WithoutTheCheckAnOversizeMessageTravels) {
  Ring ring(6, /*check=*/false);
  ring.send_direct(0, 1, overlay::kMaxDatagramBytes);
  ring.sim.run_until(ring.sim.now() + seconds(1));
  EXPECT_EQ(ring.sim.counters().messages_oversize, 0u);
  EXPECT_EQ(ring.apps[1]->direct, 1);
}

}  // namespace
}  // namespace forestcast::sim
