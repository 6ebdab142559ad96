// The kernel executes an ABI call that arrived over a domain's ring: the same
// implementation a SIP in the kernel domain reaches, on the SIP's proxy thread.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace signet {

class Sip;
class ThreadHandle;

// Whether a function can be served across the boundary (all are now).
bool domain_call_supported(uint32_t function);

// The thread calls whose kernel side knows it serves a domain (DomainSip.cpp).
uint32_t domain_thread_create_call();
uint32_t domain_thread_exit_call();

// thread_create(function, argument, stack_top, out_thread) for a SIP in a
// domain. The domain checked what only it can see (the module's shadow stack
// and its table); this checks the rest exactly as for a SIP in the kernel —
// the out pointer, the stack top, handle space — and then `start(stack_top)`
// starts the thread: a proxy thread in the kernel and its fiber in the domain.
uint64_t domain_thread_create(Sip&, uint64_t const* arguments, std::function<ErrorOr<std::shared_ptr<ThreadHandle>>(uint32_t stack_top)> const& start);

// Runs function `function` (an index into ring::abi_calls, already checked)
// with `arguments` (already checked against its signature) for `sip`. May
// block the calling fiber, or end it (exit, a trap the kernel imposes).
uint64_t execute_domain_call(Sip&, uint32_t function, uint64_t const* arguments);

// What the calls so far changed in the SIP's memory that the domain must apply
// to its own mapping (exchange-heap blocks: holes revoked, ranges given back,
// growth), encoded (encode_remote_changes in runtime/BlockArena.h); empty if
// nothing. The kernel sends it (ring::ToDomainType::MemoryChanges) before the
// Result of the call that made them, so the domain applies them before the
// SIP's code runs again.
std::vector<uint8_t> take_domain_memory_changes(Sip&);

} // namespace signet
