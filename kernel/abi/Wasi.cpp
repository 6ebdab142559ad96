// The WASI preview1 personality: unmodified wasm32-wasi programs run sealed.
//
// It is a trusted layer built on the same kernel operations as signet_v1
// (stdio streams, clocks, randomness, yield, sleep, exit) and grants nothing
// else: a program sees only the arguments and the environment it was given,
// the three standard streams, and the directories it was given (WasiFiles.cpp:
// descriptors from 3 up, served over FileSystem channels). Calls Signet does
// not implement answer ENOSYS; calls on descriptors that are not open answer
// EBADF; calls that need a right a descriptor lacks answer ENOTCAPABLE. No
// call faults the kernel.
#include "kernel/abi/Abi.h"
#include "kernel/abi/Streams.h"
#include "kernel/abi/WasiFiles.h"

#include <algorithm>
#include <vector>

using namespace signet;
using namespace signet::abi;

namespace {

// WASI errno values used here.
enum Errno : uint32_t {
    Success = 0,
    TooBig = 1,
    BadFd = 8,
    Fault = 21,
    Inval = 28,
    Io = 29,
    NoSys = 52,
    NotDir = 54,
    NotSup = 58,
    SPipe = 70,
    NotCapable = 76,
};

enum : uint8_t { FiletypeUnknown = 0, FiletypeCharacterDevice = 2 };

// Rights (a subset).
constexpr uint64_t right_fd_read = 1ull << 1;
constexpr uint64_t right_fd_write = 1ull << 6;
constexpr uint64_t right_poll_fd_readwrite = 1ull << 27;

constexpr uint32_t max_iovecs = 1024;
constexpr uint64_t max_gather_bytes = 16ull << 20;

// Descriptors 0-2 are the standard streams; nothing else is ever open.
bool is_stdio(uint32_t fd) { return fd <= 2; }
bool is_open(Sip& sip, uint32_t fd) { return is_stdio(fd) && !(sip.wasi_closed_stdio & (1u << fd)); }

struct IoVec {
    uint32_t buffer;
    uint32_t length;
};

// Reads and checks an iovec array: every entry must lie inside memory.
bool read_iovecs(GuestMemory const& memory, uint32_t iovs, uint32_t count, std::vector<IoVec>& out, uint64_t& total)
{
    if (count > max_iovecs)
        return false;
    out.resize(count);
    total = 0;
    for (uint32_t i = 0; i < count; ++i) {
        if (!memory.read(iovs + i * 8, out[i].buffer) || !memory.read(iovs + i * 8 + 4, out[i].length))
            return false;
        if (!memory.valid(out[i].buffer, out[i].length))
            return false;
        total += out[i].length;
    }
    return true;
}

// Copies a list of strings the way args_get/environ_get lay them out.
uint32_t write_string_list(Sip& sip, std::vector<std::string> const& list, uint32_t pointers, uint32_t buffer)
{
    GuestMemory memory(sip.runtime());
    uint64_t bytes = 0;
    for (auto const& s : list)
        bytes += s.size() + 1;
    if (!memory.valid(pointers, uint64_t(list.size()) * 4) || !memory.valid(buffer, bytes))
        return Fault;
    uint32_t cursor = buffer;
    for (size_t i = 0; i < list.size(); ++i) {
        memory.write(pointers + static_cast<uint32_t>(i) * 4, cursor);
        memory.write_bytes(cursor, list[i].c_str(), list[i].size() + 1);
        cursor += static_cast<uint32_t>(list[i].size() + 1);
    }
    return Success;
}

uint32_t write_string_list_sizes(Sip& sip, std::vector<std::string> const& list, uint32_t count_out, uint32_t size_out)
{
    GuestMemory memory(sip.runtime());
    if (!memory.valid(count_out, 4) || !memory.valid(size_out, 4))
        return Fault;
    uint64_t bytes = 0;
    for (auto const& s : list)
        bytes += s.size() + 1;
    if (bytes > UINT32_MAX)
        return TooBig;
    memory.write(count_out, static_cast<uint32_t>(list.size()));
    memory.write(size_out, static_cast<uint32_t>(bytes));
    return Success;
}

uint32_t not_open_or(Sip& sip, uint32_t fd, uint32_t if_stdio)
{
    return is_open(sip, fd) ? if_stdio : BadFd;
}

// WASI's clock ids are Signet's (read_clock): realtime, monotonic, the
// process's (the SIP's) CPU time, the thread's.
uint32_t clock_errno(ClockRead read)
{
    switch (read) {
    case ClockRead::Ok:
        return Success;
    case ClockRead::Unknown:
        return Inval;
    case ClockRead::Unsupported:
        return NotSup;
    }
    return Inval;
}

} // namespace

