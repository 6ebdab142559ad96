// The Signet side of the benchmarks: guest modules installed into the
// benchmark's own store, and a kernel to run them in.
#pragma once

#include "base/ErrorOr.h"
#include "installer/Installer.h"
#include "kernel/Kernel.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace signet::bench {

// Installs a guest module into `store_dir` (a cache hit after the first run),
// never into the user's store.
ErrorOr<installer::ImageInfo> install_guest(std::string const& wasm_path, std::string const& store_dir);

class SipHost {
public:
    // The kernel's threads inherit the calling thread's CPU affinity: pin first.
    static ErrorOr<std::unique_ptr<SipHost>> create(unsigned workers);

    ErrorOr<std::shared_ptr<Image>> load(installer::ImageInfo const&);

    struct RunResult {
        ExitInfo exit;
        std::string out; // everything the SIP wrote to its stdout
        // From just before Kernel::spawn to just after wait_from_host returned, CLOCK_MONOTONIC.
        uint64_t wall_ns { 0 };
    };
    // Spawns one SIP with `args` (args[0] is the program name), its stdout
    // captured and its stderr the host's, and waits for it to finish.
    ErrorOr<RunResult> run(std::shared_ptr<Image>, std::vector<std::string> args);

    Kernel& kernel() { return *m_kernel; }

private:
    explicit SipHost(std::unique_ptr<Kernel> kernel)
        : m_kernel(std::move(kernel))
    {
    }

    std::unique_ptr<Kernel> m_kernel;
};

// "exited with 3", "trapped: out of bounds ...", "killed: ..." for failure messages.
std::string describe_exit(ExitInfo const&);

} // namespace signet::bench
