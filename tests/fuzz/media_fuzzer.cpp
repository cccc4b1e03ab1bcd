// libFuzzer target: the media layer's parsers of untrusted bytes. The first input byte picks
// the parser, the rest is its input:
//   0 RTP (parse_rtp: what a publisher's source sends us)
//   1 a symbol item, 2 a group-auth item (decode_symbol_item / decode_auth_item: what a parent
//     in a stripe tree sends us)
//   3 a restored group's packet stream (split_framed_packets; the next byte is the expected
//     packet count)
//   4 SDP text (parse_sdp)
// Beyond "no crash, no sanitizer report": every view a parser returns lies inside its input
// (each byte is read, so ASan sees it), and an accepted item re-encodes to an item that
// decodes to the same thing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fuzz_app.hpp"
#include "media/group_format.hpp"
#include "media/rtp_packet.hpp"
#include "media/sdp.hpp"

using namespace forestcast;

namespace {

volatile uint8_t sink;

void touch(std::span<const uint8_t> bytes) {
  uint8_t x = 0;
  for (uint8_t b : bytes) x ^= b;
  sink = x;
}

bool inside(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
  return part.empty() || (part.data() >= whole.data() &&
                          part.data() + part.size() <= whole.data() + whole.size());
}

void rtp(std::span<const uint8_t> in) {
  const media::RtpParseResult r = media::parse_rtp(in);
  if (!r.ok) return;
  const media::RtpPacketView& p = r.packet;
  if (p.header_bytes + p.padding_bytes > p.bytes.size()) fuzz::property_failed("RTP sizes");
  if (!inside(p.payload(), in)) fuzz::property_failed("RTP payload outside the datagram");
  touch(p.payload());
}

void symbol_item(std::span<const uint8_t> in) {
  const auto item = media::decode_symbol_item(in);
  if (!item) return;
  if (!inside(item->symbol, in)) fuzz::property_failed("symbol outside the item");
  touch(item->symbol);
  const std::vector<uint8_t> encoded =
      media::encode_symbol_item(item->header, item->index, item->symbol);
  const auto again = media::decode_symbol_item(encoded);
  if (!again || !(again->header == item->header) || again->index != item->index ||
      !std::equal(again->symbol.begin(), again->symbol.end(), item->symbol.begin(),
                  item->symbol.end()))
    fuzz::property_failed("symbol item round trip");
}

void auth_item(std::span<const uint8_t> in) {
  const auto auth = media::decode_auth_item(in);
  if (!auth) return;
  const auto again = media::decode_auth_item(media::encode_auth_item(*auth));
  if (!again || !(again->header == auth->header) || again->hashes != auth->hashes ||
      again->signature != auth->signature)
    fuzz::property_failed("auth item round trip");
}

void framed(std::span<const uint8_t> in) {
  if (in.empty()) return;
  const auto packets = media::split_framed_packets(in.subspan(1), in[0]);
  if (!packets) return;
  if (packets->size() != in[0]) fuzz::property_failed("wrong packet count");
  for (const auto& p : *packets) {
    if (!inside(p.bytes, in)) fuzz::property_failed("packet outside the stream");
    touch(p.bytes);
  }
}

void sdp(std::span<const uint8_t> in) {
  const media::SdpParseResult r =
      media::parse_sdp(std::string_view(reinterpret_cast<const char*>(in.data()), in.size()));
  if (!r.sdp && r.error.empty()) fuzz::property_failed("SDP refused without a reason");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      rtp(in);
      break;
    case 1:
      symbol_item(in);
      break;
    case 2:
      auth_item(in);
      break;
    case 3:
      framed(in);
      break;
    default:
      sdp(in);
      break;
  }
  return 0;
}
