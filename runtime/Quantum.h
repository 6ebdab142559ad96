// The scheduler's default quantum: how long a SIP thread computes before it is
// preempted, on a kernel worker and in a domain process alike (KernelConfig::quantum
// sets another; docs/scheduler.md).
#pragma once

#include <chrono>

namespace signet {

inline constexpr std::chrono::microseconds default_quantum { 10'000 };

} // namespace signet
