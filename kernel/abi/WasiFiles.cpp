// The WASI personality's files and directories, over FileSystem channels.
//
// Descriptors 3 and up name entries of the SIP's WasiFileTable: a preopened
// directory (the root of the service behind its endpoint), or a directory or
// file opened with path_open, each with the service's handle. A path is always
// relative to a directory descriptor: it is checked here lexically first (no
// absolute paths; `..` never climbs above the descriptor's directory), then
// joined to that directory's path and sent to the service, which resolves it
// again in its own namespace. Replies carry WASI errno values (the FileSystem
// codes are WASI's), which go to the program unchanged.
//
// A SIP's descriptors share FileSystem channels, each of which carries one
// request at a time, so the SIP's threads make file calls one at a time: a
// thread that makes one while another's waits for its reply waits its turn
// (FileTurn), in order.
#include "kernel/abi/WasiFiles.h"
#include "kernel/abi/Abi.h"
#include "kernel/abi/KernelChannel.h"
#include "kernel/object/Child.h"

#include "FileSystem.h"
#include "FileSystemCodes.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>

namespace signet {

namespace {

enum Errno : uint32_t {
    Success = 0,
    BadFd = 8,
    Fault = 21,
    Inval = 28,
    Io = 29,
    IsDir = 31,
    NameTooLong = 37,
    NoSys = 52,
    NotDir = 54,
    SPipe = 70,
    NotCapable = 76,
    XDev = 75,
};

enum : uint8_t { FiletypeDirectory = 3, FiletypeRegularFile = 4 };

constexpr uint64_t right_fd_read = 1ull << 1;
constexpr uint64_t right_fd_write = 1ull << 6;
constexpr uint64_t all_rights = (1ull << 30) - 1;
constexpr uint32_t max_iovecs = 1024;
// Named limit: descriptors one SIP may have open above the standard streams.
constexpr uint32_t max_descriptors = 256;

} // namespace

class WasiFileTable {
public:
    enum class Kind : uint8_t { Preopen, Directory, File };
    struct Entry {
        Kind kind { Kind::File };
        std::shared_ptr<Endpoint> endpoint;
        uint32_t handle { 0 }; // the service's handle (none for a preopen)
        std::string path;      // in the service's namespace, e.g. "/" or "/a/b"
        std::string guest_path; // preopens: the name the program sees
    };
    std::map<uint32_t, Entry> entries;
    // The thread whose file call is under way (null: none), and those waiting
    // for their turn, in order. Only the SIP's own threads touch them, and
    // they run one at a time, on one worker.
    Thread* turn { nullptr };
    std::deque<Thread*> waiting;
};

std::shared_ptr<WasiFileTable> make_wasi_file_table(std::vector<WasiPreopen> preopens)
{
    auto table = std::make_shared<WasiFileTable>();
    uint32_t fd = 3;
    for (auto& preopen : preopens)
        table->entries[fd++] = { WasiFileTable::Kind::Preopen, std::move(preopen.endpoint), 0, "/", preopen.guest_path };
    return table;
}

ErrorOr<void> add_wasi_preopen(Sip& sip, std::string guest_path, std::shared_ptr<Endpoint> endpoint, std::string const& base)
{
    if (sip.state() != Sip::State::Created)
        return Error::invalid("SIP " + std::to_string(sip.id()) + " has started: its directories can no longer be given");
    if (guest_path.empty() || guest_path.size() > FS_PATH_MAX || guest_path.find('\0') != std::string::npos)
        return Error::invalid("a preopened directory needs a name of 1 to " + std::to_string(FS_PATH_MAX) + " bytes without NUL");
    auto file_system = sip.kernel().contract_type({ FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE });
    if (file_system.is_error())
        return file_system.release_error();
    if (endpoint->contract_type().descriptor_hash != file_system.value()->descriptor_hash)
        return Error::invalid("the endpoint speaks " + endpoint->contract_type().contract.name + ", not FileSystem");
    if (endpoint->end() != contracts::End::Imp)
        return Error::invalid("a directory needs the Imp end of a FileSystem channel");
    {
        Channel& channel = endpoint->channel();
        std::lock_guard guard(channel.lock());
        if (channel.state() != 0 || channel.front(*endpoint))
            return Error::invalid("the FileSystem channel is in the middle of a request");
    }
    if (base != "/") {
        if (base.size() > FS_PATH_MAX || base.front() != '/')
            return Error::invalid("'" + base + "' is not an absolute path of at most " + std::to_string(FS_PATH_MAX) + " bytes");
        FileSystem_Stat request {};
        request.path.length = uint32_t(base.size());
        std::memcpy(request.path.data, base.data(), base.size());
        uint16_t reply_id = 0;
        std::vector<uint8_t> reply;
        if (abi::kernel_call(*endpoint, FileSystem_MSG_Stat, { reinterpret_cast<uint8_t const*>(&request), sizeof request }, reply_id, reply) != SIGNET_OK)
            return Error(ErrorKind::Io, "the file system did not answer whether " + base + " is a directory");
        FileSystem_Status status {};
        std::memcpy(&status, reply.data(), std::min(reply.size(), sizeof status));
        if (reply_id != FileSystem_MSG_Status || status.type != FS_TYPE_DIRECTORY)
            return Error(ErrorKind::NotFound, base + " is not a directory of that file system");
        if (sip.state() != Sip::State::Created)
            return Error::invalid("SIP " + std::to_string(sip.id()) + " started meanwhile: its directories can no longer be given");
    }
    if (!sip.wasi_files)
        sip.wasi_files = std::make_shared<WasiFileTable>();
    auto& entries = sip.wasi_files->entries;
    if (entries.size() >= max_descriptors)
        return Error(ErrorKind::Limit, "SIP " + std::to_string(sip.id()) + " has " + std::to_string(max_descriptors) + " descriptors already");
    uint32_t fd = 3;
    while (entries.contains(fd))
        ++fd;
    endpoint->set_holder(sip.holder_identity());
    entries[fd] = { WasiFileTable::Kind::Preopen, std::move(endpoint), 0, base, std::move(guest_path) };
    return {};
}

namespace abi {

namespace {

using Kind = WasiFileTable::Kind;
using Entry = WasiFileTable::Entry;

Entry* find(Sip& sip, uint32_t fd)
{
    if (!sip.wasi_files)
        return nullptr;
    auto found = sip.wasi_files->entries.find(fd);
    return found == sip.wasi_files->entries.end() ? nullptr : &found->second;
}

// A file call's turn, taken before the call looks at any descriptor and held
// to its end, so that what it found stays as it was while it waits for
// replies (and the per-worker request buffers stay its own). A thread killed
// while it waits for its turn does not get it (the call then returns EIO; the
// SIP leaves at its next kernel call).
class FileTurn {
public:
    explicit FileTurn(Sip& sip)
        : m_table(sip.wasi_files)
    {
        if (!m_table)
            return; // No descriptors: nothing to wait for.
        Thread* self = Worker::current_thread();
        if (!m_table->turn) {
            m_table->turn = self;
            return;
        }
        m_table->waiting.push_back(self);
        // Spurious wake-ups are possible: the holder passes the turn by naming its successor.
        while (m_table->turn != self) {
            if (self->kill_requested()) {
                std::erase(m_table->waiting, self);
                m_table = nullptr;
                m_held = false;
                return;
            }
            Worker::block_current();
        }
    }
    ~FileTurn()
    {
        if (!m_table)
            return;
        if (m_table->waiting.empty()) {
            m_table->turn = nullptr;
            return;
        }
        Thread* next = m_table->waiting.front();
        m_table->waiting.pop_front();
        m_table->turn = next;
        Worker::wake(*next);
    }
    FileTurn(FileTurn const&) = delete;
    FileTurn& operator=(FileTurn const&) = delete;

