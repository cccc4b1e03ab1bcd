// forestcast_media_pipe: the media path end to end in one process, for tests with real ffmpeg.
// RTP in on UDP -> PublisherPipeline -> a model of the forest (whole stripes lost, random item
// loss, per-stripe delay) -> ViewerPipeline -> RTP out on UDP at playout time. It is a driver
// like the daemon: it owns the sockets and the clock, the pipelines own none. Prints one JSON
// report on stdout when the input has been idle long enough.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <queue>
#include <sstream>

#include "base/random.hpp"
#include "media/group_signer.hpp"
#include "media/publisher_pipeline.hpp"
#include "media/sdp.hpp"
#include "media/viewer_pipeline.hpp"

namespace fm = forestcast::media;
using forestcast::Duration;
using forestcast::kNever;
using forestcast::Time;

namespace {

struct Address {
  std::string host;
  uint16_t port = 0;
  sockaddr_in sa{};
};

Address parse_address(const std::string& text) {
  const auto colon = text.rfind(':');
  Address a;
  if (colon == std::string::npos) throw CLI::ValidationError("address", "HOST:PORT expected");
  a.host = text.substr(0, colon);
  a.port = static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
  a.sa.sin_family = AF_INET;
  a.sa.sin_port = htons(a.port);
  if (inet_pton(AF_INET, a.host.c_str(), &a.sa.sin_addr) != 1) {
    throw CLI::ValidationError("address", "IPv4 address expected: " + text);
  }
  return a;
}

struct InFlight {
  Time at;
  uint64_t order;
  uint8_t stripe;
  std::vector<uint8_t> bytes;
  bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : order > o.order; }
};

