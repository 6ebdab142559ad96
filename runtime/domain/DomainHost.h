// The domain host: the process that runs one SIP away from the kernel
// (docs/protection-domains.md). It maps the ring and the SIP's memory it was
// handed, maps the SIP's sealed image, seals itself, says hello over the ring,
// and runs the SIP when the kernel says start. Every ABI call goes to the kernel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace signet::domain {

struct HostOptions {
    std::string image_path;
    std::string module_hash;
    uint64_t memory_bytes { 0 }; // the SIP's memory limit: the size of the memory file
    size_t stack_bytes { 0 };
};

// Runs the domain; returns only on a failure before the SIP starts (a HostExit).
int run_domain_host(HostOptions const&);

} // namespace signet::domain
