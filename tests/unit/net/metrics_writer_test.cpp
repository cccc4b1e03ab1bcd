// The Prometheus 0.0.4 writer: HELP and TYPE before samples, the forestcast_ prefix, label
// values and help text escaped as the format requires, floats in Go's spelling.
#include <gtest/gtest.h>

#include <limits>

#include "node/metrics.hpp"

namespace forestcast::node {
namespace {

TEST(MetricsWriter, FamilyLinesThenSamplesWithEscapedLabels) {
  MetricsWriter w;
  w.family("stripe_packets_total", "counter", "Packets per stripe.\nSecond line \\ here.");
  w.sample(uint64_t{7}, {{"stream", "cam \"one\"\\x"}, {"stripe", "3"}});
  w.sample(uint64_t{0}, {{"stream", "line\nbreak"}, {"stripe", "4"}});
  EXPECT_EQ(w.text(),
            "# HELP forestcast_stripe_packets_total Packets per stripe.\\nSecond line \\\\ here.\n"
            "# TYPE forestcast_stripe_packets_total counter\n"
            "forestcast_stripe_packets_total{stream=\"cam \\\"one\\\"\\\\x\",stripe=\"3\"} 7\n"
            "forestcast_stripe_packets_total{stream=\"line\\nbreak\",stripe=\"4\"} 0\n");
}

TEST(MetricsWriter, FloatsInTheFormatsSpelling) {
  MetricsWriter w;
  w.family("g", "gauge", "g");
  w.sample(0.25);
  w.sample(std::numeric_limits<double>::infinity(), {{"k", "inf"}});
  w.sample(-std::numeric_limits<double>::infinity(), {{"k", "-inf"}});
  w.sample(std::numeric_limits<double>::quiet_NaN(), {{"k", "nan"}});
  EXPECT_NE(w.text().find("forestcast_g 0.25\n"), std::string::npos);
  EXPECT_NE(w.text().find("forestcast_g{k=\"inf\"} +Inf\n"), std::string::npos);
  EXPECT_NE(w.text().find("forestcast_g{k=\"-inf\"} -Inf\n"), std::string::npos);
  EXPECT_NE(w.text().find("forestcast_g{k=\"nan\"} NaN\n"), std::string::npos);
}

}  // namespace
}  // namespace forestcast::node