    // Whether the call may go on (false: killed while it waited).
    explicit operator bool() const { return m_held; }

private:
    std::shared_ptr<WasiFileTable> m_table;
    bool m_held { true };
};

// One request and its reply on the entry's endpoint, in the caller's turn.
// Returns 0 with the reply, or a WASI errno (the service's Failed code too).
template<typename Request>
uint32_t call(Sip& sip, Endpoint& endpoint, uint16_t id, Request const* request, size_t size, uint16_t expected, std::vector<uint8_t>& reply)
{
    VERIFY(sip.wasi_files->turn == Worker::current_thread());
    uint16_t reply_id = 0;
    int32_t status = kernel_call(endpoint, id, { reinterpret_cast<uint8_t const*>(request), size }, reply_id, reply);
    // A kill while waiting ends the wait with CLOSED rather than unwinding
    // (callers hold vectors); the SIP leaves at its next kernel call.
    if (status != SIGNET_OK)
        return Io;
    if (reply_id == FileSystem_MSG_Failed && reply.size() == sizeof(FileSystem_Failed)) {
        FileSystem_Failed failed;
        std::memcpy(&failed, reply.data(), sizeof failed);
        return failed.code > 0 && failed.code < 77 ? uint32_t(failed.code) : Io;
    }
    return reply_id == expected ? Success : Io;
}

template<typename Reply>
Reply as(std::vector<uint8_t> const& bytes)
{
    Reply reply {};
    std::memcpy(&reply, bytes.data(), std::min(bytes.size(), sizeof reply));
    return reply;
}

// `relative` under the directory `base`: "" if it is absolute, climbs above
// `base`, or is too long.
std::string join(std::string const& base, std::string_view relative, uint32_t& error)
{
    error = Success;
    if (relative.empty() || relative.front() == '/' || relative.find('\0') != std::string_view::npos) {
        error = relative.empty() ? uint32_t(FS_ENOENT) : NotCapable;
        return {};
    }
    int depth = 0;
    size_t start = 0;
    while (start <= relative.size()) {
        size_t end = relative.find('/', start);
        if (end == std::string_view::npos)
            end = relative.size();
        std::string_view component = relative.substr(start, end - start);
        if (component == "..")
            depth--;
        else if (!component.empty() && component != ".")
            depth++;
        if (depth < 0) {
            error = NotCapable;
            return {};
        }
        start = end + 1;
    }
    std::string path = base == "/" ? "/" : base + "/";
    path.append(relative);
    if (path.size() > FS_PATH_MAX) {
        error = NameTooLong;
        return {};
    }
    return path;
}

// The directory entry `fd` and the path `path`/`length` under it.
uint32_t resolve(Sip& sip, uint32_t fd, uint32_t path, uint32_t length, Entry*& directory, std::string& out)
{
    GuestMemory memory(sip.runtime());
    if (!memory.valid(path, length))
        return Fault;
    directory = find(sip, fd);
    if (!directory)
        return fd <= 2 && !(sip.wasi_closed_stdio & (1u << fd)) ? NotDir : BadFd;
    if (directory->kind == Kind::File)
        return NotDir;
    uint32_t error = Success;
    out = join(directory->path, { reinterpret_cast<char const*>(memory.range(path, length)), length }, error);
    return error;
}

template<typename Message>
void set_path(Message& message, std::string const& path)
{
    message.path.length = uint32_t(path.size());
    std::memcpy(message.path.data, path.data(), path.size());
}

uint32_t write_filestat(Sip& sip, uint32_t out, FileSystem_Status const& status)
{
    GuestMemory memory(sip.runtime());
    uint8_t stat[64] = {};
    uint64_t inode = status.inode, links = status.links, size = status.size, time = status.modified_ns;
    std::memcpy(stat + 8, &inode, 8);
    stat[16] = status.type == FS_TYPE_DIRECTORY ? FiletypeDirectory : FiletypeRegularFile;
    std::memcpy(stat + 24, &links, 8);
    std::memcpy(stat + 32, &size, 8);
    std::memcpy(stat + 40, &time, 8);
    std::memcpy(stat + 48, &time, 8);
    std::memcpy(stat + 56, &time, 8);
    return memory.write_bytes(out, stat, sizeof stat) ? Success : Fault;
}

bool stdio_open(Sip& sip, uint32_t fd)
{
    return fd <= 2 && !(sip.wasi_closed_stdio & (1u << fd));
}

uint32_t new_descriptor(Sip& sip, Entry entry, uint32_t& out_fd)
{
    auto& entries = sip.wasi_files->entries;
    if (entries.size() >= max_descriptors)
        return 33; // EMFILE
    uint32_t fd = 3;
    while (entries.contains(fd))
        ++fd;
    entries[fd] = std::move(entry);
    out_fd = fd;
    return Success;
}

} // namespace

uint32_t wasi_file_close(Sip& sip, uint32_t fd)
{
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry* entry = find(sip, fd);
    if (!entry)
        return BadFd;
    if (entry->kind != Kind::Preopen) {
        FileSystem_Close request { entry->handle };
        std::vector<uint8_t> reply;
        // The descriptor goes whatever the service answers.
        (void)call(sip, *entry->endpoint, FileSystem_MSG_Close, &request, sizeof request, FileSystem_MSG_Done, reply);
        entry = find(sip, fd);
    }
    if (entry)
        sip.wasi_files->entries.erase(fd);
    return Success;
}

uint32_t wasi_file_fdstat_get(Sip& sip, uint32_t fd, uint32_t out)
{
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 24))
        return Fault;
    Entry* entry = find(sip, fd);
    if (!entry)
        return BadFd;
    uint8_t stat[24] = {};
    stat[0] = entry->kind == Kind::File ? FiletypeRegularFile : FiletypeDirectory;
    std::memcpy(stat + 8, &all_rights, 8);
    std::memcpy(stat + 16, &all_rights, 8);
    memory.write_bytes(out, stat, sizeof stat);
    return Success;
}

