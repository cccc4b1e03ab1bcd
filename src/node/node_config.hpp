#pragma once
// `forestcast node` options (DESIGN.md §7): the same keys on the command line and in a
// `key = value` config file (--config). Parsing is two steps: CLI11 fills NodeOptions with
// text, then make_node_config() validates it into typed values, throwing ConfigError with one
// clear line for anything wrong, before anything is started.
#include <spdlog/common.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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
  std::string log_level = "info";
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
};

// Registers every option (and --config) on the `node` subcommand, writing into `options`.
void add_node_options(CLI::App& command, NodeOptions& options);

NodeConfig make_node_config(const NodeOptions& options);

}  // namespace forestcast::node
