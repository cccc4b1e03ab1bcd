#include "node/node_config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "node/logging.hpp"
#include "overlay/messages.hpp"

namespace forestcast::node {
namespace {

constexpr const char* kKeys[] = {
    "bind",           "bootstrap", "admin",     "advertise",         "key",
    "leaf-set",       "log-json",  "log-level", "peer-admin-offset", "publish",
    "synthetic-kbps", "view",      "capacity",  "upload-kbps",       "stripes",
    "rtp-in",         "sdp",       "fec",       "rtp-out",           "sdp-out",
    "playout-ms",     "rtsp"};

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

// "a", "[a, b]", "a, b" -> items.
std::vector<std::string> split_list(std::string value) {
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']')
    value = value.substr(1, value.size() - 2);
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = value.find(',', start);
    std::string item = unquote(trim(value.substr(start, comma - start)));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

overlay::Endpoint parse_endpoint(const std::string& flag, const std::string& text) {
  auto e = overlay::Endpoint::parse(text);
  if (!e)
    throw ConfigError("invalid address for --" + flag + ": '" + text +
                      "' (expected IP:PORT, [IPv6]:PORT or localhost:PORT, port 1-65535)");
  return *e;
}

// A whole-string integer; `what` names the file, line and key for the error.
template <typename T>
T parse_number(const std::string& value, const std::string& what) {
  T n{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc{} || end != value.data() + value.size())
    throw ConfigError(what + " must be a number, got '" + value + "'");
  return n;
}

spdlog::level::level_enum parse_level(const std::string& text, const std::string& item) {
  const auto level = spdlog::level::from_str(text);
  // from_str maps anything unknown to "off": only accept "off" when it was asked for.
  if (level == spdlog::level::off && text != "off")
    throw ConfigError("invalid --log-level '" + item +
                      "' (trace, debug, info, warn, error, critical or off, optionally per "
                      "module as MODULE=LEVEL)");
  return level;
}

// "info", "pastry=debug,net=warn" or "warn,pastry=debug": a bare level is the default.
void parse_log_levels(const std::string& spec, NodeConfig& c) {
  for (const auto& item : split_list(spec)) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      c.log_level = parse_level(item, item);
      continue;
    }
    const std::string module = trim(item.substr(0, eq));
    const auto& known = log_modules();
    if (std::find(known.begin(), known.end(), module) == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      throw ConfigError("unknown module '" + module + "' in --log-level (known: " + names + ")");
    }
    c.module_log_levels[module] = parse_level(trim(item.substr(eq + 1)), item);
  }
}

// "A-B" milliseconds, 0 <= A <= B.
net::LinkEmulationConfig parse_emulation(const NodeOptions& o) {
  net::LinkEmulationConfig e;
  const auto dash = o.emulate_latency_ms.find('-');
  double lo = -1, hi = -1;
  if (dash != std::string::npos) {
    const std::string a = o.emulate_latency_ms.substr(0, dash);
    const std::string b = o.emulate_latency_ms.substr(dash + 1);
    auto [ea, eca] = std::from_chars(a.data(), a.data() + a.size(), lo);
    auto [eb, ecb] = std::from_chars(b.data(), b.data() + b.size(), hi);
    if (eca != std::errc{} || ea != a.data() + a.size() || ecb != std::errc{} ||
        eb != b.data() + b.size())
      lo = hi = -1;
  }
  if (!(lo >= 0 && hi >= lo && hi <= 10000))
    throw ConfigError("invalid --emulate-latency-ms '" + o.emulate_latency_ms +
                      "' (expected A-B in milliseconds, 0 <= A <= B <= 10000)");
  if (!(o.emulate_loss >= 0 && o.emulate_loss < 1))
    throw ConfigError("--emulate-loss must be in [0, 1)");
  const auto topology = sim::parse_topology(o.emulate_topology);
  if (!topology)
    throw ConfigError("unknown --emulate-topology '" + o.emulate_topology + "' (sphere or plane)");
  e.topology = *topology;
  e.min_latency = Duration{static_cast<int64_t>(lo * 1000)};
  e.max_latency = Duration{static_cast<int64_t>(hi * 1000)};
  e.loss = o.emulate_loss;
  return e;
}

