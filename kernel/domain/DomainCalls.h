// The kernel executes an ABI call that arrived over a domain's ring: the same
// implementation a SIP in the kernel domain reaches, on the SIP's proxy thread.
#pragma once

#include <cstdint>

namespace signet {

class Sip;

// Whether a function can be served across the boundary yet. Exchange-heap
// blocks and threads need more than the ring carries today (FIXME): their calls
// get SIGNET_UNSUPPORTED.
bool domain_call_supported(uint32_t function);

// Runs function `function` (an index into ring::abi_calls, already checked)
// with `arguments` (already checked against its signature) for `sip`. May
// block the calling fiber, or end it (exit, a trap the kernel imposes).
uint64_t execute_domain_call(Sip&, uint32_t function, uint64_t const* arguments);

} // namespace signet
