// The system C compiler, which turns wasm2c's output and the glue into image.so.
#pragma once

#include "base/ErrorOr.h"

#include <string>
#include <vector>

namespace signet::installer {

struct CompileJob {
    std::vector<std::string> compiler;     // "cc", or e.g. {"ccache", "cc"}
    std::vector<std::string> optimization; // e.g. {"-O2"}
    std::string include_dir;               // holds sip.h, ImageAbi.h and wasm-rt.h
    std::vector<std::string> sources;      // absolute paths
    std::string output;                    // absolute path of the shared object
};

// The flags every image is built with, whatever the optimization level: position
// independent, hidden by default (only signet_image is exported), frame pointers
// for the kernel's backtraces, stack-clash probes so big frames touch the guard
// page, and a hardened, eagerly bound, non-executable-stack shared object.
std::vector<std::string> image_compile_flags();

// Compiles and links. A failure is a Toolchain error whose message carries the
// first part of the compiler's output.
ErrorOr<void> compile_image(CompileJob const&);

// The first line of `<compiler> --version`; remembered per compiler for the process.
ErrorOr<std::string> c_compiler_version(std::vector<std::string> const& compiler);

} // namespace signet::installer
