// How the kernel starts a domain process and what it hands it: shared by the
// kernel (kernel/domain/DomainProcess.cpp) and the domain host (DomainHost.cpp).
#pragma once

#include <cstdint>

namespace signet::domain {

// The descriptors a domain process starts with, and nothing else besides the
// standard streams (which it points at /dev/null before it seals).
inline constexpr int ring_fd = 3;       // the ring's memory file (runtime/ring/Ring.h)
inline constexpr int memory_fd = 4;     // memory slot 0: a SIP's linear memory, a sealed memory file
inline constexpr int to_kernel_fd = 5;  // eventfd: the domain rings it after publishing
inline constexpr int to_domain_fd = 6;  // eventfd: the kernel rings it after publishing
// A shared domain gets more memory slots, one sealed memory file each: slot 0 at
// memory_fd, slot i > 0 at to_domain_fd + i.
inline constexpr int memory_slot_fd(unsigned slot) { return slot == 0 ? memory_fd : to_domain_fd + int(slot); }

// Named limits: SIPs a domain hosts at once (its memory slots), and images it maps.
inline constexpr unsigned max_slots = 16;
inline constexpr unsigned max_images = 16;
// And the longest quantum a domain takes: a minute.
inline constexpr uint64_t max_quantum_us = 60'000'000;

// The executable, found beside the `signet` binary.
inline constexpr char const* host_executable_name = "signet-domain";

// Exit statuses of a domain host that fails before its SIP runs.
enum class HostExit : int {
    BadArguments = 64,
    CannotMap = 65,
    BadImage = 66,
    CannotSeal = 67,
    RingBroken = 68,
};

} // namespace signet::domain
