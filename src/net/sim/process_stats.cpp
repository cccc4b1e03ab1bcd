#include "net/sim/process_stats.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace forestcast::sim {

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    double kib = 0;
    fields >> kib;
    return kib / 1024.0;
  }
  return 0.0;
}

}  // namespace forestcast::sim