extern "C" {

#define WASI(name) Z_wasi_snapshot_preview1Z_##name

uint32_t WASI(args_get)(void* host, uint32_t argv, uint32_t buffer)
{
    Sip& sip = sip_from(host);
    return write_string_list(sip, sip.args(), argv, buffer);
}

uint32_t WASI(args_sizes_get)(void* host, uint32_t count, uint32_t size)
{
    Sip& sip = sip_from(host);
    return write_string_list_sizes(sip, sip.args(), count, size);
}

uint32_t WASI(environ_get)(void* host, uint32_t environ, uint32_t buffer)
{
    Sip& sip = sip_from(host);
    return write_string_list(sip, sip.environment(), environ, buffer);
}

uint32_t WASI(environ_sizes_get)(void* host, uint32_t count, uint32_t size)
{
    Sip& sip = sip_from(host);
    return write_string_list_sizes(sip, sip.environment(), count, size);
}

uint32_t WASI(clock_res_get)(void* host, uint32_t clock, uint32_t out)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 8))
        return Fault;
    if (auto error = clock_errno(read_clock(sip, clock, nullptr)))
        return error;
    memory.write(out, uint64_t(1));
    return Success;
}

uint32_t WASI(clock_time_get)(void* host, uint32_t clock, uint64_t, uint32_t out)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 8))
        return Fault;
    uint64_t now = 0;
    if (auto error = clock_errno(read_clock(sip, clock, &now)))
        return error;
    memory.write(out, now);
    return Success;
}

uint32_t WASI(fd_advise)(void* host, uint32_t fd, uint64_t, uint64_t, uint32_t) { return not_open_or(sip_from(host), fd, SPipe); }
uint32_t WASI(fd_allocate)(void* host, uint32_t fd, uint64_t, uint64_t) { return not_open_or(sip_from(host), fd, NotCapable); }

uint32_t WASI(fd_close)(void* host, uint32_t fd)
{
    Sip& sip = sip_from(host);
    if (fd > 2)
        return wasi_file_close(sip, fd);
    if (!is_open(sip, fd))
        return BadFd;
    sip.wasi_closed_stdio |= 1u << fd;
    return Success;
}


uint32_t WASI(fd_fdstat_get)(void* host, uint32_t fd, uint32_t out)
{
    Sip& sip = sip_from(host);
    if (fd > 2)
        return wasi_file_fdstat_get(sip, fd, out);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 24))
        return Fault;
    if (!is_open(sip, fd))
        return BadFd;
    uint64_t rights = (fd == 0 ? right_fd_read : right_fd_write) | right_poll_fd_readwrite;
    uint8_t stat[24] = {};
    stat[0] = stream_is_terminal(sip, fd) ? FiletypeCharacterDevice : FiletypeUnknown; // A bound stream is a terminal only if its binder said so.
    std::memcpy(stat + 8, &rights, 8);
    memory.write_bytes(out, stat, sizeof stat);
    return Success;
}

uint32_t WASI(fd_fdstat_set_flags)(void* host, uint32_t fd, uint32_t) { return not_open_or(sip_from(host), fd, NotSup); }
uint32_t WASI(fd_fdstat_set_rights)(void* host, uint32_t fd, uint64_t, uint64_t) { return not_open_or(sip_from(host), fd, NotCapable); }

uint32_t WASI(fd_filestat_get)(void* host, uint32_t fd, uint32_t out)
{
    Sip& sip = sip_from(host);
    if (fd > 2)
        return wasi_file_filestat_get(sip, fd, out);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 64))
        return Fault;
    if (!is_open(sip, fd))
        return BadFd;
    uint8_t stat[64] = {};
    stat[16] = stream_is_terminal(sip, fd) ? FiletypeCharacterDevice : FiletypeUnknown;
    uint64_t links = 1;
    std::memcpy(stat + 24, &links, 8);
    memory.write_bytes(out, stat, sizeof stat);
    return Success;
}

