#include <exception>
#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"forestcast: peer-to-peer live video over a Pastry/Scribe/SplitStream overlay"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "forestcast 0.1.0");
  auto node = forestcast::tools::add_node_command(app);
  auto sim = forestcast::tools::add_sim_command(app);
  auto cluster = forestcast::tools::add_cluster_command(app);
  auto status = forestcast::tools::add_status_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "forestcast: " << e.what() << "\n";
    return 2;
  }
  try {
    if (app.got_subcommand("node")) return node();
    if (app.got_subcommand("sim")) return sim();
    if (app.got_subcommand("cluster")) return cluster();
    if (app.got_subcommand("status")) return status();
  } catch (const std::exception& e) {
    std::cerr << "forestcast: " << e.what() << "\n";
    return 2;
  }
  return 2;
}