uint32_t wasi_file_filestat_get(Sip& sip, uint32_t fd, uint32_t out)
{
    require_stack_headroom();
    FileTurn turn(sip);
    if (!turn)
        return Io;
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 64))
        return Fault;
    Entry* entry = find(sip, fd);
    if (!entry)
        return BadFd;
    std::vector<uint8_t> reply;
    uint32_t error;
    if (entry->kind == Kind::Preopen) {
        thread_local FileSystem_Stat request;
        request = {};
        set_path(request, entry->path);
        error = call(sip, *entry->endpoint, FileSystem_MSG_Stat, &request, sizeof request, FileSystem_MSG_Status, reply);
    } else {
        FileSystem_StatHandle request { entry->handle };
        error = call(sip, *entry->endpoint, FileSystem_MSG_StatHandle, &request, sizeof request, FileSystem_MSG_Status, reply);
    }
    return error ? error : write_filestat(sip, out, as<FileSystem_Status>(reply));
}

namespace {

// WASI's fstflags: which of the times to set, each to a given time or to now.
enum : uint32_t {
    SetAccess = 1,
    SetAccessNow = 2,
    SetModified = 4,
    SetModifiedNow = 8,
};

// The modification time a set_times call asks for, in `out` (nothing if it sets
// only the access time, which files do not keep: their access time is their
// modification time); Inval for flags that contradict each other.
uint32_t modified_time_of(Sip& sip, uint64_t given, uint32_t flags, std::optional<uint64_t>& out)
{
    if (flags > 15 || (flags & (SetAccess | SetAccessNow)) == (SetAccess | SetAccessNow)
        || (flags & (SetModified | SetModifiedNow)) == (SetModified | SetModifiedNow))
        return Inval;
    if (flags & SetModified) {
        out = given;
    } else if (flags & SetModifiedNow) {
        uint64_t now = 0;
        read_clock(sip, SIGNET_CLOCK_REALTIME, &now);
        out = now;
    }
    return Success;
}

} // namespace

