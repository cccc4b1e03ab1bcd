#pragma once
// Protocol time. Cores never read a clock: every entry point takes `now` from its driver
// (the Asio runtime passes steady time since start, the simulator its virtual clock).
#include <chrono>
#include <cstdint>
#include <limits>

namespace forestcast {

using Duration = std::chrono::microseconds;
// Time since the driver's epoch. A plain duration keeps arithmetic trivial; the epoch is
// whatever the driver chose and never leaves the process.
using Time = std::chrono::microseconds;

inline constexpr Time kNever = Time{std::numeric_limits<int64_t>::max()};

constexpr Duration ms(int64_t v) { return std::chrono::milliseconds{v}; }
constexpr Duration seconds(int64_t v) { return std::chrono::seconds{v}; }
constexpr double to_ms(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace forestcast