uint32_t WASI(fd_filestat_set_times)(void* host, uint32_t fd, uint64_t access_ns, uint64_t modified_ns, uint32_t flags)
{
    Sip& sip = sip_from(host);
    return fd > 2 ? wasi_file_filestat_set_times(sip, fd, access_ns, modified_ns, flags) : not_open_or(sip, fd, NotCapable);
}
uint32_t WASI(fd_pread)(void* host, uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out_read)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    return fd > 2 ? wasi_file_read(sip, fd, iovs, count, out_read, offset) : not_open_or(sip, fd, SPipe);
}

uint32_t WASI(fd_pwrite)(void* host, uint32_t fd, uint32_t iovs, uint32_t count, uint64_t offset, uint32_t out_written)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    return fd > 2 ? wasi_file_write(sip, fd, iovs, count, out_written, offset) : not_open_or(sip, fd, SPipe);
}

uint32_t WASI(fd_read)(void* host, uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out_read)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    if (fd > 2)
        return wasi_file_read(sip, fd, iovs, count, out_read);
    GuestMemory memory(sip.runtime());
    // One host read into the first non-empty buffer, as a short read is allowed.
    // Found first, and the list gone, before the read: a kill unwinds from it.
    IoVec first {};
    {
        std::vector<IoVec> vectors;
        uint64_t total = 0;
        if (!read_iovecs(memory, iovs, count, vectors, total) || !memory.valid(out_read, 4))
            return Fault;
        if (!is_open(sip, fd))
            return BadFd;
        if (fd != 0)
            return NotCapable;
        auto non_empty = std::find_if(vectors.begin(), vectors.end(), [](IoVec const& vector) { return vector.length != 0; });
        if (non_empty != vectors.end())
            first = *non_empty;
    }
    uint32_t got = 0;
    if (first.length) {
        int32_t status = read_stdin(sip, { memory.range(first.buffer, first.length), first.length }, got);
        if (status == read_stdin_killed)
            unwind_current(static_cast<int>(Unwind::Killed));
        if (status != SIGNET_OK)
            return Io;
    }
    memory.write(out_read, got);
    return Success;
}

uint32_t WASI(fd_renumber)(void* host, uint32_t fd, uint32_t to) { return is_open(sip_from(host), fd) && is_open(sip_from(host), to) ? NotSup : BadFd; }

uint32_t WASI(fd_write)(void* host, uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out_written)
{
    Sip& sip = sip_from(host);
    if (fd > 2)
        return wasi_file_write(sip, fd, iovs, count, out_written);
    GuestMemory memory(sip.runtime());
    std::vector<IoVec> vectors;
    uint64_t total = 0;
    if (!read_iovecs(memory, iovs, count, vectors, total) || !memory.valid(out_written, 4))
        return Fault;
    if (!is_open(sip, fd))
        return BadFd;
    if (fd == 0)
        return NotCapable;
    if (total > max_gather_bytes)
        total = max_gather_bytes; // A short write; the C library loops.
    // Gather into one buffer so the write is one unit on the stream.
    std::vector<uint8_t> gathered;
    gathered.reserve(total);
    for (auto const& vector : vectors) {
        uint64_t take = std::min<uint64_t>(vector.length, total - gathered.size());
        uint8_t const* bytes = memory.range(vector.buffer, take);
        if (take)
            gathered.insert(gathered.end(), bytes, bytes + take);
    }
    uint32_t written = 0;
    if (write_stdio(sip, fd, gathered, written) != SIGNET_OK)
        return Io;
    memory.write(out_written, written);
    return Success;
}

uint32_t WASI(path_link)(void* host, uint32_t fd, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return not_open_or(sip_from(host), fd, NotDir); }
uint32_t WASI(path_readlink)(void* host, uint32_t fd, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return not_open_or(sip_from(host), fd, NotDir); }
uint32_t WASI(path_symlink)(void* host, uint32_t, uint32_t, uint32_t fd, uint32_t, uint32_t) { return not_open_or(sip_from(host), fd, NotDir); }