[[noreturn]] void die(const std::string& line) {
  std::cerr << "forestcast_media_pipe: " << line << "\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"media path in one process: RTP in -> FEC stripes -> losses -> playout -> RTP out"};
  std::string rtp_in = "127.0.0.1:5004", rtp_out = "127.0.0.1:6004", sdp_in, sdp_out, fec = "14+2";
  std::string report_path;
  std::vector<unsigned> drop_stripes;
  double drop_rate = 0.0;
  uint64_t seed = 1;
  int playout_ms = 500, idle_exit_ms = 1500, max_seconds = 120, sdp_wait_ms = 10000;
  int stripe_delay_ms = 0;
  bool mpegts = false;
  app.add_option("--rtp-in", rtp_in, "where the encoder sends RTP");
  app.add_option("--rtp-out", rtp_out, "where the player listens");
  app.add_option("--sdp", sdp_in, "the encoder's SDP file (waited for)");
  app.add_flag("--mpegts", mpegts, "MPEG-TS over RTP: generate the SDP");
  app.add_option("--sdp-out", sdp_out, "write the player's SDP here");
  app.add_option("--fec", fec, "K+M or off");
  app.add_option("--drop-stripes", drop_stripes, "stripes lost entirely")->delimiter(',');
  app.add_option("--drop-rate", drop_rate, "fraction of the other items lost at random");
  app.add_option("--stripe-delay-ms", stripe_delay_ms, "max extra one-way delay per stripe");
  app.add_option("--seed", seed);
  app.add_option("--playout-ms", playout_ms);
  app.add_option("--idle-exit-ms", idle_exit_ms, "exit this long after the last RTP packet");
  app.add_option("--max-seconds", max_seconds);
  app.add_option("--sdp-wait-ms", sdp_wait_ms);
  app.add_option("--report", report_path, "also write the JSON report here");
  CLI11_PARSE(app, argc, argv);

  const Address in = parse_address(rtp_in);
  const Address out = parse_address(rtp_out);
  fm::FecScheme scheme;
  try {
    scheme = fm::FecScheme::parse(fec);
  } catch (const fm::FecConfigError& e) {
    die(e.what());
  }

  const int rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  const int tx = socket(AF_INET, SOCK_DGRAM, 0);
  int buf = 8 * 1024 * 1024;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  if (rx < 0 || tx < 0 || bind(rx, reinterpret_cast<const sockaddr*>(&in.sa), sizeof(in.sa)) != 0) {
    die("cannot bind " + rtp_in);
  }

  const auto epoch = std::chrono::steady_clock::now();
  auto now = [&] {
    return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - epoch);
  };

  fm::StreamId stream{};
  stream.fill(0x5a);
  fm::Ed25519GroupSigner signer(forestcast::node::NodeKey::generate());
  fm::Ed25519GroupVerifier verifier(signer.public_key());
  fm::PublisherConfig pc;
  pc.stream = stream;
  pc.fec = scheme;
  fm::PublisherPipeline publisher(pc, signer);
  fm::ViewerConfig vc;
  vc.stream = stream;
  vc.fec = scheme;
  vc.playout_delay = forestcast::ms(playout_ms);
  vc.publisher_clock_offset = Duration::zero();  // one process, one clock
  fm::ViewerPipeline viewer(vc, verifier);

  forestcast::Rng rng(seed);
  std::vector<Duration> stripe_delay(16);
  for (auto& d : stripe_delay) {
    d = Duration{static_cast<int64_t>(rng.below(uint64_t(stripe_delay_ms) * 1000 + 1))};
  }
  std::vector<bool> stripe_down(256, false);
  for (unsigned s : drop_stripes) stripe_down.at(s) = true;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> network;
  uint64_t order = 0, items_dropped = 0, rtp_sent = 0;

  bool sdp_written = false;
  auto try_write_sdp = [&] {
    if (sdp_written || sdp_out.empty()) return;
    fm::Sdp sdp;
    if (mpegts) {
      sdp = fm::mpegts_sdp();
    } else {
      if (sdp_in.empty()) return;
      std::error_code ec;
      if (!std::filesystem::exists(sdp_in, ec) || std::filesystem::file_size(sdp_in, ec) == 0) {
        if (now() > forestcast::ms(sdp_wait_ms)) die("no SDP at " + sdp_in);
        return;
      }
      std::ifstream f(sdp_in);
      std::stringstream text;
      text << f.rdbuf();
      auto parsed = fm::parse_sdp(text.str());
      if (!parsed.sdp) die(sdp_in + ": " + parsed.error);
      sdp = *parsed.sdp;
    }
    const std::string tmp = sdp_out + ".tmp";
    std::ofstream(tmp) << fm::write_viewer_sdp(sdp, out.host, out.port);
    std::filesystem::rename(tmp, sdp_out);  // readers never see half a file
    sdp_written = true;
  };

  std::optional<Time> last_rtp;
  std::optional<uint32_t> last_ssrc;
  std::vector<uint8_t> datagram(65536);
  for (;;) {
    try_write_sdp();
    Time t = now();
    if (t > forestcast::seconds(max_seconds)) break;
    if (last_rtp && t > *last_rtp + forestcast::ms(idle_exit_ms) + vc.playout_delay &&
        network.empty()) {
      break;
    }
    Time wake = std::min(publisher.next_deadline(), viewer.next_deadline());
    if (!network.empty()) wake = std::min(wake, network.top().at);
    const int64_t wait_ms =
        wake == kNever ? 50 : std::clamp<int64_t>((wake - t).count() / 1000, 0, 50);
    pollfd p{rx, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(wait_ms));
    t = now();
    for (;;) {
      const ssize_t n = recv(rx, datagram.data(), datagram.size(), 0);
      if (n < 0) break;
      last_rtp = t;
      publisher.on_rtp(t, {datagram.data(), static_cast<size_t>(n)});
    }
    publisher.on_tick(t);
    if (last_rtp && t > *last_rtp + pc.max_group_wait) publisher.flush();
    for (auto& item : publisher.take_payloads()) {
      if (stripe_down[item.stripe] || rng.chance(drop_rate)) {
        ++items_dropped;
        continue;
      }
      network.push(
          {t + stripe_delay[item.stripe % 16], order++, item.stripe, std::move(item.bytes)});
    }
    while (!network.empty() && network.top().at <= t) {
      viewer.on_stripe_payload(t, network.top().stripe, network.top().bytes);
      network.pop();
    }
    viewer.poll(t);
    for (const auto& pkt : viewer.take_packets()) {
      if (auto parsed = fm::parse_rtp(pkt.bytes); parsed.ok) last_ssrc = parsed.packet.ssrc;
      sendto(tx, pkt.bytes.data(), pkt.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&out.sa),
             sizeof(out.sa));
      ++rtp_sent;
    }
  }
  viewer.poll(now() + forestcast::seconds(60));  // account for whatever is still pending
  if (last_ssrc) {
    // End of stream: RTCP BYE (RFC 3550 §6.6) to the player's RTCP port, so it drains its
    // decoder and exits instead of waiting for packets that will not come.
    const uint32_t ssrc = *last_ssrc;
    const uint8_t bye[8] = {
        0x81,         203, 0, 1, uint8_t(ssrc >> 24), uint8_t(ssrc >> 16), uint8_t(ssrc >> 8),
        uint8_t(ssrc)};
    // Sent to the RTCP port and, muxed (RFC 5761), to the RTP port: players listen on either.
    for (uint16_t port : {static_cast<uint16_t>(out.port + 1), out.port}) {
      sockaddr_in to = out.sa;
      to.sin_port = htons(port);
      sendto(tx, bye, sizeof(bye), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    }
  }

  const auto& pcn = publisher.counters();
  const auto r = viewer.report();
  nlohmann::json j;
  j["publisher"] = {{"rtp_received", pcn.rtp_received},
                    {"rtp_accepted", pcn.rtp_accepted},
                    {"rtp_dropped", pcn.rtp_dropped.total()},
                    {"rtp_too_large", pcn.rtp_too_large},
                    {"groups", pcn.groups},
                    {"symbol_items", pcn.symbol_items},
                    {"auth_items", pcn.auth_items},
                    {"payload_bytes", pcn.payload_bytes}};
  j["network"] = {{"items_dropped", items_dropped}};
  j["viewer"] = {{"expected", r.playout.expected},
                 {"delivered_in_time", r.playout.delivered_in_time},
                 {"restored_by_fec", r.playout.restored_by_fec},
                 {"late", r.playout.late},
                 {"lost", r.playout.lost},
                 {"continuity", r.playout.continuity()},
                 {"delay_p50_ms", forestcast::to_ms(r.delay_p50)},
                 {"delay_p99_ms", forestcast::to_ms(r.delay_p99)},
                 {"stripe_skew_p99_ms", forestcast::to_ms(r.stripe_skew_p99)},
                 {"forged", r.items[fm::ItemVerdict::kForged]},
                 {"signature_checks", r.items.signature_checks},
                 {"groups_decoded", r.items.groups_decoded},
                 {"groups_restored_by_fec", r.items.groups_restored_by_fec},
                 {"stalls", r.stalls},
                 {"rtp_sent", rtp_sent}};
  const std::string text = j.dump();
  std::cout << text << std::endl;
  if (!report_path.empty()) std::ofstream(report_path) << text << "\n";
  return 0;
}
