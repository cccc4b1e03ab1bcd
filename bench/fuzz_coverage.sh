#!/usr/bin/env bash
# Line and branch coverage that a fuzz corpus reaches: builds the fuzz targets once more with
# clang's source-based coverage (build-fuzz-cov/), replays every input of the corpus directories
# once, and prints llvm-cov's report for the codec, the runtime and the Pastry core.
#
#   bench/fuzz_coverage.sh TARGET CORPUS_DIR...     (TARGET: envelope | receive_path)
#
# Needs llvm-14's llvm-profdata and llvm-cov (Debian package llvm-14; not needed by ./run).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target=$1
shift
cov="$here/build-fuzz-cov"
cmake -S "$here" -B "$cov" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DFORESTCAST_FUZZ=ON -DFORESTCAST_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
  -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
cmake --build "$cov" --target "fuzz_$target" >/dev/null
bin="$cov/tests/fuzz/fuzz_$target"
rm -f "$cov/$target".prof*
LLVM_PROFILE_FILE="$cov/$target.profraw" "$bin" -runs=0 "$@" 2>"$cov/$target.replay.log"
grep -E 'INITED|DONE' "$cov/$target.replay.log" || true
llvm-profdata-14 merge -sparse "$cov/$target.profraw" -o "$cov/$target.profdata"
llvm-cov-14 report "$bin" -instr-profile="$cov/$target.profdata" \
  "$here/src/net/wire/codec.cpp" "$here"/src/overlay/*.cpp