uint32_t wasi_file_filestat_set_times(Sip& sip, uint32_t fd, uint64_t, uint64_t modified_ns, uint32_t flags)
{
    require_stack_headroom();
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry* entry = find(sip, fd);
    if (!entry)
        return BadFd;
    std::optional<uint64_t> modified;
    if (uint32_t error = modified_time_of(sip, modified_ns, flags, modified); error || !modified)
        return error;
    std::vector<uint8_t> reply;
    if (entry->kind == Kind::Preopen) {
        thread_local FileSystem_SetModified request;
        request = {};
        set_path(request, entry->path);
        request.modified_ns = *modified;
        return call(sip, *entry->endpoint, FileSystem_MSG_SetModified, &request, sizeof request, FileSystem_MSG_Done, reply);
    }
    FileSystem_SetModifiedHandle request { entry->handle, *modified };
    return call(sip, *entry->endpoint, FileSystem_MSG_SetModifiedHandle, &request, sizeof request, FileSystem_MSG_Done, reply);
}

uint32_t wasi_file_read(Sip& sip, uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out_read, std::optional<uint64_t> offset)
{
    require_stack_headroom();
    FileTurn turn(sip);
    if (!turn)
        return Io;
    GuestMemory memory(sip.runtime());
    if (count > max_iovecs || !memory.valid(iovs, uint64_t(count) * 8) || !memory.valid(out_read, 4))
        return Fault;
    if (offset && *offset > uint64_t(INT64_MAX))
        return Inval; // a negative off_t
    Entry* entry = find(sip, fd);
    if (!entry)
        return BadFd;
    if (entry->kind != Kind::File)
        return IsDir;
    auto endpoint = entry->endpoint;
    uint32_t handle = entry->handle;
    uint32_t total = 0;
    std::vector<uint8_t> reply;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t buffer = 0, length = 0;
        memory.read(iovs + i * 8, buffer);
        memory.read(iovs + i * 8 + 4, length);
        uint32_t done = 0;
        while (done < length) {
            uint32_t chunk = std::min<uint32_t>(length - done, FS_IO_MAX);
            uint32_t error;
            if (offset) {
                FileSystem_ReadAt request { handle, *offset + total, chunk };
                error = call(sip, *endpoint, FileSystem_MSG_ReadAt, &request, sizeof request, FileSystem_MSG_Data, reply);
            } else {
                FileSystem_Read request { handle, chunk };
                error = call(sip, *endpoint, FileSystem_MSG_Read, &request, sizeof request, FileSystem_MSG_Data, reply);
            }
            if (error)
                return total ? (memory.write(out_read, total), Success) : error;
            uint32_t got = 0;
            std::memcpy(&got, reply.data(), 4);
            got = std::min<uint32_t>(got, uint32_t(reply.size() - 4));
            // Checked after the wait: the buffer may have become a hole meanwhile.
            GuestMemory after(sip.runtime());
            if (!after.write_bytes(buffer + done, reply.data() + 4, got))
                return Fault;
            done += got;
            total += got;
            if (got < chunk)
                return GuestMemory(sip.runtime()).write(out_read, total) ? Success : Fault;
        }
    }
    return GuestMemory(sip.runtime()).write(out_read, total) ? Success : Fault;
}

