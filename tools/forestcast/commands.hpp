#pragma once
// Each subcommand of `forestcast` registers its options on the shared CLI11 app and returns the
// function that runs it once parsing succeeded. Exit codes: 0 ok, 1 runtime failure, 2 bad usage
// or configuration (one clear line on stderr).
#include <CLI/CLI.hpp>
#include <functional>

namespace forestcast::tools {

using CommandMain = std::function<int()>;

CommandMain add_node_command(CLI::App& app);
CommandMain add_sim_command(CLI::App& app);
// Forwarded to the Python operator tool installed next to the binary (ops_command.cpp).
CommandMain add_cluster_command(CLI::App& app);
CommandMain add_status_command(CLI::App& app);

}  // namespace forestcast::tools