StreamConfig make_stream_config(const NodeOptions& o) {
  StreamConfig s;
  if (!o.publish.empty()) {
    if (!directory::valid_name(o.publish))
      throw ConfigError("invalid --publish name '" + o.publish +
                        "' (1-64 printable characters, no spaces or '@')");
    if (o.synthetic_kbps != 0 && !o.rtp_in.empty())
      throw ConfigError("give --synthetic-kbps or --rtp-in, not both");
    if (o.rtp_in.empty() && !(o.synthetic_kbps > 0 && o.synthetic_kbps <= 1'000'000))
      throw ConfigError(
          "--publish needs a source: --rtp-in HOST:PORT, or --synthetic-kbps K with 0 < K <= "
          "1000000");
    s.publish = o.publish;
    s.synthetic_kbps = o.synthetic_kbps;
  } else if (o.synthetic_kbps != 0) {
    throw ConfigError("--synthetic-kbps needs --publish NAME");
  }
  for (const auto& v : o.view) {
    auto q = directory::StreamQuery::parse(v);
    if (!q) throw ConfigError("invalid --view '" + v + "' (NAME or NAME@<64 hex digits>)");
    s.views.push_back(*q);
  }
  if (o.capacity < -1 || o.capacity > 1024)
    throw ConfigError("--capacity must be between 0 and 1024");
  if (o.upload_kbps < 0) throw ConfigError("--upload-kbps must be positive");
  if (o.upload_kbps > 0 && o.capacity >= 0)
    throw ConfigError("give --capacity or --upload-kbps, not both");
  s.capacity = o.capacity;
  if (o.upload_kbps > 0) s.upload_kbps = o.upload_kbps;
  if (o.stripes < 1 || o.stripes > 16) throw ConfigError("--stripes must be between 1 and 16");
  s.stripes = static_cast<uint32_t>(o.stripes);
  return s;
}

// Default FEC: two parity stripes (14+2 of 16), none below 4 stripes.
media::FecScheme default_fec(unsigned stripes) {
  return stripes >= 4 ? media::FecScheme{stripes - 2, 2} : media::FecScheme::off(stripes);
}

MediaConfig make_media_config(const NodeOptions& o, const NodeConfig& c) {
  MediaConfig m;
  const unsigned stripes = c.streams.stripes;
  if (!o.rtp_in.empty()) {
    if (o.publish.empty()) throw ConfigError("--rtp-in needs --publish NAME");
    MediaIngestConfig in;
    in.name = o.publish;
    in.rtp_in = parse_endpoint("rtp-in", o.rtp_in);
    if (in.rtp_in == c.bind)
      throw ConfigError("--rtp-in " + o.rtp_in + " is the node's own --bind address");
    if (!o.sdp.empty()) in.sdp_file = o.sdp;
    in.stripes = stripes;
    in.fec = default_fec(stripes);
    if (!o.fec.empty()) {
      try {
        in.fec = media::FecScheme::parse(o.fec, stripes);
      } catch (const media::FecConfigError& e) {
        throw ConfigError("invalid --fec '" + o.fec + "': " + e.what());
      }
      // The name record (and the stripe rotation) has one symbol per stripe.
      if (in.fec.total() != stripes)
        throw ConfigError("--fec " + o.fec + " must add up to --stripes (" +
                          std::to_string(stripes) + "), or be off");
    }
    m.ingest = in;
  } else if (!o.sdp.empty()) {
    throw ConfigError("--sdp needs --rtp-in HOST:PORT");
  } else if (!o.fec.empty()) {
    throw ConfigError("--fec needs --rtp-in HOST:PORT (viewers read it from the name record)");
  }
  if (!o.rtp_out.empty()) {
    if (o.view.size() != 1)
      throw ConfigError("--rtp-out needs exactly one --view NAME (got " +
                        std::to_string(o.view.size()) + ")");
    m.viewer.rtp_out = parse_endpoint("rtp-out", o.rtp_out);
    if (*m.viewer.rtp_out == c.bind ||
        (m.ingest && *m.viewer.rtp_out == m.ingest->rtp_in))
      throw ConfigError("--rtp-out " + o.rtp_out + " would send to this node itself");
  }
  if (!o.sdp_out.empty()) {
    if (o.rtp_out.empty()) throw ConfigError("--sdp-out needs --rtp-out HOST:PORT");
    m.viewer.sdp_out = o.sdp_out;
  }
  if (o.playout_ms < 20 || o.playout_ms > 10'000)
    throw ConfigError("--playout-ms must be between 20 and 10000, got " +
                      std::to_string(o.playout_ms));
  if (o.given.count("playout-ms") && o.view.empty())
    throw ConfigError("--playout-ms needs --view NAME");
  m.viewer.playout_delay = ms(o.playout_ms);
  if (!o.rtsp.empty()) {
    if (o.view.empty()) throw ConfigError("--rtsp needs --view NAME (it serves the viewed streams)");
    m.rtsp = parse_endpoint("rtsp", o.rtsp);
  }
  return m;
}

}  // namespace

