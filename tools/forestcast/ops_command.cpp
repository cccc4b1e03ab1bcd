// `forestcast cluster ...` and `forestcast status ...`: the operator's tools are a Python program
// (tools/ops, standard library only) installed next to this binary as ops/. These subcommands
// hand it every remaining argument, unparsed, and tell it where this binary is so the nodes it
// starts run the same build.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"

namespace forestcast::tools {
namespace {

namespace fs = std::filesystem;

fs::path self_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p;
}

// FORESTCAST_OPS_DIR overrides; otherwise ops/ next to the binary, then the installed layout.
// Sets `unreadable` to a candidate that is there but that this user cannot read (a checkout in a
// 0700 directory run as another user), so the error names the real cause.
std::optional<fs::path> find_ops_tool(const fs::path& exe, std::optional<fs::path>& unreadable) {
  std::vector<fs::path> candidates;
  if (const char* dir = std::getenv("FORESTCAST_OPS_DIR")) candidates.emplace_back(dir);
  candidates.push_back(exe.parent_path() / "ops");
  candidates.push_back(exe.parent_path().parent_path() / "share" / "forestcast" / "ops");
  for (const auto& dir : candidates) {
    const fs::path tool = dir / "forestcast_ops.py";
    std::error_code ec;
    const bool file = fs::is_regular_file(tool, ec);
    if (file && ::access(tool.c_str(), R_OK) == 0) return tool;
    if ((file || ec == std::errc::permission_denied) && !unreadable) unreadable = tool;
  }
  return std::nullopt;
}

int exec_ops_tool(const std::string& command, const std::vector<std::string>& args) {
  const fs::path exe = self_executable();
  std::optional<fs::path> unreadable;
  const auto tool = find_ops_tool(exe, unreadable);
  if (!tool) {
    if (unreadable)
      std::cerr << "forestcast " << command << ": the operator tools (" << unreadable->string()
                << ") cannot be read by this user (uid " << ::getuid()
                << "): check the permissions of that file and of every directory above it\n";
    else
      std::cerr << "forestcast " << command
                << ": the operator tools (ops/forestcast_ops.py) are not installed next to "
                << exe.string() << "\n";
    return 2;
  }
  std::vector<std::string> argv = {"python3", tool->string(), command};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  ::setenv("FORESTCAST_BINARY", exe.c_str(), 1);
  ::execvp("python3", raw.data());
  std::cerr << "forestcast " << command << ": cannot run python3: " << std::strerror(errno) << "\n";
  return 2;
}

CommandMain add_forwarded(CLI::App& app, const std::string& name, const std::string& what) {
  CLI::App* sub = app.add_subcommand(name, what);
  sub->prefix_command();  // everything after the name goes to the tool untouched
  sub->set_help_flag();   // ... including --help, which the tool answers
  return [sub, name] { return exec_ops_tool(name, sub->remaining()); };
}

}  // namespace

CommandMain add_cluster_command(CLI::App& app) {
  return add_forwarded(app, "cluster",
                       "Start, inspect, kill and stop a local cluster of nodes (up, status, "
                       "kill, restart, down; --help for details)");
}

CommandMain add_status_command(CLI::App& app) {
  return add_forwarded(app, "status", "Print a node's state as a table: status HOST:PORT");
}

}  // namespace forestcast::tools
