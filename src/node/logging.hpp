#pragma once
// Log setup for the daemon (STYLE.md 8): one logger per module ("node", "net", the core's
// "pastry", and the layers to come), all to stderr, each line carrying the short node id;
// human-readable by default, one JSON object per line with --log-json.
#include <spdlog/spdlog.h>

#include <map>
#include <string>
#include <vector>

namespace forestcast::node {

// The modules that have a logger; --log-level MODULE=LEVEL accepts these names.
const std::vector<std::string>& log_modules();

// `level` for every module, except those named in `module_levels`.
void setup_logging(bool json, spdlog::level::level_enum level,
                   const std::map<std::string, spdlog::level::level_enum>& module_levels,
                   const std::string& short_id);

// The "node" module's logger (set up by setup_logging, or a clone of the default before).
spdlog::logger& node_log();

}  // namespace forestcast::node
