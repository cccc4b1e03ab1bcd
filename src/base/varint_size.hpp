#pragma once
// Bytes a protobuf varint takes: the closed-form message sizes (simulator traffic estimates,
// multicast encoded_size()) count with it instead of encoding.
#include <cstddef>
#include <cstdint>

namespace forestcast {

constexpr size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace forestcast
