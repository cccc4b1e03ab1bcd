#pragma once
// Per-module loggers ("pastry", "net", "node", ...): the one registered under that name (the
// daemon registers them with its sinks at start-up), or a clone of the default logger. Call it
// once per module and keep the reference: spdlog's registry lookup takes a lock.
#include <spdlog/spdlog.h>

#include <memory>

namespace forestcast {

inline std::shared_ptr<spdlog::logger> module_logger(const char* name) {
  if (auto existing = spdlog::get(name)) return existing;
  auto made = spdlog::default_logger()->clone(name);
  spdlog::register_logger(made);
  return made;
}

}  // namespace forestcast
