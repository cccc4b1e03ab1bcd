#pragma once
// Log setup for the daemon (STYLE.md 8): one logger per module ("node", "net", and the core's
// "pastry"), all to stderr, each line carrying the short node id; human-readable by default,
// one JSON object per line with --log-json.
#include <spdlog/spdlog.h>

#include <string>

namespace forestcast::node {

void setup_logging(bool json, spdlog::level::level_enum level, const std::string& short_id);

// The "node" module's logger (set up by setup_logging, or a clone of the default before).
spdlog::logger& node_log();

}  // namespace forestcast::node
