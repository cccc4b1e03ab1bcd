// libFuzzer target: a node's whole receive path (decode, then PastryNode::on_message, with
// timers fired between datagrams) on an active node with a populated state. The input is a
// sequence of records (receive_path_harness.hpp); each run starts from the same fresh node, so
// a saved crash input replays exactly.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "receive_path_harness.hpp"

using namespace forestcast;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Every run starts a ring and logs it: silence, or logging is all the fuzzer would measure.
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::ReceivePathHarness harness;
  for (const fuzz::Record& r : fuzz::parse_records(std::span<const uint8_t>(data, size)))
    harness.feed(r);
  return 0;
}
