// The domain side of an ABI call: every import function of a SIP hosted in a
// domain process is a stub (generated from the ABI lists) that comes here.
#pragma once

#include <cstdint>

namespace signet::domain {

// Sends the call over the ring and waits for its result. Does not return if the
// kernel ends the SIP instead (exit, kill, a trap the kernel imposed): the
// kernel then ends this process.
uint64_t forward(uint32_t function, uint64_t const* arguments, uint32_t count);

} // namespace signet::domain
