// CPU cost of the media path for a 2 Mbit/s stream: ISA-L Reed-Solomon encode + decode alone,
// then the whole publisher + viewer pipelines (framing, SHA-256, Ed25519 sign and verify,
// playout) with 2 of 16 stripes lost. Prints one JSON line; "% of one core" = CPU seconds spent
// per second of stream.
#include <time.h>

#include <cstdio>
#include <vector>

#include "base/random.hpp"
#include "media/group_signer.hpp"
#include "media/publisher_pipeline.hpp"
#include "media/reed_solomon.hpp"
#include "media/viewer_pipeline.hpp"

namespace fm = forestcast::media;
using forestcast::Time;

namespace {
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
std::vector<uint8_t> rtp(uint16_t seq, size_t size, forestcast::Rng& rng) {
  std::vector<uint8_t> p(size);
  for (auto& b : p) b = static_cast<uint8_t>(rng.next());
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  return p;
}
}  // namespace

int main(int argc, char** argv) {
  const int stream_seconds = argc > 1 ? std::atoi(argv[1]) : 600;
  const double bitrate = 2e6;
  const size_t packet = 1400;
  const auto packets = static_cast<size_t>(bitrate / 8 / packet * stream_seconds);
  forestcast::Rng rng(1);

  // 1. Reed-Solomon alone: groups of 14 x 1,100-byte symbols, 2 data symbols rebuilt each.
  fm::ReedSolomon rs(fm::FecScheme{14, 2});
  const size_t len = 1100;
  const auto groups = static_cast<size_t>(bitrate / 8 * stream_seconds / (14 * len)) + 1;
  std::vector<uint8_t> buf(16 * len);
  for (auto& b : buf) b = static_cast<uint8_t>(rng.next());
  std::vector<uint8_t*> ptrs;
  for (int i = 0; i < 16; ++i) ptrs.push_back(buf.data() + i * len);
  std::vector<const uint8_t*> data(ptrs.begin(), ptrs.begin() + 14);
  bool present[16];
  const double t0 = cpu_seconds();
  for (size_t g = 0; g < groups; ++g) rs.encode(data, {ptrs.data() + 14, 2}, len);
  const double t1 = cpu_seconds();
  for (size_t g = 0; g < groups; ++g) {
    for (bool& p : present) p = true;
    present[g % 14] = false;
    present[(g + 5) % 14] = false;
    rs.restore(ptrs, {present, 16}, len);
  }
  const double t2 = cpu_seconds();

  // 2. Whole pipelines, real Ed25519, stripes 3 and 11 lost.
  fm::Ed25519GroupSigner signer(forestcast::node::NodeKey::generate());
  fm::Ed25519GroupVerifier verifier(signer.public_key());
  fm::PublisherConfig pc;
  fm::PublisherPipeline pub(pc, signer);
  fm::ViewerPipeline viewer(fm::ViewerConfig{}, verifier);
  std::vector<std::vector<uint8_t>> input;
  for (size_t i = 0; i < 4096; ++i) input.push_back(rtp(static_cast<uint16_t>(i), packet, rng));
  const auto spacing = forestcast::Duration{static_cast<int64_t>(1e6 * stream_seconds / packets)};
  size_t played = 0;
  const double t3 = cpu_seconds();
  for (size_t i = 0; i < packets; ++i) {
    const Time now = Time{} + spacing * static_cast<int64_t>(i);
    auto& p = input[i % input.size()];
    p[2] = static_cast<uint8_t>(i >> 8);
    p[3] = static_cast<uint8_t>(i);
    pub.on_rtp(now, p);
    for (auto& item : pub.take_payloads()) {
      if (item.stripe == 3 || item.stripe == 11) continue;
      viewer.on_stripe_payload(now + forestcast::ms(20), item.stripe, item.bytes);
    }
    viewer.poll(now);
    played += viewer.take_packets().size();
  }
  const double t4 = cpu_seconds();
  viewer.poll(Time{} + forestcast::seconds(stream_seconds + 10));
  played += viewer.take_packets().size();

  const auto pct = [&](double cpu) { return 100.0 * cpu / stream_seconds; };
  std::printf(
      "{\"stream_seconds\":%d,\"bitrate_bps\":%.0f,\"groups\":%zu,"
      "\"rs_encode_cpu_s\":%.4f,\"rs_decode_cpu_s\":%.4f,\"rs_encode_decode_pct_core\":%.4f,"
      "\"pipeline_cpu_s\":%.3f,\"pipeline_pct_core\":%.3f,\"packets\":%zu,\"played\":%zu,"
      "\"continuity\":%.6f}\n",
      stream_seconds, bitrate, groups, t1 - t0, t2 - t1, pct(t2 - t0), t4 - t3, pct(t4 - t3),
      packets, played, viewer.report().playout.continuity());
  return 0;
}
