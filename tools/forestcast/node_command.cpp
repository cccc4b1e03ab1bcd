// `forestcast node`: option parsing lives with the daemon (src/node/node_config) so the config
// file and the flags share one definition; this file only plugs it into the CLI.
#include <memory>

#include "commands.hpp"
#include "node/daemon.hpp"
#include "node/node_config.hpp"

namespace forestcast::tools {

CommandMain add_node_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("node", "Run a forestcast node (the daemon)");
  auto options = std::make_shared<node::NodeOptions>();
  node::add_node_options(*cmd, *options);
  // Validation errors throw (ConfigError, NodeKeyError); main prints one line and exits 2.
  return [options] { return node::run_node(node::make_node_config(*options)); };
}

}  // namespace forestcast::tools
