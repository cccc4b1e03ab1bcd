// StreamDirectory driven directly with fake time through a fake overlay that records what the
// application asks of it.
#include "directory/stream_directory.hpp"

#include <gtest/gtest.h>

#include "node/node_key.hpp"

namespace forestcast::directory {
namespace {

using overlay::AppMessagePtr;
using overlay::NodeHandle;
using overlay::NodeId;

NodeHandle handle(uint64_t n) {
  return {NodeId::from_parts(n << 56, n), overlay::Endpoint::ipv4(0x0a000000 + n, 4000)};
}

class FakeOverlay final : public overlay::Overlay {
 public:
  explicit FakeOverlay(NodeHandle self) : self_(self) {}
  const NodeHandle& self() const override { return self_; }
  bool active() const override { return active_; }
  void route(Time, const NodeId& key, AppMessagePtr msg) override {
    routed.emplace_back(key, std::move(msg));
  }
  void send_direct(Time, const NodeHandle& to, AppMessagePtr msg) override {
    direct.emplace_back(to, std::move(msg));
  }
  TimerId schedule_app_timer(uint16_t, Time at, uint64_t token) override {
    timers.push_back({at, token, ++last_timer});
    return last_timer;
  }
  void cancel_app_timer(uint16_t, TimerId id) override { cancelled.push_back(id); }
  std::vector<NodeHandle> replica_set(const NodeId&, size_t k) const override {
    std::vector<NodeHandle> out{self_};
    for (const auto& h : replicas)
      if (out.size() < k) out.push_back(h);
    return out;
  }
  std::optional<NodeHandle> next_hop(const NodeId&) const override { return std::nullopt; }
  void check_alive(Time, const NodeHandle&) override {}
  uint64_t random() override { return ++random_; }

  struct Timer {
    Time at;
    uint64_t token;
    TimerId id;
  };
  bool active_ = true;
  std::vector<NodeHandle> replicas;
  std::vector<std::pair<NodeId, AppMessagePtr>> routed;
  std::vector<std::pair<NodeHandle, AppMessagePtr>> direct;
  std::vector<Timer> timers;
  std::vector<TimerId> cancelled;
  TimerId last_timer = 0;

 private:
  NodeHandle self_;
  uint64_t random_ = 0;
};

NameRecord signed_record(const node::NodeKey& key, uint64_t version, std::string name = "news") {
  NameRecord r;
  r.name = std::move(name);
  r.publisher_key = key.public_key();
  r.stripes = 16;
  r.ttl_ms = 30'000;
  r.version = version;
  r.signature = key.sign(r.signed_bytes());
  return r;
}

AppMessagePtr store_msg(const NameRecord& r) { return std::make_shared<StoreMessage>(r, false); }

overlay::RouteInfo info_from(const NodeHandle& origin, const NodeId& key) {
  return {key, origin, origin, 2};
}

TEST(StreamDirectory, RootStoresVerifiedRecordsAndReplicatesThem) {
  FakeOverlay ov(handle(1));
  ov.replicas = {handle(2), handle(3)};
  StreamDirectory dir(ov, DirectoryConfig{.replicas = 3});
  const auto key = node::NodeKey::generate();
  const NameRecord r = signed_record(key, 1);
  dir.deliver(Time{0}, info_from(handle(9), r.key()), store_msg(r));
  EXPECT_EQ(dir.counters().stores_accepted, 1u);
  ASSERT_EQ(ov.direct.size(), 2u);  // to both replicas, never to itself
  EXPECT_EQ(ov.direct[0].first, handle(2));
  EXPECT_EQ(ov.direct[0].second->type(), static_cast<uint16_t>(DirectoryMsgType::kStoreReplica));

  NameRecord forged = r;
  forged.sdp = "m=video evil";
  dir.deliver(Time{0}, info_from(handle(9), r.key()), store_msg(forged));
  EXPECT_EQ(dir.counters().rejected_invalid, 1u);
  EXPECT_EQ(ov.direct.size(), 2u);  // nothing replicated
  ASSERT_EQ(dir.known().size(), 1u);
  EXPECT_EQ(dir.known()[0].sdp, r.sdp);
}

TEST(StreamDirectory, OlderVersionsAreStaleAndNamesAreBounded) {
  FakeOverlay ov(handle(1));
  StreamDirectory dir(ov, DirectoryConfig{.max_per_name = 2});
  const auto key = node::NodeKey::generate();
  auto replica = [](const NameRecord& r) { return std::make_shared<StoreMessage>(r, true); };
  dir.receive_direct(Time{0}, handle(2), replica(signed_record(key, 5)));
  dir.receive_direct(Time{0}, handle(2), replica(signed_record(key, 4)));
  EXPECT_EQ(dir.counters().rejected_stale, 1u);
  dir.receive_direct(Time{0}, handle(2), store_msg(signed_record(key, 6)));
  EXPECT_EQ(dir.counters().malformed, 1u);  // a Store must be routed, not sent direct
  EXPECT_EQ(dir.known()[0].version, 5u);
  dir.receive_direct(Time{0}, handle(2), replica(signed_record(key, 6)));
  EXPECT_EQ(dir.known()[0].version, 6u);
  // Two more publishers claim the name: the second one is over the limit.
  const auto k2 = node::NodeKey::generate(), k3 = node::NodeKey::generate();
  dir.deliver(Time{0}, info_from(handle(2), NameRecord::key_for("news")),
              store_msg(signed_record(k2, 1)));
  dir.deliver(Time{0}, info_from(handle(2), NameRecord::key_for("news")),
              store_msg(signed_record(k3, 1)));
  EXPECT_EQ(dir.counters().rejected_full, 1u);
}

TEST(StreamDirectory, AHolderOnTheWayAnswersAndConsumesTheLookup) {
  FakeOverlay ov(handle(1));
  StreamDirectory dir(ov);
  const auto key = node::NodeKey::generate();
  const NameRecord r = signed_record(key, 1);
  dir.receive_direct(Time{0}, handle(2), std::make_shared<StoreMessage>(r, true));

  overlay::ForwardContext ctx;
  ctx.key = r.key();
  ctx.origin = handle(7);
  ctx.previous_hop = handle(6);
  ctx.message = std::make_shared<LookupMessage>("news", 42);
  ctx.next_hop = handle(3);
  dir.forward(Time{1000}, ctx);
  EXPECT_TRUE(ctx.consumed);
  ASSERT_EQ(ov.direct.size(), 1u);
  EXPECT_EQ(ov.direct[0].first, handle(7));
  const auto& reply = static_cast<const LookupReplyMessage&>(*ov.direct[0].second);
  EXPECT_EQ(reply.request_id(), 42u);
  ASSERT_TRUE(reply.record());
  EXPECT_EQ(reply.remaining(), 0u);

  // A node that holds nothing lets it pass.
  FakeOverlay empty_ov(handle(4));
  StreamDirectory empty(empty_ov);
  overlay::ForwardContext pass = ctx;
  pass.consumed = false;
  empty.forward(Time{0}, pass);
  EXPECT_FALSE(pass.consumed);
  EXPECT_TRUE(empty_ov.direct.empty());
}

TEST(StreamDirectory, ResolveVerifiesAnswersAndPinsThePublisher) {
  FakeOverlay ov(handle(1));
  StreamDirectory dir(ov);
  const auto a = node::NodeKey::generate(), b = node::NodeKey::generate();
  std::vector<NameRecord> got;
  bool done = false;
  auto query = StreamQuery::parse("news@" + hex_of(b.public_key()));
  dir.resolve(Time{0}, *query, [&](Time, std::vector<NameRecord> found) {
    got = std::move(found);
    done = true;
  });
  ASSERT_EQ(ov.routed.size(), 1u);
  EXPECT_EQ(ov.routed[0].first, NameRecord::key_for("news"));
  const uint64_t id = static_cast<const LookupMessage&>(*ov.routed[0].second).request_id();
  NameRecord forged = signed_record(b, 9);
  forged.version = 10;  // signature no longer matches
  auto reply = [&](std::optional<NameRecord> r, uint32_t remaining) {
    dir.receive_direct(Time{10}, handle(5),
                       std::make_shared<LookupReplyMessage>(id, std::move(r), remaining));
  };
  reply(signed_record(a, 3), 2);  // another publisher of the same name: not pinned
  reply(forged, 1);
  EXPECT_FALSE(done);
  reply(signed_record(b, 2), 0);
  ASSERT_TRUE(done);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].publisher_key, b.public_key());
  EXPECT_EQ(got[0].version, 2u);
  EXPECT_EQ(dir.counters().replies_invalid, 1u);
  reply(signed_record(b, 2), 0);  // late duplicate
  EXPECT_EQ(dir.counters().replies_unexpected, 1u);
}

