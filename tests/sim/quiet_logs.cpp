// Linked into every simulation test binary: thousands of nodes logging every join at info
// level would drown the test output and slow the runs.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace {

class QuietLogs : public ::testing::Environment {
 public:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }
};
const auto* const quiet_logs = ::testing::AddGlobalTestEnvironment(new QuietLogs);

}  // namespace
