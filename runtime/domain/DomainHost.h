// The domain host: the process that runs SIPs away from the kernel
// (docs/protection-domains.md). It maps the ring and the memory slots it was
// handed, maps every image it will ever run, seals itself, says hello over the
// ring, and then runs what the kernel tells it to: each SIP thread a fiber on
// its own guarded stack, each SIP with its own linear memory in its own memory
// slot. Every ABI call goes to the kernel.
#pragma once

#include "runtime/Quantum.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace signet::domain {

struct HostOptions {
    struct ImageFile {
        std::string path;
        std::string module_hash;
    };
    std::vector<ImageFile> images;
    uint64_t memory_bytes { 0 }; // each memory slot's size: the most a SIP's memory grows to
    size_t stack_bytes { 0 };    // each SIP thread's native stack
    unsigned slots { 1 };
    // How long a fiber may compute before it is preempted, the kernel's quantum; 0: never.
    uint64_t quantum_us { uint64_t(default_quantum.count()) };
};

// Runs the domain; returns only on a failure before it said hello (a HostExit).
int run_domain_host(HostOptions const&);

} // namespace signet::domain
