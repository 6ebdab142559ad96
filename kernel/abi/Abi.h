// Shared helpers for the ABI families (signet_v1 core, WASI personality).
#pragma once

#include "kernel/Kernel.h"
#include "kernel/abi/GuestMemory.h"
#include "kernel/object/Sip.h"
#include "kernel/sched/Worker.h"

#include <signet/abi.h>

namespace signet::abi {

// The import functions receive the `host` pointer the image was instantiated
// with: the SIP itself (see Kernel::thread_entry).
inline Sip& sip_from(void* host) { return *static_cast<Sip*>(host); }

// Kernel code runs on the SIP's fiber stack. Calls that may switch fibers or
// do real work first make sure there is room, so kernel code never runs into
// the guard page: a SIP that is nearly out of stack traps instead.
inline void require_stack_headroom()
{
    static constexpr uintptr_t headroom = 48 * 1024;
    SipContext* sip = current_sip_context;
    auto sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    if (sip && sp < sip->stack.low + headroom)
        unwind_current(static_cast<int>(TrapKind::StackExhausted));
}

// A killed thread leaves at its next kernel call or suspension point.
inline void leave_if_killed()
{
    Thread* thread = Worker::current_thread();
    if (thread && thread->kill_requested())
        unwind_current(static_cast<int>(Unwind::Killed));
}

// Writes to the SIP's stdout or stderr.
int32_t write_stdio(Sip&, uint32_t stream, std::span<uint8_t const>, uint32_t& written);
// Reads from the SIP's stdin on the I/O thread, blocking only the fiber.
int32_t read_stdin(Sip&, std::span<uint8_t>, uint32_t& read);
uint64_t now_ns(uint32_t clock, bool& ok);
void sleep_ns(uint64_t);
// Fills with bytes from the host's CSPRNG.
bool fill_random(std::span<uint8_t>);

// Checks at compile time that a C++ ABI function has the wasm signature in a .def list.
template<typename T>
constexpr char wasm_letter()
{
    if constexpr (std::is_same_v<T, uint32_t>)
        return 'i';
    else if constexpr (std::is_same_v<T, uint64_t>)
        return 'I';
    else if constexpr (std::is_same_v<T, float>)
        return 'f';
    else if constexpr (std::is_same_v<T, double>)
        return 'F';
    else
        return '?';
}

template<typename R, typename... Args>
constexpr bool signature_is(R (*)(void*, Args...), char const* params, char const* results)
{
    char const letters[] = { wasm_letter<Args>()..., '\0' };
    auto equal = [](char const* a, char const* b) {
        while (*a && *a == *b) {
            ++a;
            ++b;
        }
        return *a == *b;
    };
    if (!equal(letters, params))
        return false;
    if constexpr (std::is_void_v<R>)
        return results[0] == '\0';
    else
        return results[0] == wasm_letter<R>() && results[1] == '\0';
}

} // namespace signet::abi
