#include "secure/secure_messages.hpp"

#include <gtest/gtest.h>

#include "ring_fixture.hpp"

namespace forestcast::secure::test {
namespace {

const NodeHandle kRequester = ring_node(u128{3} << 120, 0, 9);

// Who speaks which type: Near is the guard's, Query and Relay the lookups'.
uint16_t app_for(SecureType type) {
  return type == SecureType::kNear ? kNeighbourhoodGuardAppId : kSecureLookupAppId;
}
overlay::AppMessagePtr decode(uint16_t type, std::string_view body) {
  return decode_secure(app_for(static_cast<SecureType>(type)), type, body);
}

std::string encoded(const overlay::AppMessage& m) {
  std::string out;
  m.encode(out);
  EXPECT_EQ(out.size(), m.encoded_size());
  return out;
}

TEST(SecureMessages, QueryRelayAndNearRoundTrip) {
  for (auto type : {SecureType::kQuery, SecureType::kRelay, SecureType::kNear}) {
    const SecureQuery q(type, 0x0102030405060708ULL, 7, NodeId(u128{42} << 80), kRequester);
    const auto back = decode(static_cast<uint16_t>(type), encoded(q));
    ASSERT_TRUE(back);
    const auto& d = static_cast<const SecureQuery&>(*back);
    EXPECT_EQ(d.type(), static_cast<uint16_t>(type));
    EXPECT_EQ(d.app_id(), app_for(type));
    EXPECT_EQ(d.lookup_id(), q.lookup_id());
    EXPECT_EQ(d.copy(), 7);
    EXPECT_EQ(d.key(), q.key());
    EXPECT_EQ(d.requester(), kRequester);
  }
}

TEST(SecureMessages, ReplyRoundTripsWithAFullLeafSet) {
  std::vector<NodeHandle> members;
  for (int k = 1; k <= static_cast<int>(kMaxReplyMembers); ++k)
    members.push_back(ring_node(u128{5} << 120, k, static_cast<uint32_t>(k)));
  const SecureReply r(99, 3, kRequester, members);
  const std::string body = encoded(r);
  EXPECT_LT(body.size(), 1000u);  // one datagram with the envelope around it
  const auto back = decode(static_cast<uint16_t>(SecureType::kReply), body);
  ASSERT_TRUE(back);
  const auto& d = static_cast<const SecureReply&>(*back);
  EXPECT_EQ(d.lookup_id(), 99u);
  EXPECT_EQ(d.copy(), 3);
  EXPECT_EQ(d.root(), kRequester);
  EXPECT_EQ(d.members(), members);
  // The guard's answers are Replies too, under its own id.
  const auto guard =
      decode_secure(kNeighbourhoodGuardAppId, static_cast<uint16_t>(SecureType::kReply), body);
  ASSERT_TRUE(guard);
  EXPECT_EQ(guard->app_id(), kNeighbourhoodGuardAppId);
}

TEST(SecureMessages, EveryTruncationAndAnyTrailingByteIsRejected) {
  const SecureReply r(1, 0, kRequester, {ring_node(0, 1, 2), ring_node(0, 2, 3)});
  const std::string body = encoded(r);
  const auto reply = static_cast<uint16_t>(SecureType::kReply);
  for (size_t n = 0; n < body.size(); ++n)
    EXPECT_FALSE(decode(reply, body.substr(0, n))) << "length " << n;
  EXPECT_FALSE(decode(reply, body + '\0'));
  const SecureQuery q(SecureType::kQuery, 1, 0, NodeId(1), kRequester);
  const std::string qb = encoded(q);
  for (size_t n = 0; n < qb.size(); ++n)
    EXPECT_FALSE(decode(static_cast<uint16_t>(SecureType::kQuery), qb.substr(0, n)));
  EXPECT_FALSE(decode(static_cast<uint16_t>(SecureType::kQuery), qb + 'x'));
}

TEST(SecureMessages, OutOfRangeFieldsAreRejected) {
  const auto reply = static_cast<uint16_t>(SecureType::kReply);
  // A member count above the limit, with the bytes to match it.
  std::vector<NodeHandle> many(kMaxReplyMembers + 1, ring_node(0, 1, 2));
  EXPECT_FALSE(decode(reply, encoded(SecureReply(1, 0, kRequester, many))));
  // A handle with port 0 names nobody to answer.
  NodeHandle portless = kRequester;
  portless.endpoint.port = 0;
  EXPECT_FALSE(decode(static_cast<uint16_t>(SecureType::kRelay),
                      encoded(SecureQuery(SecureType::kRelay, 1, 1, NodeId(1), portless))));
  const std::string body = encoded(SecureQuery(SecureType::kQuery, 1, 0, NodeId(1), kRequester));
  // A type under the other application's id.
  EXPECT_FALSE(
      decode_secure(kNeighbourhoodGuardAppId, static_cast<uint16_t>(SecureType::kQuery), body));
  EXPECT_FALSE(decode_secure(kSecureLookupAppId, static_cast<uint16_t>(SecureType::kNear),
                             encoded(SecureQuery(SecureType::kNear, 1, 0, NodeId(1), kRequester))));
  EXPECT_FALSE(decode_secure(7, static_cast<uint16_t>(SecureType::kQuery), body));
  // Unknown types.
  EXPECT_FALSE(decode(0, body));
  EXPECT_FALSE(decode(5, body));
}

}  // namespace
}  // namespace forestcast::secure::test
