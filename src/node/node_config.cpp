#include "node/node_config.hpp"

namespace forestcast::node {
namespace {

overlay::Endpoint parse_endpoint(const std::string& flag, const std::string& text) {
  auto e = overlay::Endpoint::parse(text);
  if (!e)
    throw ConfigError("invalid address for --" + flag + ": '" + text +
                      "' (expected IP:PORT, [IPv6]:PORT or localhost:PORT, port 1-65535)");
  return *e;
}

}  // namespace

void add_node_options(CLI::App& cmd, NodeOptions& o) {
  cmd.set_config("--config", "", "Read options from a file of `key = value` lines (same keys)");
  cmd.add_option("--bind", o.bind, "UDP address to listen on (HOST:PORT)")->capture_default_str();
  cmd.add_option("--bootstrap", o.bootstrap,
                 "Existing node to join through (HOST:PORT, repeatable); none starts a new ring");
  cmd.add_option("--admin", o.admin, "Admin HTTP address for /status and /metrics (HOST:PORT)");
  cmd.add_option("--advertise", o.advertise,
                 "Address other nodes should use for us (default: the --bind address)");
  cmd.add_option("--key", o.key, "Ed25519 key file, created on first start")
      ->capture_default_str();
  cmd.add_option("--leaf-set", o.leaf_set, "Leaf set size (even, both sides together)")
      ->capture_default_str();
  cmd.add_flag("--log-json", o.log_json, "Log one JSON object per line");
  cmd.add_option("--log-level", o.log_level,
                 "trace, debug, info, warn, error, critical or off")
      ->capture_default_str();
}

NodeConfig make_node_config(const NodeOptions& o) {
  NodeConfig c;
  c.bind = parse_endpoint("bind", o.bind);
  for (const auto& b : o.bootstrap) c.bootstraps.push_back(parse_endpoint("bootstrap", b));
  if (!o.admin.empty()) c.admin = parse_endpoint("admin", o.admin);
  if (!o.advertise.empty()) c.advertise = parse_endpoint("advertise", o.advertise);
  if (o.key.empty()) throw ConfigError("--key must name a file");
  c.key_file = o.key;
  if (o.leaf_set < 2 || o.leaf_set > 128 || o.leaf_set % 2 != 0)
    throw ConfigError("--leaf-set must be an even number between 2 and 128, got " +
                      std::to_string(o.leaf_set));
  c.leaf_set_size = o.leaf_set;
  c.log_json = o.log_json;
  c.log_level = spdlog::level::from_str(o.log_level);
  // from_str maps anything unknown to "off": only accept "off" when it was asked for.
  if (c.log_level == spdlog::level::off && o.log_level != "off")
    throw ConfigError("invalid --log-level '" + o.log_level +
                      "' (trace, debug, info, warn, error, critical or off)");
  for (const auto& b : c.bootstraps)
    if (b == c.bind || (c.advertise && b == *c.advertise))
      throw ConfigError("--bootstrap " + b.to_string() + " is this node's own address");
  return c;
}

}  // namespace forestcast::node
