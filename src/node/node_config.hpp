#pragma once
// `forestcast node` options (DESIGN.md §7): the same keys on the command line and in a
// `key = value` config file (--config; the command line wins). Parsing is two steps: CLI11 fills
// NodeOptions with text, then make_node_config() reads the config file and validates everything
// into typed values, throwing ConfigError with one clear line for anything wrong, before
// anything is started.
#include <spdlog/common.h>

#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/udp/link_emulation.hpp"
#include "node/media_service.hpp"
#include "node/stream_service.hpp"
#include "overlay/endpoint.hpp"

namespace forestcast::node {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NodeOptions {
  std::string bind = "127.0.0.1:7000";
  std::vector<std::string> bootstrap;
  std::string admin;      // empty: no admin server
  std::string advertise;  // empty: the bound address
  std::string key = "forestcast.key";
  size_t leaf_set = 16;
  bool log_json = false;
  std::string log_level = "info";  // "LEVEL" and/or "MODULE=LEVEL" items, comma-separated
  int peer_admin_offset = 0;       // 0: unknown (no links between admin pages)
  // Test-only link emulation (see net/udp/link_emulation.hpp); empty: off.
  std::string emulate_latency_ms;  // "A-B"
  double emulate_loss = 0.0;
  std::string emulate_topology = "sphere";
  std::string test_drop_from;  // test only: see NodeConfig::test_drop_file
  // Streams.
  std::string publish;  // empty: publishes nothing
  double synthetic_kbps = 0;
  std::vector<std::string> view;
  int capacity = -1;       // -1: the number of stripes received
  double upload_kbps = 0;  // 0: not given
  int stripes = 16;
  // Media (issue 12).
  std::string rtp_in;   // empty: no RTP ingest
  std::string sdp;      // the encoder's SDP file; empty: MPEG-TS over RTP
  std::string fec;      // "K+M" or "off"; empty: the default for --stripes
  std::string rtp_out;  // empty: the view plays out to nobody (counters only)
  std::string sdp_out;
  int playout_ms = 500;
  std::string rtsp;  // empty: no RTSP server
  std::string config;           // config file path, empty: none
  std::set<std::string> given;  // keys set on the command line (they override the file)
};

struct NodeConfig {
  overlay::Endpoint bind;
  std::vector<overlay::Endpoint> bootstraps;
  std::optional<overlay::Endpoint> admin;
  std::optional<overlay::Endpoint> advertise;
  std::string key_file;
  size_t leaf_set_size = 16;
  bool log_json = false;
  spdlog::level::level_enum log_level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum> module_log_levels;  // override log_level
  std::optional<int> peer_admin_offset;
  std::optional<net::LinkEmulationConfig> emulation;
  // Test only: drop datagrams from the addresses listed in this file (UdpRuntimeOptions).
  std::optional<std::string> test_drop_file;
  StreamConfig streams;
  MediaConfig media;
};

// Registers every option (and --config) on the `node` subcommand, writing into `options`.
void add_node_options(CLI::App& command, NodeOptions& options);

// Reads a config file into `options`, skipping keys in options.given. Format: `key = value`
// lines, keys as the long flags without dashes ("leaf-set" or "leaf_set"), values optionally
// quoted, `#` comments; bootstrap may repeat or be a list `[a, b]`. Throws ConfigError naming
// the file and line.
void apply_config_file(const std::string& path, NodeOptions& options);

NodeConfig make_node_config(NodeOptions options);

}  // namespace forestcast::node
