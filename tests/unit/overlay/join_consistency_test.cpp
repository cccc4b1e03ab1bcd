// What a join leaves in the ring's state: the two holes behind the second stripe root of the
// forest at seed 3 (docs/pastry.md "Join"). A joiner's Pong made it a member of its bootstrap's
// routing table, and a JOIN stopped at the first hop holding its joiner, which answered it
// with a leaf set from elsewhere on the ring: the joiner never met its true neighbours, and
// they never met it. Each test here failed before its fix.
#include <gtest/gtest.h>

#include "lone_node.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::overlay {
namespace {

RouteMsg join_of(const NodeHandle& joiner) {
  RouteMsg m;
  m.hop_id = 7;
  m.msg_id = 77;
  m.key = joiner.id;
  m.origin = joiner;
  m.join = true;
  return m;
}

bool holds(const PastryNode& node, const NodeId& id) {
  return node.leaf_set().contains(id) || node.routing_table().contains(id);
}

// Leaf set of 2 (one per side), so a routing-table slot has room for the joiner.
struct Bootstrap : LoneNode {
  Bootstrap()
      : LoneNode(hex("50000000000000000000000000000000"), 2,
                 {hex("4fff0000000000000000000000000000"), hex("50010000000000000000000000000000"),
                  hex("a5000000000000000000000000000000")}) {}
};

TEST(JoinConsistency, AJoinersAnswerToTheAddressCheckDoesNotMakeItAMember) {
  Bootstrap n;
  const NodeHandle joiner = handle(hex("c1230000000000000000000000000000"), 50);
  // Its JOIN straight from the joiner: the bootstrap checks the address with a Ping first.
  n.node.on_message(Time{0}, joiner, join_of(joiner));
  ASSERT_EQ(n.count_sent<Ping>(joiner.endpoint), 1);
  // The joiner answers (a Pong carries no "joining" flag): the address is proven, the join goes
  // on, but the joiner is no member of the ring yet and must not be one of ours.
  answer_pings(n.node, n.env, joiner, ms(5));
  EXPECT_GE(n.count_sent<StateTransfer>(joiner.endpoint), 1);  // its answer went out
  EXPECT_FALSE(holds(n.node, joiner.id));
  // Once active it announces itself and is taken in as usual.
  const size_t mark = n.env.sent.size();
  n.node.on_message(ms(900), joiner, Announce{});
  answer_pings(n.node, n.env, joiner, ms(910), mark);
  EXPECT_TRUE(holds(n.node, joiner.id));
}

TEST(JoinConsistency, AJoinIsRoutedPastAHopThatAlreadyHoldsItsJoiner) {
  // The joiner restarted with the same id and address, and the bootstrap still holds it in
  // routing-table slot R[0][a] next to another node of that slot.
  const NodeId joiner_id = hex("a5000000000000000000000000000000");
  const NodeId other_id = hex("a6000000000000000000000000000000");
  LoneNode n(hex("50000000000000000000000000000000"), 2,
             {hex("4fff0000000000000000000000000000"), hex("50010000000000000000000000000000"),
              joiner_id, other_id});
  const NodeHandle joiner = LoneNode::known(2, joiner_id);
  const NodeHandle other = LoneNode::known(3, other_id);
  ASSERT_TRUE(n.node.routing_table().contains(joiner_id));
  const size_t mark = n.env.sent.size();
  n.node.on_message(ms(1), joiner, join_of(joiner));
  // The JOIN goes on toward the closest node other than the joiner...
  int forwarded = 0;
  for (size_t i = mark; i < n.env.sent.size(); ++i)
    if (const auto* m = std::get_if<RouteMsg>(&n.env.sent[i].second); m && m->join)
      forwarded += n.env.sent[i].first == other.endpoint ? 1 : 0;
  EXPECT_EQ(forwarded, 1);
  // ... and the bootstrap does not answer it as the key's root (with its own far leaf set).
  for (size_t i = mark; i < n.env.sent.size(); ++i) {
    if (const auto* st = std::get_if<StateTransfer>(&n.env.sent[i].second)) {
      EXPECT_FALSE(st->for_join && st->kind == StateKind::kLeafSet);
    }
  }
}

}  // namespace
}  // namespace forestcast::overlay