// Subscriptions: clocks sleep; the standard streams are always ready.
uint32_t WASI(poll_oneoff)(void* host, uint32_t in, uint32_t out, uint32_t count, uint32_t out_events)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (count == 0)
        return Inval;
    if (count > max_iovecs || !memory.valid(in, uint64_t(count) * 48) || !memory.valid(out, uint64_t(count) * 32) || !memory.valid(out_events, 4))
        return Fault;
    struct Event {
        uint64_t userdata;
        uint16_t error;
        uint8_t type;
    };
    std::vector<Event> ready;
    uint64_t earliest = UINT64_MAX;
    uint64_t earliest_userdata = 0;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t base = in + i * 48;
        uint64_t userdata = 0;
        uint8_t tag = 0;
        memory.read(base, userdata);
        memory.read(base + 8, tag);
        if (tag == 0) { // clock
            uint32_t clock = 0;
            uint64_t timeout = 0;
            uint16_t flags = 0;
            memory.read(base + 16, clock);
            memory.read(base + 24, timeout);
            memory.read(base + 40, flags);
            // A timer on a CPU-time clock would need the scheduler to watch the
            // SIP's ticks: not supported (ENOTSUP), as an unknown clock is EINVAL.
            if (clock > 1) {
                ready.push_back({ userdata, static_cast<uint16_t>(clock <= 3 ? NotSup : Inval), 0 });
                continue;
            }
            uint64_t relative = timeout;
            if (flags & 1) { // absolute
                bool ok = false;
                uint64_t now = now_ns(clock, ok);
                relative = timeout > now ? timeout - now : 0;
            }
            if (relative < earliest) {
                earliest = relative;
                earliest_userdata = userdata;
            }
        } else if (tag == 1 || tag == 2) { // fd_read, fd_write
            uint32_t fd = 0;
            memory.read(base + 16, fd);
            uint16_t error = !is_open(sip, fd) ? BadFd : (tag == 1) != (fd == 0) ? NotCapable : Success;
            ready.push_back({ userdata, error, tag });
        } else {
            return Inval;
        }
    }
    if (ready.empty() && earliest != UINT64_MAX) {
        sip.kernel().sleep_current(earliest);
        leave_if_killed();
        ready.push_back({ earliest_userdata, Success, 0 });
    }
    for (size_t i = 0; i < ready.size(); ++i) {
        uint8_t event[32] = {};
        std::memcpy(event, &ready[i].userdata, 8);
        std::memcpy(event + 8, &ready[i].error, 2);
        event[10] = ready[i].type;
        if (ready[i].type != 0) {
            uint64_t bytes = 1;
            std::memcpy(event + 16, &bytes, 8);
        }
        memory.write_bytes(out + static_cast<uint32_t>(i) * 32, event, sizeof event);
    }
    memory.write(out_events, static_cast<uint32_t>(ready.size()));
    return Success;
}

void WASI(proc_exit)(void* host, uint32_t status)
{
    sip_from(host).record_exit({ ExitInfo::How::Exited, static_cast<int32_t>(status), TrapKind::None, {} });
    unwind_current(static_cast<int>(Unwind::Exit));
}

uint32_t WASI(proc_raise)(void*, uint32_t) { return NoSys; }

uint32_t WASI(sched_yield)(void*)
{
    require_stack_headroom();
    Worker::yield_current();
    leave_if_killed();
    return Success;
}

uint32_t WASI(random_get)(void* host, uint32_t buffer, uint32_t length)
{
    GuestMemory memory(sip_from(host).runtime());
    if (!memory.valid(buffer, length))
        return Fault;
    uint8_t* bytes = memory.range(buffer, length);
    return fill_random({ bytes, length }) ? Success : Io;
}

uint32_t WASI(sock_accept)(void* host, uint32_t fd, uint32_t, uint32_t) { return not_open_or(sip_from(host), fd, NotCapable); }
uint32_t WASI(sock_recv)(void* host, uint32_t fd, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t) { return not_open_or(sip_from(host), fd, NotCapable); }
uint32_t WASI(sock_send)(void* host, uint32_t fd, uint32_t, uint32_t, uint32_t, uint32_t) { return not_open_or(sip_from(host), fd, NotCapable); }
uint32_t WASI(sock_shutdown)(void* host, uint32_t fd, uint32_t) { return not_open_or(sip_from(host), fd, NotCapable); }

} // extern "C"

