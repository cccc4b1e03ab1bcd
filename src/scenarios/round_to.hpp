#pragma once
// Rounding for the scenarios' JSON reports: deterministic, so two runs of one seed print the
// same bytes, and short enough to read.
#include <cmath>

namespace forestcast::sim {

inline double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

}  // namespace forestcast::sim