uint32_t wasi_file_write(Sip& sip, uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out_written, std::optional<uint64_t> offset)
{
    require_stack_headroom();
    FileTurn turn(sip);
    if (!turn)
        return Io;
    GuestMemory memory(sip.runtime());
    if (count > max_iovecs || !memory.valid(iovs, uint64_t(count) * 8) || !memory.valid(out_written, 4))
        return Fault;
    if (offset && *offset > uint64_t(INT64_MAX))
        return Inval; // a negative off_t
    Entry* entry = find(sip, fd);
    if (!entry)
        return BadFd;
    if (entry->kind != Kind::File)
        return IsDir;
    auto endpoint = entry->endpoint;
    uint32_t handle = entry->handle;
    uint32_t total = 0;
    std::vector<uint8_t> reply;
    // Large requests are built per worker, not on the fiber's stack: each is
    // copied into the channel before the fiber can block or move.
    thread_local FileSystem_Write request;
    thread_local FileSystem_WriteAt request_at;
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t buffer = 0, length = 0;
        GuestMemory now(sip.runtime());
        now.read(iovs + i * 8, buffer);
        now.read(iovs + i * 8 + 4, length);
        for (uint32_t done = 0; done < length;) {
            uint32_t chunk = std::min<uint32_t>(length - done, FS_IO_MAX);
            GuestMemory current(sip.runtime());
            uint8_t const* source = current.range(buffer + done, chunk);
            if (!source || uint64_t(buffer) + done + chunk > UINT32_MAX)
                return Fault;
            uint32_t error;
            if (offset) {
                std::memset(&request_at, 0, sizeof request_at);
                request_at.handle = handle;
                request_at.offset = *offset + total;
                request_at.data.length = chunk;
                std::memcpy(request_at.data.data, source, chunk);
                error = call(sip, *endpoint, FileSystem_MSG_WriteAt, &request_at, sizeof request_at, FileSystem_MSG_Written, reply);
            } else {
                std::memset(&request, 0, sizeof request);
                request.handle = handle;
                request.data.length = chunk;
                std::memcpy(request.data.data, source, chunk);
                error = call(sip, *endpoint, FileSystem_MSG_Write, &request, sizeof request, FileSystem_MSG_Written, reply);
            }
            if (error)
                return total ? (GuestMemory(sip.runtime()).write(out_written, total), Success) : error;
            uint32_t written = as<FileSystem_Written>(reply).count;
            done += written;
            total += written;
            if (written < chunk)
                return GuestMemory(sip.runtime()).write(out_written, total) ? Success : Fault;
        }
    }
    return GuestMemory(sip.runtime()).write(out_written, total) ? Success : Fault;
}

} // namespace abi
} // namespace signet

using namespace signet;
using namespace signet::abi;

#define WASI(name) Z_wasi_snapshot_preview1Z_##name

extern "C" {

uint32_t Z_signet_v1Z_child_bind_directory(void* host, uint32_t child_handle, uint32_t guest_path, uint32_t length, uint32_t endpoint_handle)
{
    require_stack_headroom(); // a grant of a directory below the root asks the file system whether it is one
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(guest_path, length))
        return SIGNET_OUT_OF_BOUNDS;
    auto child = sip.handles().get_as<Child>(child_handle);
    auto endpoint = sip.handles().get_as<Endpoint>(endpoint_handle);
    if (!child || !endpoint)
        return SIGNET_BAD_HANDLE;
    Sip& target = child->sip();
    std::string name(reinterpret_cast<char const*>(memory.range(guest_path, length)), length);
    // A program installed with a manifest gets a file system only where the manifest
    // grants one, and sees there the directory of it that the grant names.
    std::string base = "/";
    if (auto const& granted = target.directories()) {
        auto grant = std::find_if(granted->begin(), granted->end(), [&](auto const& directory) { return directory.guest == name; });
        if (grant == granted->end()) {
            (void)sip.kernel().diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot give " + target.name()
                + " the directory '" + name + "': its manifest grants no [[directory]] guest = \"" + name + "\"\n");
            return SIGNET_DENIED;
        }
        base = grant->path;
    }
    // Check and commit in one step: add_wasi_preopen changes nothing unless it succeeds.
    if (auto added = add_wasi_preopen(target, name, endpoint, base); added.is_error()) {
        (void)sip.kernel().diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + ") cannot give " + target.name()
            + " the directory '" + name + "': " + added.error().message() + "\n");
        auto kind = added.error().kind();
        return kind == ErrorKind::Limit ? SIGNET_LIMIT : kind == ErrorKind::NotFound ? SIGNET_NOT_FOUND : kind == ErrorKind::Io ? SIGNET_IO : SIGNET_INVALID_ARGUMENT;
    }
    // The endpoint now belongs to the child's descriptor table, not to this SIP.
    endpoint.reset();
    (void)sip.handles().remove(endpoint_handle);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_child_directories(void* host, uint32_t child_handle, uint32_t buffer, uint32_t capacity, uint32_t out_length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto child = sip.handles().get_as<Child>(child_handle);
    if (!child)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(buffer, capacity) || !memory.valid(out_length, 4))
        return SIGNET_OUT_OF_BOUNDS;
    std::string text;
    if (auto const& granted = child->sip().directories()) {
        for (auto const& directory : *granted)
            text += directory.guest + '\0';
    }
    memory.write(out_length, static_cast<uint32_t>(text.size()));
    if (text.size() > capacity)
        return SIGNET_LIMIT;
    memory.write_bytes(buffer, text.data(), text.size());
    return SIGNET_OK;
}

