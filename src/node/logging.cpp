#include "node/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <nlohmann/json.hpp>

#include "base/log.hpp"

namespace forestcast::node {
namespace {

// One JSON object per line. Built by nlohmann::json so quotes and control characters in
// messages are always escaped correctly.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string node) : node_(std::move(node)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch);
    nlohmann::json line = {
        {"ts", static_cast<double>(micros.count()) / 1e6},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"node", node_},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    const std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(node_);
  }

 private:
  std::string node_;
};

std::shared_ptr<spdlog::logger> get_or_create(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto made = std::make_shared<spdlog::logger>(name);
  spdlog::register_logger(made);
  return made;
}

}  // namespace

const std::vector<std::string>& log_modules() {
  static const std::vector<std::string> modules = {"node",   "net",         "pastry",
                                                   "scribe", "splitstream", "media"};
  return modules;
}

void setup_logging(bool json, spdlog::level::level_enum level,
                   const std::map<std::string, spdlog::level::level_enum>& module_levels,
                   const std::string& short_id) {
  // Loggers may already exist (a module logged before setup): reconfigure them in place, so
  // every holder of the pointer sees the new sink and format.
  for (const std::string& name : log_modules()) {
    auto logger = get_or_create(name);
    // A sink holds the formatter, so each logger needs its own to keep its own line format.
    logger->sinks() = {std::make_shared<spdlog::sinks::stderr_sink_mt>()};
    if (json) {
      logger->set_formatter(std::make_unique<JsonFormatter>(short_id));
    } else if (name == "pastry") {
      // The core already starts each line with its short id.
      logger->set_formatter(
          std::make_unique<spdlog::pattern_formatter>("%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v"));
    } else {
      logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
          "%Y-%m-%d %H:%M:%S.%e %-5l [%n] " + short_id + " %v"));
    }
    const auto own = module_levels.find(name);
    logger->set_level(own != module_levels.end() ? own->second : level);
    logger->flush_on(spdlog::level::warn);
  }
  auto fallback = get_or_create("node")->clone("forestcast");
  spdlog::set_default_logger(fallback);
}

spdlog::logger& node_log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("node");
  return *logger;
}

}  // namespace forestcast::node
