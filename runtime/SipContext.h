// The runtime's view of one running SIP instance: what our implementation of
// wasm-rt.h needs to serve the generated code, and what the fault handler
// needs to attribute a fault to the right SIP.
//
// wasm2c's runtime functions take no context argument, so the runtime finds
// the SIP through `current_sip_context`, an initial-exec thread-local that the
// scheduler sets on every switch. Initial-exec keeps it readable from a signal
// handler (no __tls_get_addr, no malloc).
#pragma once

#include "runtime/BlockArena.h"
#include "runtime/LinearMemory.h"
#include "runtime/Trap.h"

#include <csetjmp>
#include <cstdint>
#include <vector>

extern "C" {
#include <wasm-rt.h>
}

namespace signet {

class Image;

// Where execution goes when the SIP's current thread must stop: a trap, an
// exit, or a kill. Each SIP thread (fiber) has its own.
struct TrapTarget {
    jmp_buf jump_buffer;
    // Set by the fault handler, for the report.
    void const* fault_address { nullptr };
    void const* fault_pc { nullptr };
};

// Values passed through _longjmp to the TrapTarget, besides TrapKind values.
enum class Unwind : int {
    Exit = 0x100,   // the SIP asked to exit
    Killed = 0x101, // the kernel ended it
    ThreadExit = 0x102, // one thread of the SIP ended itself
};

struct StackRange {
    uintptr_t guard_low { 0 }; // lowest address of the guard region
    uintptr_t low { 0 };       // lowest usable address
    uintptr_t high { 0 };      // one past the highest usable address
};

class SipContext {
public:
    SipContext() = default;
    ~SipContext() { release_resources(); }
    SipContext(SipContext const&) = delete;
    SipContext& operator=(SipContext const&) = delete;

    // Limits the generated code may not exceed. memory.grow past them fails (returns -1).
    uint64_t memory_limit_bytes { 256ull << 20 };
    uint32_t table_limit_elements { 1u << 20 };

    // Code of this SIP, for "is the faulting PC in SIP code?".
    uintptr_t text_low { 0 };
    uintptr_t text_high { 0 };

    // The fiber currently running on behalf of this SIP.
    TrapTarget* trap_target { nullptr };
    StackRange stack;

    // The one memory a Signet module may define (the installer refuses more).
    LinearMemory memory;
    wasm_rt_memory_t* wasm_memory { nullptr };
    // The module's declared maximum (at most LinearMemory::max_pages), known
    // from just before the memory is allocated: a domain tells the kernel with
    // every growth (ring::GrowMemory).
    uint32_t memory_maximum_pages { 0 };
    // Exchange-heap blocks inside that memory, and their quota.
    BlockArena blocks;
    uint64_t exchange_limit_bytes { 64ull << 20 };
    std::vector<wasm_rt_funcref_table_t*> funcref_tables;
    std::vector<wasm_rt_externref_table_t*> externref_tables;

    // Frees memory and tables. Runs after the SIP's last thread stopped.
    void release_resources();

    bool pc_in_code(uintptr_t pc) const { return pc >= text_low && pc < text_high; }
};

// The SIP whose code this worker thread is running, or null in kernel code.
extern constinit thread_local SipContext* current_sip_context __attribute__((tls_model("initial-exec")));

// Ends the current SIP thread: jumps to its trap target. Never returns.
[[noreturn]] void unwind_current(int code);

} // namespace signet