uint32_t WASI(fd_prestat_get)(void* host, uint32_t fd, uint32_t out)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 8))
        return Fault;
    Entry* entry = find(sip, fd);
    if (!entry || entry->kind != Kind::Preopen)
        return BadFd;
    uint8_t prestat[8] = {}; // tag 0: a directory, then the length of its name
    uint32_t length = uint32_t(entry->guest_path.size());
    std::memcpy(prestat + 4, &length, 4);
    memory.write_bytes(out, prestat, sizeof prestat);
    return Success;
}

uint32_t WASI(fd_prestat_dir_name)(void* host, uint32_t fd, uint32_t buffer, uint32_t length)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(buffer, length))
        return Fault;
    Entry* entry = find(sip, fd);
    if (!entry || entry->kind != Kind::Preopen)
        return BadFd;
    if (length < entry->guest_path.size())
        return Inval;
    memory.write_bytes(buffer, entry->guest_path.data(), entry->guest_path.size());
    return Success;
}

uint32_t WASI(fd_seek)(void* host, uint32_t fd, uint64_t offset, uint32_t whence, uint32_t out)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out, 8))
        return Fault;
    Entry* entry = find(sip, fd);
    if (!entry)
        return stdio_open(sip, fd) ? SPipe : BadFd;
    if (entry->kind != Kind::File)
        return IsDir;
    if (whence > 2)
        return Inval;
    FileSystem_Seek request {};
    request.handle = entry->handle;
    request.offset = int64_t(offset);
    request.whence = uint8_t(whence);
    std::vector<uint8_t> reply;
    if (uint32_t error = call(sip, *entry->endpoint, FileSystem_MSG_Seek, &request, sizeof request, FileSystem_MSG_Position, reply))
        return error;
    uint64_t position = as<FileSystem_Position>(reply).offset;
    return GuestMemory(sip.runtime()).write(out, position) ? Success : Fault;
}

uint32_t WASI(fd_tell)(void* host, uint32_t fd, uint32_t out)
{
    return WASI(fd_seek)(host, fd, 0, FS_SEEK_CURRENT, out);
}

uint32_t WASI(fd_sync)(void* host, uint32_t fd)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry* entry = find(sip, fd);
    if (!entry)
        return stdio_open(sip, fd) ? Inval : BadFd;
    std::vector<uint8_t> reply;
    if (entry->kind == Kind::File) {
        FileSystem_Fsync request { entry->handle };
        return call(sip, *entry->endpoint, FileSystem_MSG_Fsync, &request, sizeof request, FileSystem_MSG_Synced, reply);
    }
    uint8_t nothing = 0;
    return call(sip, *entry->endpoint, FileSystem_MSG_Sync, &nothing, 0, FileSystem_MSG_Synced, reply);
}

uint32_t WASI(fd_datasync)(void* host, uint32_t fd)
{
    return WASI(fd_sync)(host, fd);
}

uint32_t WASI(fd_filestat_set_size)(void* host, uint32_t fd, uint64_t size)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry* entry = find(sip, fd);
    if (!entry)
        return stdio_open(sip, fd) ? NotCapable : BadFd;
    if (entry->kind != Kind::File)
        return IsDir;
    FileSystem_Truncate request {};
    request.handle = entry->handle;
    request.size = size;
    std::vector<uint8_t> reply;
    return call(sip, *entry->endpoint, FileSystem_MSG_Truncate, &request, sizeof request, FileSystem_MSG_Done, reply);
}

