// Linux processes for the benchmarks' Linux columns: run a program, capture
// its standard output, and time it from spawn to reaped.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace signet::bench {

struct ProcessResult {
    int exit_status { -1 }; // WEXITSTATUS, or 128 + signal
    std::string out;
    // From just before posix_spawn to just after waitpid, CLOCK_MONOTONIC.
    uint64_t wall_ns { 0 };
};

// posix_spawn()s `path` with `args` (args[0] is the program name), its stdout
// into a pipe we read to the end, its stderr inherited; waits for it.
ErrorOr<ProcessResult> run_process(std::string const& path, std::vector<std::string> const& args);

} // namespace signet::bench
