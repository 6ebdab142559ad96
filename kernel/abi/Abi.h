// Shared helpers for the ABI families (signet_v1 core, WASI personality).
#pragma once

#include "kernel/Kernel.h"
#include "kernel/abi/GuestMemory.h"
#include "kernel/object/Sip.h"
#include "kernel/sched/Worker.h"

#include <signet/abi.h>

#include <algorithm>
#include <functional>
#include <type_traits>
#include <utility>

// The C++ type of an import function from its wasm signature in a .def list:
// i32 -> uint32_t, i64 -> uint64_t, f32 -> float, f64 -> double, and the host
// pointer first.
namespace signet::abi::detail {

template<size_t N>
struct Letters {
    char text[N] {};
    constexpr Letters(char const (&source)[N])
    {
        for (size_t i = 0; i < N; ++i)
            text[i] = source[i];
    }
    constexpr size_t size() const { return N - 1; }
};

template<char C>
using WasmType = std::conditional_t<C == 'i', uint32_t, std::conditional_t<C == 'I', uint64_t, std::conditional_t<C == 'f', float, double>>>;

template<Letters Params, Letters Results, typename = std::make_index_sequence<Params.size()>>
struct FunctionOf;

template<Letters Params, Letters Results, size_t... I>
struct FunctionOf<Params, Results, std::index_sequence<I...>> {
    static_assert(Results.size() <= 1, "one result at most");
    using Result = std::conditional_t<Results.size() == 0, void, WasmType<Results.text[0]>>;
    using type = Result(void*, WasmType<Params.text[I]>...);
};

} // namespace signet::abi::detail

// Every import function, declared from the lists. A definition with another
// signature does not compile, and a missing one does not link into the kernel.
#define SIGNET_ABI(name, wasm_params, wasm_results, c_result, c_params) \
    extern "C" signet::abi::detail::FunctionOf<wasm_params, wasm_results>::type Z_signet_v1Z_##name;
#include <signet/abi_functions.def>
#undef SIGNET_ABI
#define WASI_FUNCTION(name, wasm_params, wasm_results) \
    extern "C" signet::abi::detail::FunctionOf<wasm_params, wasm_results>::type Z_wasi_snapshot_preview1Z_##name;
#include "kernel/abi/WasiFunctions.def"
#undef WASI_FUNCTION

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
// Returns a status, or read_stdin_killed if the thread was killed while it
// waited: the caller unwinds (Unwind::Killed) once nothing it holds owns memory.
inline constexpr int32_t read_stdin_killed = -1;
int32_t read_stdin(Sip&, std::span<uint8_t>, uint32_t& read);
uint64_t now_ns(uint32_t clock, bool& ok);
// Every clock a SIP can read: signet_time_now's SIGNET_CLOCK_*, whose ids are
// WASI's too (realtime, monotonic, the SIP's CPU time, the calling thread's).
enum class ClockRead : uint8_t {
    Ok,
    Unknown,     // no such clock
    Unsupported, // the thread's CPU-time clock, in a SIP that has had more than one thread
};
// Reads `clock` for a thread of `sip` into `out_ns` (unless null, which only asks whether it answers).
ClockRead read_clock(Sip&, uint32_t clock, uint64_t* out_ns);
// The monotonic deadline of a guest timeout: negative waits forever (UINT64_MAX).
inline uint64_t deadline_after(int64_t timeout_ns)
{
    if (timeout_ns < 0)
        return UINT64_MAX;
    bool ok = false;
    uint64_t now = now_ns(SIGNET_CLOCK_MONOTONIC, ok);
    return now + std::min<uint64_t>(uint64_t(timeout_ns), UINT64_MAX - now - 1);
}
void sleep_ns(uint64_t);
// The last steps of thread_create, for a SIP in the kernel and one in a domain
// alike, once the caller checked the out pointer, the stack top and the entry:
// a free handle slot (else LIMIT), the thread started by `start` (LIMIT if it
// cannot be), and its handle inserted and written to `out_thread`.
uint32_t finish_thread_create(Sip&, uint32_t out_thread, std::function<ErrorOr<std::shared_ptr<ThreadHandle>>()> const& start);
// Fills with bytes from the host's CSPRNG.
bool fill_random(std::span<uint8_t>);

} // namespace signet::abi