void add_node_options(CLI::App& cmd, NodeOptions& o) {
  // Our own config reader rather than CLI11's: this CLI11 version ignores set_config() on a
  // subcommand, and we want errors that name the file and line.
  cmd.add_option("--config", o.config,
                 "Read options from a file of `key = value` lines (same keys as the flags)");
  cmd.add_option("--bind", o.bind, "UDP address to listen on (HOST:PORT)")->capture_default_str();
  cmd.add_option("--bootstrap", o.bootstrap,
                 "Existing node to join through (HOST:PORT, repeatable); none starts a new ring");
  cmd.add_option("--admin", o.admin, "Admin HTTP address for /status and /metrics (HOST:PORT)");
  cmd.add_option("--advertise", o.advertise,
                 "Address other nodes should use for us (default: the --bind address)");
  cmd.add_option("--key", o.key, "Ed25519 key file, created on first start")->capture_default_str();
  cmd.add_option("--leaf-set", o.leaf_set, "Leaf set size (even, both sides together)")
      ->capture_default_str();
  cmd.add_flag("--log-json", o.log_json, "Log one JSON object per line");
  cmd.add_option("--log-level", o.log_level,
                 "trace, debug, info, warn, error, critical or off; per module as "
                 "MODULE=LEVEL items, e.g. info,pastry=debug,net=warn")
      ->capture_default_str();
  cmd.add_option("--peer-admin-offset", o.peer_admin_offset,
                 "Other nodes' admin API listens on their UDP port + this (same host); lets "
                 "/status and the page link to neighbours. 0: unknown");
  auto* streams = "Streams";
  cmd.add_option("--publish", o.publish, "Publish a stream under NAME (signed with --key)")
      ->group(streams);
  cmd.add_option("--synthetic-kbps", o.synthetic_kbps,
                 "The published stream's source: synthetic packets of 1,200 bytes at K kbit/s")
      ->group(streams);
  cmd.add_option("--view", o.view, "View a stream: NAME or NAME@PUBKEYHEX (repeatable)")
      ->group(streams);
  cmd.add_option("--capacity", o.capacity,
                 "Stripe-children this node forwards to, over all streams (default: the "
                 "stripes it receives; 0: a pure leaf)")
      ->group(streams);
  cmd.add_option("--upload-kbps", o.upload_kbps,
                 "Upload budget, converted to a capacity with the stream's bitrate")
      ->group(streams);
  cmd.add_option("--stripes", o.stripes, "Stripes of a published stream (1-16)")
      ->group(streams)
      ->capture_default_str();
  auto* media_group = "Media (RTP)";
  cmd.add_option("--rtp-in", o.rtp_in,
                 "Publish RTP received here (HOST:PORT), e.g. from ffmpeg -f rtp or -f rtp_mpegts")
      ->group(media_group);
  cmd.add_option("--sdp", o.sdp,
                 "The encoder's SDP file (waited for if not there yet); without it the RTP "
                 "input is MPEG-TS")
      ->group(media_group);
  cmd.add_option("--fec", o.fec, "Reed-Solomon across stripes: K+M (K+M = --stripes) or off "
                                 "(default 14+2 for 16 stripes)")
      ->group(media_group);
  cmd.add_option("--rtp-out", o.rtp_out,
                 "Send the viewed stream's original RTP packets here (HOST:PORT; one --view)")
      ->group(media_group);
  cmd.add_option("--sdp-out", o.sdp_out,
                 "Write an SDP for players (ffplay -protocol_whitelist file,udp,rtp FILE)")
      ->group(media_group);
  cmd.add_option("--rtsp", o.rtsp,
                 "Serve the viewed streams over RTSP here (HOST:PORT): rtsp://HOST:PORT/NAME")
      ->group(media_group);
  cmd.add_option("--playout-ms", o.playout_ms, "Viewer playout buffer (20-10000 ms)")
      ->group(media_group)
      ->capture_default_str();
  auto* test_only = "Test only (emulated WAN)";
  cmd.add_option("--emulate-latency-ms", o.emulate_latency_ms,
                 "Hold each received message for the one-way delay A-B ms of the latency model, "
                 "from both node ids")
      ->group(test_only);
  cmd.add_option("--emulate-loss", o.emulate_loss, "Drop this fraction of received messages")
      ->group(test_only);
  cmd.add_option("--emulate-topology", o.emulate_topology, "sphere or plane")
      ->group(test_only)
      ->capture_default_str();
  cmd.add_option("--test-drop-from", o.test_drop_from,
                 "Drop datagrams from the addresses (HOST:PORT, one a line) in this file, "
                 "re-read when it changes: a partition a test can make and heal")
      ->group(test_only);
  cmd.parse_complete_callback([&cmd, &o] {
    for (const char* key : kKeys)
      if (cmd.get_option(std::string("--") + key)->count() > 0) o.given.insert(key);
  });
}

