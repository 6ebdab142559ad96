// signet_v1: the core of the closed ABI. One extern "C" function per entry of
// sdk/include/signet/abi_functions.def, named as wasm2c names imports.
//
// Each call validates every argument (offsets, lengths, indices) before it
// changes anything, and reports a bad argument as a status. Only exit and a
// nearly exhausted stack end the calling SIP.
#include "kernel/abi/Abi.h"
#include "kernel/abi/Streams.h"

#include <cerrno>
#include <ctime>
#include <sys/random.h>

namespace signet::abi {

int32_t write_stdio(Sip& sip, uint32_t stream, std::span<uint8_t const> bytes, uint32_t& written)
{
    if ((stream == SIGNET_STDOUT || stream == SIGNET_STDERR) && stream_is_bound(sip, stream))
        return stream_write(sip, stream, bytes, written);
    OutputStream* out = nullptr;
    if (stream == SIGNET_STDOUT)
        out = sip.stdio().out.get();
    else if (stream == SIGNET_STDERR)
        out = sip.stdio().err.get();
    else
        return SIGNET_INVALID_ARGUMENT;
    if (!out)
        return SIGNET_CLOSED;
    auto result = out->write(bytes);
    if (result.is_error())
        return SIGNET_IO;
    written = static_cast<uint32_t>(result.value());
    return SIGNET_OK;
}

int32_t read_stdin(Sip& sip, std::span<uint8_t> buffer, uint32_t& read)
{
    if (stream_is_bound(sip, 0)) {
        auto base = sip.runtime().wasm_memory ? sip.runtime().wasm_memory->data : buffer.data();
        return stream_read(sip, static_cast<uint32_t>(buffer.data() - base), static_cast<uint32_t>(buffer.size()), read);
    }
    auto input = sip.stdio().in;
    if (!input || buffer.empty()) {
        read = 0;
        return SIGNET_OK; // No input: end of file. Nothing asked for: nothing to wait for.
    }
    // The host read fills a buffer the call owns, so a killed SIP's memory is never written late.
    auto call = std::make_shared<Kernel::HostCall>();
    auto staging = std::make_shared<std::vector<uint8_t>>(buffer.size());
    auto outcome = std::make_shared<ErrorOr<size_t>>(size_t(0));
    call->job = [input, staging, outcome] { *outcome = input->read(*staging); };
    if (!sip.kernel().run_on_io_thread(call))
        return read_stdin_killed; // the job still holds the call's buffers: they go when it ends
    if (outcome->is_error())
        return SIGNET_IO;
    size_t n = outcome->value();
    // While this thread waited, a sibling may have sent a block that covered the
    // buffer: check the range again before writing into it.
    GuestMemory memory(sip.runtime());
    auto offset = static_cast<uint32_t>(buffer.data() - (sip.runtime().wasm_memory ? sip.runtime().wasm_memory->data : buffer.data()));
    if (n && !memory.valid(offset, n))
        return SIGNET_OUT_OF_BOUNDS;
    std::memcpy(buffer.data(), staging->data(), n);
    read = static_cast<uint32_t>(n);
    return SIGNET_OK;
}

uint64_t now_ns(uint32_t clock, bool& ok)
{
    clockid_t id;
    switch (clock) {
    case SIGNET_CLOCK_REALTIME:
        id = CLOCK_REALTIME;
        break;
    case SIGNET_CLOCK_MONOTONIC:
        id = CLOCK_MONOTONIC;
        break;
    default:
        ok = false;
        return 0;
    }
    timespec ts {};
    clock_gettime(id, &ts);
    ok = true;
    return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

ClockRead read_clock(Sip& sip, uint32_t clock, uint64_t* out_ns)
{
    switch (clock) {
    case SIGNET_CLOCK_REALTIME:
    case SIGNET_CLOCK_MONOTONIC:
        break;
    case SIGNET_CLOCK_THREAD_CPUTIME:
        // The scheduler counts CPU time per SIP, not per thread: a switch
        // between two threads of one SIP reads no clock (Worker::switch_to).
        // Until a SIP starts a second thread, all its time is its first's.
        if (sip.had_second_thread())
            return ClockRead::Unsupported;
        [[fallthrough]];
    case SIGNET_CLOCK_SIP_CPUTIME:
        if (out_ns)
            *out_ns = sip.cpu_clock_ns();
        return ClockRead::Ok;
    default:
        return ClockRead::Unknown;
    }
    if (out_ns) {
        bool ok = false;
        *out_ns = now_ns(clock, ok);
    }
    return ClockRead::Ok;
}

bool fill_random(std::span<uint8_t> buffer)
{
    size_t done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::getrandom(buffer.data() + done, buffer.size() - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

} // namespace signet::abi

using namespace signet;
using namespace signet::abi;

namespace {
constexpr uint32_t debug_log_limit = 4096;
}

extern "C" {

uint32_t Z_signet_v1Z_abi_version(void*)
{
    return SIGNET_ABI_VERSION;
}

void Z_signet_v1Z_exit(void* host, uint32_t status)
{
    sip_from(host).record_exit({ ExitInfo::How::Exited, static_cast<int32_t>(status), TrapKind::None, {} });
    unwind_current(static_cast<int>(Unwind::Exit));
}

void Z_signet_v1Z_yield(void*)
{
    require_stack_headroom();
    if (Worker::yield_current())
        unwind_current(static_cast<int>(Unwind::Killed));
}

uint32_t Z_signet_v1Z_sleep(void* host, uint64_t nanoseconds)
{
    require_stack_headroom();
    sip_from(host).kernel().sleep_current(nanoseconds);
    leave_if_killed();
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_time_now(void* host, uint32_t clock, uint32_t out)
{
    GuestMemory memory(sip_from(host).runtime());
    if (!memory.valid(out, sizeof(uint64_t)))
        return SIGNET_OUT_OF_BOUNDS;
    uint64_t now = 0;
    switch (read_clock(sip_from(host), clock, &now)) {
    case ClockRead::Ok:
        break;
    case ClockRead::Unknown:
        return SIGNET_INVALID_ARGUMENT;
    case ClockRead::Unsupported:
        return SIGNET_UNSUPPORTED;
    }
    memory.write(out, now);
    return SIGNET_OK;
}

uint64_t Z_signet_v1Z_self_id(void* host)
{
    return sip_from(host).id();
}

uint32_t Z_signet_v1Z_debug_log(void* host, uint32_t text, uint32_t length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (length > debug_log_limit)
        return SIGNET_LIMIT;
    if (!memory.valid(text, length))
        return SIGNET_OUT_OF_BOUNDS;
    uint8_t const* bytes = memory.range(text, length);
    std::string line = "[sip " + std::to_string(sip.id()) + " " + sip.name() + "] ";
    line.append(reinterpret_cast<char const*>(bytes), length);
    line.push_back('\n');
    (void)sip.kernel().diagnostics().write(line);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_random_get(void* host, uint32_t buffer, uint32_t length)
{
    GuestMemory memory(sip_from(host).runtime());
    if (!memory.valid(buffer, length))
        return SIGNET_OUT_OF_BOUNDS;
    uint8_t* bytes = memory.range(buffer, length);
    return fill_random({ bytes, length }) ? SIGNET_OK : SIGNET_IO;
}

uint32_t Z_signet_v1Z_arg_count(void* host)
{
    return static_cast<uint32_t>(sip_from(host).args().size());
}

uint32_t Z_signet_v1Z_arg_get(void* host, uint32_t index, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out_length, sizeof(uint32_t)) || !memory.valid(buffer, capacity))
        return SIGNET_OUT_OF_BOUNDS;
    if (index >= sip.args().size())
        return SIGNET_NOT_FOUND;
    auto const& arg = sip.args()[index];
    memory.write(out_length, static_cast<uint32_t>(arg.size()));
    if (arg.size() > capacity)
        return SIGNET_LIMIT;
    memory.write_bytes(buffer, arg.data(), arg.size());
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_stdio_write(void* host, uint32_t stream, uint32_t data, uint32_t length, uint32_t out_written)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(data, length) || !memory.valid(out_written, sizeof(uint32_t)))
        return SIGNET_OUT_OF_BOUNDS;
    uint8_t const* bytes = memory.range(data, length);
    uint32_t written = 0;
    int32_t status = write_stdio(sip, stream, { bytes, length }, written);
    if (status == SIGNET_OK)
        memory.write(out_written, written);
    return static_cast<uint32_t>(status);
}

uint32_t Z_signet_v1Z_stdio_read(void* host, uint32_t buffer, uint32_t capacity, uint32_t out_read)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(buffer, capacity) || !memory.valid(out_read, sizeof(uint32_t)))
        return SIGNET_OUT_OF_BOUNDS;
    uint8_t* bytes = memory.range(buffer, capacity);
    uint32_t read = 0;
    int32_t status = read_stdin(sip, { bytes, capacity }, read);
    if (status == read_stdin_killed)
        unwind_current(static_cast<int>(Unwind::Killed));
    // The memory may not have moved (memory.grow only extends in place), but re-derive anyway.
    if (status == SIGNET_OK)
        memory.write(out_read, read);
    return static_cast<uint32_t>(status);
}

} // extern "C"


namespace {

// Copies `text` out like arg_get: LIMIT (with the needed length) if it does not fit.
uint32_t copy_out(GuestMemory const& memory, std::string const& text, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    memory.write(out_length, static_cast<uint32_t>(text.size()));
    if (text.size() > capacity)
        return SIGNET_LIMIT;
    memory.write_bytes(buffer, text.data(), text.size());
    return SIGNET_OK;
}

} // namespace

extern "C" {

uint32_t Z_signet_v1Z_param_get(void* host, uint32_t name, uint32_t name_length, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(name, name_length) || !memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    std::string key(reinterpret_cast<char const*>(memory.range(name, name_length)), name_length);
    for (auto const& [parameter, value] : sip.parameters()) {
        if (parameter == key)
            return copy_out(memory, value, buffer, capacity, out_length);
    }
    return SIGNET_NOT_FOUND;
}

uint32_t Z_signet_v1Z_principal_get(void* host, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    return copy_out(memory, sip.principal(), buffer, capacity, out_length);
}

} // extern "C"