uint32_t WASI(path_open)(void* host, uint32_t fd, uint32_t, uint32_t path, uint32_t path_length, uint32_t oflags, uint64_t rights, uint64_t,
    uint32_t fdflags, uint32_t out_fd)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    if (!GuestMemory(sip.runtime()).valid(out_fd, 4))
        return Fault;
    Entry* directory = nullptr;
    std::string full;
    if (uint32_t error = resolve(sip, fd, path, path_length, directory, full))
        return error;
    enum : uint32_t { OCreat = 1, ODirectory = 2, OExcl = 4, OTrunc = 8 };
    enum : uint32_t { FdflagAppend = 1 };
    if (oflags & ~uint32_t(OCreat | ODirectory | OExcl | OTrunc))
        return Inval;
    uint32_t flags = 0;
    if (rights & right_fd_read)
        flags |= FS_OPEN_READ;
    if (rights & right_fd_write)
        flags |= FS_OPEN_WRITE;
    if (oflags & OCreat)
        flags |= FS_OPEN_CREATE;
    if (oflags & OExcl)
        flags |= FS_OPEN_EXCLUSIVE;
    if (oflags & OTrunc)
        flags |= FS_OPEN_TRUNCATE;
    if (oflags & ODirectory)
        flags = (flags & ~uint32_t(FS_OPEN_WRITE | FS_OPEN_TRUNCATE)) | FS_OPEN_DIRECTORY | FS_OPEN_READ;
    if (fdflags & FdflagAppend)
        flags |= FS_OPEN_APPEND;
    auto endpoint = directory->endpoint;
    thread_local FileSystem_Open request;
    request = {};
    set_path(request, full);
    request.flags = flags;
    std::vector<uint8_t> reply;
    uint32_t error = call(sip, *endpoint, FileSystem_MSG_Open, &request, sizeof request, FileSystem_MSG_Opened, reply);
    if (error)
        return error;
    uint32_t handle = as<FileSystem_Opened>(reply).handle;
    FileSystem_StatHandle stat { handle };
    error = call(sip, *endpoint, FileSystem_MSG_StatHandle, &stat, sizeof stat, FileSystem_MSG_Status, reply);
    Kind kind = !error && as<FileSystem_Status>(reply).type == FS_TYPE_DIRECTORY ? Kind::Directory : Kind::File;
    uint32_t new_fd = 0;
    if (!error)
        error = new_descriptor(sip, { kind, endpoint, handle, full, {} }, new_fd);
    if (error) {
        FileSystem_Close close { handle };
        (void)call(sip, *endpoint, FileSystem_MSG_Close, &close, sizeof close, FileSystem_MSG_Done, reply);
        return error;
    }
    return GuestMemory(sip.runtime()).write(out_fd, new_fd) ? Success : Fault;
}

// The requests that take one path and answer Done.
static uint32_t path_request(void* host, uint32_t fd, uint32_t path, uint32_t length, uint16_t id)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry* directory = nullptr;
    std::string full;
    if (uint32_t error = resolve(sip, fd, path, length, directory, full))
        return error;
    thread_local FileSystem_Unlink request; // Unlink, Mkdir and Rmdir share one layout.
    static_assert(sizeof(FileSystem_Unlink) == sizeof(FileSystem_Mkdir) && sizeof(FileSystem_Unlink) == sizeof(FileSystem_Rmdir));
    request = {};
    set_path(request, full);
    std::vector<uint8_t> reply;
    return call(sip, *directory->endpoint, id, &request, sizeof request, FileSystem_MSG_Done, reply);
}

uint32_t WASI(path_create_directory)(void* host, uint32_t fd, uint32_t path, uint32_t length)
{
    return path_request(host, fd, path, length, FileSystem_MSG_Mkdir);
}

uint32_t WASI(path_remove_directory)(void* host, uint32_t fd, uint32_t path, uint32_t length)
{
    return path_request(host, fd, path, length, FileSystem_MSG_Rmdir);
}

uint32_t WASI(path_unlink_file)(void* host, uint32_t fd, uint32_t path, uint32_t length)
{
    return path_request(host, fd, path, length, FileSystem_MSG_Unlink);
}

uint32_t WASI(path_filestat_get)(void* host, uint32_t fd, uint32_t, uint32_t path, uint32_t length, uint32_t out)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    if (!GuestMemory(sip.runtime()).valid(out, 64))
        return Fault;
    Entry* directory = nullptr;
    std::string full;
    if (uint32_t error = resolve(sip, fd, path, length, directory, full))
        return error;
    thread_local FileSystem_Stat request;
    request = {};
    set_path(request, full);
    std::vector<uint8_t> reply;
    if (uint32_t error = call(sip, *directory->endpoint, FileSystem_MSG_Stat, &request, sizeof request, FileSystem_MSG_Status, reply))
        return error;
    return write_filestat(sip, out, as<FileSystem_Status>(reply));
}