void apply_config_file(const std::string& path, NodeOptions& o) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::set<std::string> seen;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = "config file " + path + " line " + std::to_string(number);
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    const auto eq = text.find('=');
    if (eq == std::string::npos) throw ConfigError(where + ": expected `key = value`");
    std::string key = trim(text.substr(0, eq));
    std::replace(key.begin(), key.end(), '_', '-');
    const std::string value = unquote(trim(text.substr(eq + 1)));
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
      throw ConfigError(where + ": unknown key '" + key + "'");
    if (o.given.count(key)) continue;  // the command line wins
    if (key != "bootstrap" && !seen.insert(key).second)
      throw ConfigError(where + ": '" + key + "' set twice");
    if (key == "bind") {
      o.bind = value;
    } else if (key == "bootstrap") {
      if (seen.insert(key).second) o.bootstrap.clear();
      for (auto& item : split_list(value)) o.bootstrap.push_back(item);
    } else if (key == "admin") {
      o.admin = value;
    } else if (key == "advertise") {
      o.advertise = value;
    } else if (key == "key") {
      o.key = value;
    } else if (key == "leaf-set") {
      o.leaf_set = parse_number<size_t>(value, where + ": leaf-set");
    } else if (key == "log-json") {
      if (value == "true" || value == "1" || value == "yes" || value == "on")
        o.log_json = true;
      else if (value == "false" || value == "0" || value == "no" || value == "off")
        o.log_json = false;
      else
        throw ConfigError(where + ": log-json must be true or false, got '" + value + "'");
    } else if (key == "log-level") {
      o.log_level = value;
    } else if (key == "peer-admin-offset") {
      o.peer_admin_offset = parse_number<int>(value, where + ": peer-admin-offset");
    } else if (key == "publish") {
      o.publish = value;
    } else if (key == "synthetic-kbps") {
      o.synthetic_kbps = parse_number<int>(value, where + ": synthetic-kbps");
    } else if (key == "view") {
      for (auto& item : split_list(value)) o.view.push_back(item);
    } else if (key == "capacity") {
      o.capacity = parse_number<int>(value, where + ": capacity");
    } else if (key == "upload-kbps") {
      o.upload_kbps = parse_number<int>(value, where + ": upload-kbps");
    } else if (key == "stripes") {
      o.stripes = parse_number<int>(value, where + ": stripes");
    } else if (key == "rtp-in") {
      o.rtp_in = value;
    } else if (key == "sdp") {
      o.sdp = value;
    } else if (key == "fec") {
      o.fec = value;
    } else if (key == "rtp-out") {
      o.rtp_out = value;
    } else if (key == "sdp-out") {
      o.sdp_out = value;
    } else if (key == "rtsp") {
      o.rtsp = value;
    } else if (key == "playout-ms") {
      o.playout_ms = parse_number<int>(value, where + ": playout-ms");
      o.given.insert(key);  // set, so --playout-ms without --view is caught from a file too
    }
  }
}

NodeConfig make_node_config(NodeOptions o) {
  if (!o.config.empty()) apply_config_file(o.config, o);
  NodeConfig c;
  c.bind = parse_endpoint("bind", o.bind);
  for (const auto& b : o.bootstrap) c.bootstraps.push_back(parse_endpoint("bootstrap", b));
  if (!o.admin.empty()) c.admin = parse_endpoint("admin", o.admin);
  if (!o.advertise.empty()) c.advertise = parse_endpoint("advertise", o.advertise);
  if (o.key.empty()) throw ConfigError("--key must name a file");
  c.key_file = o.key;
  if (o.leaf_set < 2 || o.leaf_set > static_cast<int>(overlay::kMaxLeafSetSize) ||
      o.leaf_set % 2 != 0)
    throw ConfigError("--leaf-set must be an even number between 2 and " +
                      std::to_string(overlay::kMaxLeafSetSize) + ", got " +
                      std::to_string(o.leaf_set));
  c.leaf_set_size = o.leaf_set;
  c.log_json = o.log_json;
  parse_log_levels(o.log_level, c);
  if (o.peer_admin_offset < -65535 || o.peer_admin_offset > 65535)
    throw ConfigError("--peer-admin-offset must be between -65535 and 65535");
  if (o.peer_admin_offset != 0) c.peer_admin_offset = o.peer_admin_offset;
  if (!o.test_drop_from.empty()) c.test_drop_file = o.test_drop_from;
  if (!o.emulate_latency_ms.empty() || o.emulate_loss != 0) {
    if (o.emulate_latency_ms.empty())
      throw ConfigError("--emulate-loss needs --emulate-latency-ms (use 0-0 for loss alone)");
    c.emulation = parse_emulation(o);
  }
  c.streams = make_stream_config(o);
  c.media = make_media_config(o, c);
  for (const auto& b : c.bootstraps)
    if (b == c.bind || (c.advertise && b == *c.advertise))
      throw ConfigError("--bootstrap " + b.to_string() + " is this node's own address");
  return c;
}

}  // namespace forestcast::node
