// Running the external C compiler: posix_spawn, never a shell.
#pragma once

#include "base/ErrorOr.h"

#include <string>
#include <vector>

namespace signet::installer {

struct ProcessResult {
    int exit_status { 0 };   // Valid when term_signal == 0.
    int term_signal { 0 };   // The signal that killed it, or 0.
    std::string output;      // stdout and stderr interleaved, at most max_output bytes.
    bool output_truncated { false };

    bool succeeded() const { return term_signal == 0 && exit_status == 0; }
    // "exit status 1" or "killed by Segmentation fault".
    std::string describe() const;
};

// Runs argv[0] (found on PATH) with the given arguments, stdin from /dev/null,
// stdout and stderr captured. An Io error means it could not be started at all.
ErrorOr<ProcessResult> run_process(std::vector<std::string> const& argv, size_t max_output = 64 * 1024);

// Splits on spaces and tabs.
std::vector<std::string> split_words(std::string const& text);

} // namespace signet::installer
