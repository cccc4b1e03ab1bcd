#pragma once
// Resource figures of this process for the perf section of simulation reports.

namespace forestcast::sim {

// Peak resident set size (VmHWM in /proc/self/status) in MiB; 0 when unavailable.
double peak_rss_mb();

// CPU seconds (user + system) this process used so far. Next to wall time it shows how much a
// busy machine slowed a run down.
double cpu_seconds();

}  // namespace forestcast::sim