uint32_t WASI(path_filestat_set_times)(void* host, uint32_t fd, uint32_t, uint32_t path, uint32_t length, uint64_t access_ns, uint64_t modified_ns, uint32_t flags)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry* directory = nullptr;
    std::string full;
    if (uint32_t error = resolve(sip, fd, path, length, directory, full))
        return error;
    std::optional<uint64_t> modified;
    if (uint32_t error = modified_time_of(sip, modified_ns, flags, modified); error || !modified)
        return error;
    thread_local FileSystem_SetModified request;
    request = {};
    set_path(request, full);
    request.modified_ns = *modified;
    std::vector<uint8_t> reply;
    return call(sip, *directory->endpoint, FileSystem_MSG_SetModified, &request, sizeof request, FileSystem_MSG_Done, reply);
}

uint32_t WASI(path_rename)(void* host, uint32_t fd, uint32_t from, uint32_t from_length, uint32_t to_fd, uint32_t to, uint32_t to_length)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    Entry *from_directory = nullptr, *to_directory = nullptr;
    std::string from_path, to_path;
    if (uint32_t error = resolve(sip, fd, from, from_length, from_directory, from_path))
        return error;
    if (uint32_t error = resolve(sip, to_fd, to, to_length, to_directory, to_path))
        return error;
    if (from_directory->endpoint != to_directory->endpoint)
        return XDev;
    thread_local FileSystem_Rename request;
    request = {};
    request.from.length = uint32_t(from_path.size());
    std::memcpy(request.from.data, from_path.data(), from_path.size());
    request.to.length = uint32_t(to_path.size());
    std::memcpy(request.to.data, to_path.data(), to_path.size());
    std::vector<uint8_t> reply;
    return call(sip, *from_directory->endpoint, FileSystem_MSG_Rename, &request, sizeof request, FileSystem_MSG_Done, reply);
}

// Entries from the `cookie`-th on, as WASI dirents (24-byte header and name),
// as many as fit; the cookie of an entry is its position in the listing.
uint32_t WASI(fd_readdir)(void* host, uint32_t fd, uint32_t buffer, uint32_t length, uint64_t cookie, uint32_t out_used)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    FileTurn turn(sip);
    if (!turn)
        return Io;
    GuestMemory memory(sip.runtime());
    if (!memory.valid(buffer, length) || !memory.valid(out_used, 4))
        return Fault;
    Entry* entry = find(sip, fd);
    if (!entry)
        return stdio_open(sip, fd) ? NotDir : BadFd;
    if (entry->kind == Kind::File)
        return NotDir;
    auto endpoint = entry->endpoint;
    std::string path = entry->path;
    std::vector<uint8_t> out;
    std::vector<uint8_t> reply;
    thread_local FileSystem_List request;
    uint64_t index = 0;
    uint32_t cursor = 0;
    do {
        request = {};
        set_path(request, path);
        request.cursor = cursor;
        if (uint32_t error = call(sip, *endpoint, FileSystem_MSG_List, &request, sizeof request, FileSystem_MSG_Entries, reply))
            return error;
        auto const* entries = reinterpret_cast<FileSystem_Entries const*>(reply.data());
        if (reply.size() < sizeof(FileSystem_Entries))
            return Io;
        uint32_t at = 0;
        for (uint32_t i = 0; i < entries->count && out.size() < length; ++i, ++index) {
            if (at + 2 > entries->packed.length)
                return Io;
            uint8_t type = entries->packed.data[at];
            uint32_t name_length = entries->packed.data[at + 1];
            if (at + 2 + name_length > entries->packed.length)
                return Io;
            if (index >= cookie) {
                uint8_t dirent[24] = {};
                uint64_t next = index + 1;
                std::memcpy(dirent, &next, 8);
                std::memcpy(dirent + 16, &name_length, 4);
                dirent[20] = type == FS_TYPE_DIRECTORY ? FiletypeDirectory : FiletypeRegularFile;
                out.insert(out.end(), dirent, dirent + 24);
                out.insert(out.end(), entries->packed.data + at + 2, entries->packed.data + at + 2 + name_length);
            }
            at += 2 + name_length;
        }
        cursor = entries->next;
    } while (cursor && out.size() < length);
    // A full buffer tells the program to call again (with the last cookie it read).
    uint32_t used = uint32_t(std::min<size_t>(out.size(), length));
    GuestMemory after(sip.runtime());
    if (!after.write_bytes(buffer, out.data(), used) || !after.write(out_used, used))
        return Fault;
    return Success;
}

} // extern "C"
