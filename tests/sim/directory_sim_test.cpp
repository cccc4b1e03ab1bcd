// Streams by name on a simulated ring of real Pastry nodes: records stored at SHA-1(name) are
// found by every viewer, survive the death of the key's root, and a pinned query picks one of
// two publishers claiming the same name.
#include <gtest/gtest.h>

#include "directory/stream_directory.hpp"
#include "net/sim/simulator.hpp"
#include "node/node_key.hpp"

namespace forestcast::directory {
namespace {

using sim::Simulator;

class DirectoryRing : public ::testing::Test {
 protected:
  void TearDown() override {
    if (sim_) {
      EXPECT_EQ(sim_->counters().messages_oversize, 0u);
    }
  }
  void build(size_t n, uint64_t seed) {
    sim::SimConfig config;
    config.seed = seed;
    config.check_wire_size = true;  // a record too big for UDP fails here too
    sim_ = std::make_unique<Simulator>(config);
    Rng rng(seed);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t id =
          sim_->add_node(overlay::NodeId::from_parts(rng.next(), rng.next()), rng.next());
      dirs_.push_back(&sim_->attach_app(id, kDirectoryAppId,
                                        std::make_unique<StreamDirectory>(sim_->node(id))));
      if (i == 0) {
        sim_->start_ring(id);
      } else {
        const auto& active = sim_->active_nodes();
        sim_->join(id, {Simulator::endpoint_of(active[rng.below(active.size())])});
      }
      sim_->run_until(sim_->now() + ms(20));
    }
    sim_->run_until(sim_->now() + seconds(20));
  }

  NameRecord record(const node::NodeKey& key, const std::string& name) {
    NameRecord r;
    r.name = name;
    r.publisher_key = key.public_key();
    // A synthetic stream: no SDP (a media record would need one that parses, and FEC).
    r.ttl_ms = 30'000;
    r.version = 1;
    r.signature = key.sign(r.signed_bytes());
    return r;
  }

  void publish(uint32_t node, const NameRecord& r) {
    sim_->with_node(node, [&](overlay::PastryNode&) { dirs_[node]->publish(sim_->now(), r); });
  }

  // Resolves `query` from `node`; the records found, or nullopt if the callback never ran.
  std::optional<std::vector<NameRecord>> resolve(uint32_t node, const std::string& query) {
    std::optional<std::vector<NameRecord>> out;
    sim_->with_node(node, [&](overlay::PastryNode&) {
      dirs_[node]->resolve(sim_->now(), *StreamQuery::parse(query),
                           [&](Time, std::vector<NameRecord> found) { out = std::move(found); });
    });
    sim_->run_until(sim_->now() + seconds(4));
    return out;
  }

  std::unique_ptr<Simulator> sim_;
  std::vector<StreamDirectory*> dirs_;
};

TEST_F(DirectoryRing, EveryViewerResolvesAndTheRecordOutlivesItsRoot) {
  const uint64_t seed = 21;
  build(300, seed);
  const auto key = node::NodeKey::generate();
  const NameRecord r = record(key, "news");
  publish(7, r);
  sim_->run_until(sim_->now() + seconds(2));
  for (uint32_t v = 100; v < 130; ++v) {
    auto found = resolve(v, "news");
    ASSERT_TRUE(found) << "seed " << seed << " viewer " << v;
    ASSERT_EQ(found->size(), 1u) << "seed " << seed << " viewer " << v;
    EXPECT_EQ((*found)[0].group_id(), r.group_id());
  }
  EXPECT_FALSE(resolve(100, "nobody")->size());

  // Kill the key's root: a replica on its leaf set answers.
  const auto root = sim_->oracle().closest(r.key());
  ASSERT_TRUE(root);
  ASSERT_NE(root->node, 7u);
  sim_->kill(root->node);
  sim_->run_until(sim_->now() + seconds(1));
  for (uint32_t v = 200; v < 210; ++v) {
    auto found = resolve(v, "news");
    ASSERT_TRUE(found && found->size() == 1) << "seed " << seed << " viewer " << v;
  }
}

TEST_F(DirectoryRing, PinnedQueryPicksOnePublisherOfASharedName) {
  build(120, 22);
  const auto a = node::NodeKey::generate(), b = node::NodeKey::generate();
  publish(3, record(a, "match"));
  publish(4, record(b, "match"));
  sim_->run_until(sim_->now() + seconds(2));
  auto both = resolve(50, "match");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->size(), 2u);
  auto pinned = resolve(51, "match@" + hex_of(b.public_key()));
  ASSERT_TRUE(pinned && pinned->size() == 1);
  EXPECT_EQ((*pinned)[0].publisher_key, b.public_key());
  EXPECT_EQ(dirs_[51]->known().size(), 1u);  // what it resolved is listed
}

}  // namespace
}  // namespace forestcast::directory
