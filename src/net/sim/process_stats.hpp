#pragma once
// Resource figures of this process for the perf section of simulation reports.

namespace forestcast::sim {

// Peak resident set size (VmHWM in /proc/self/status) in MiB; 0 when unavailable.
double peak_rss_mb();

}  // namespace forestcast::sim