TEST(StreamDirectory, UnansweredLookupEndsEmptyAfterTheTimeout) {
  FakeOverlay ov(handle(1));
  StreamDirectory dir(ov, DirectoryConfig{.lookup_timeout = seconds(2)});
  int calls = 0;
  size_t found = 99;
  dir.resolve(Time{0}, *StreamQuery::parse("nobody"), [&](Time, std::vector<NameRecord> f) {
    ++calls;
    found = f.size();
  });
  ASSERT_EQ(ov.timers.size(), 1u);
  EXPECT_EQ(ov.timers[0].at, seconds(2));
  dir.on_timer(seconds(2), ov.timers[0].token);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(found, 0u);
  EXPECT_EQ(dir.counters().lookups_timed_out, 1u);
}

TEST(StreamDirectory, PublisherRefreshesAtAThirdOfTheTtlAndRecordsExpire) {
  FakeOverlay ov(handle(1));
  ov.active_ = false;
  StreamDirectory dir(ov);
  const auto key = node::NodeKey::generate();
  dir.publish(Time{0}, signed_record(key, 1));
  EXPECT_TRUE(ov.routed.empty());  // not in a ring yet
  ov.active_ = true;
  dir.became_active(seconds(1));
  ASSERT_EQ(ov.routed.size(), 1u);
  ASSERT_EQ(ov.timers.size(), 1u);
  EXPECT_EQ(ov.timers[0].at, seconds(11));  // ttl 30 s / 3
  dir.on_timer(seconds(11), ov.timers[0].token);
  EXPECT_EQ(ov.routed.size(), 2u);

  // A held record is gone once its TTL has passed since it was stored.
  FakeOverlay holder_ov(handle(2));
  StreamDirectory holder(holder_ov, DirectoryConfig{.sweep_period = seconds(5)});
  holder.receive_direct(Time{0}, handle(1),
                        std::make_shared<StoreMessage>(signed_record(key, 1), true));
  Time t{0};
  while (!holder_ov.timers.empty() && t < seconds(40)) {
    const auto timer = holder_ov.timers.back();
    holder_ov.timers.pop_back();
    t = timer.at;
    holder.on_timer(t, timer.token);
  }
  EXPECT_TRUE(holder.known().empty());
  EXPECT_GE(t, seconds(30));
}

}  // namespace
}  // namespace forestcast::directory
