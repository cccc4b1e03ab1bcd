// The real Ed25519 signer through the whole pipeline: a stream signed by one key plays, the same
// items checked against another key are all forged.
#include <gtest/gtest.h>

#include "media/group_signer.hpp"
#include "media/publisher_pipeline.hpp"
#include "media/viewer_pipeline.hpp"
#include "rtp_test_packets.hpp"

namespace forestcast::media {
namespace {

TEST(Ed25519GroupSigner, SignedStreamPlaysOnlyForThePublishersKey) {
  auto publisher_key = node::NodeKey::generate();
  const auto pub_key_bytes = publisher_key.public_key();
  Ed25519GroupSigner signer(std::move(publisher_key));
  PublisherConfig pc;
  PublisherPipeline pub(pc, signer);
  for (uint16_t i = 0; i < 50; ++i) pub.on_rtp(Time{} + ms(i), test::make_rtp(i, i, 7, 1000));
  pub.flush();
  const auto items = pub.take_payloads();

  auto run = [&](const std::array<uint8_t, 32>& key) {
    Ed25519GroupVerifier verifier(key);
    ViewerPipeline viewer(ViewerConfig{}, verifier);
    for (const auto& it : items) viewer.on_stripe_payload(Time{} + ms(60), it.stripe, it.bytes);
    viewer.poll(Time{} + seconds(5));
    return std::make_pair(viewer.take_packets().size(), viewer.report());
  };
  const auto [played, report] = run(pub_key_bytes);
  EXPECT_EQ(played, 50u);
  EXPECT_LE(report.items.signature_checks, report.items.groups_decoded);  // once per group

  const auto other = node::NodeKey::generate().public_key();
  const auto [played_other, report_other] = run(other);
  EXPECT_EQ(played_other, 0u);
  EXPECT_GT(report_other.items[ItemVerdict::kForged], 0u);
}

}  // namespace
}  // namespace forestcast::media
