// signet_v1 disks: the host file behind a disk that the caller's manifest
// declares, for block-device driver SIPs. See docs/abi.md and docs/filesystem.md.
//
// What waits for the device runs on the kernel's disk I/O thread while the
// calling fiber waits, so the worker runs its other SIPs meanwhile: a flush (an
// fdatasync: ~0.7 ms on the development VM, three per file-system transaction),
// and the part of a read that the host's page cache does not hold (a read first
// takes what the cache has, without waiting: preadv2 with RWF_NOWAIT). A read
// the cache holds, and a write, run on the caller's worker: they copy to and
// from the page cache, microseconds for the 4-16 KiB blocks the file system
// moves, less than handing them to another thread and waking the fiber again
// would cost.
#include "kernel/abi/Abi.h"
#include "kernel/object/Disk.h"

#include "base/Copy.h"

#include <cerrno>
#include <optional>
#include <vector>

using namespace signet;
using namespace signet::abi;

namespace {

// Named limits: the longest disk name, and the most bytes one call moves.
constexpr uint32_t max_disk_name = 64;
constexpr uint32_t max_transfer = 16u << 20;

// The disk behind `handle` and the checked range, or a status.
int32_t check_transfer(Sip& sip, uint32_t handle, uint64_t offset, uint32_t buffer, uint32_t length, std::shared_ptr<Disk>& disk, uint8_t*& data)
{
    disk = sip.handles().get_as<Disk>(handle);
    if (!disk)
        return SIGNET_BAD_HANDLE;
    GuestMemory memory(sip.runtime());
    data = memory.range(buffer, length);
    if (!data && !(length == 0 && memory.valid(buffer, 0)))
        return SIGNET_OUT_OF_BOUNDS;
    if (length > max_transfer)
        return SIGNET_LIMIT;
    if (offset > disk->size() || length > disk->size() - offset)
        return SIGNET_INVALID_ARGUMENT;
    return SIGNET_OK;
}

// Flushes on the disk I/O thread; empty if the thread was killed while it waited
// (the flush still completes: the job holds the disk).
std::optional<uint32_t> flush(Sip& sip, uint32_t handle)
{
    auto disk = sip.handles().get_as<Disk>(handle);
    if (!disk)
        return SIGNET_BAD_HANDLE;
    auto call = std::make_shared<Kernel::HostCall>();
    auto failed = std::make_shared<bool>(false);
    call->job = [disk, failed] { *failed = disk->flush() != 0; };
    if (!sip.kernel().run_on_io_thread(call, Kernel::IoLane::Disk))
        return std::nullopt;
    return *failed ? SIGNET_IO : SIGNET_OK;
}

// Reads what the page cache did not hold on the disk I/O thread, into a buffer
// of the job's own (a SIP killed meanwhile may be gone when the read ends), then
// copies it to the SIP. Empty if the thread was killed while it waited.
std::optional<uint32_t> read_from_device(Sip& sip, std::shared_ptr<Disk> disk, uint64_t offset, uint32_t buffer, uint32_t length)
{
    struct Read {
        std::vector<uint8_t> bytes;
        int error { 0 };
    };
    auto read = std::make_shared<Read>();
    read->bytes.resize(length);
    auto call = std::make_shared<Kernel::HostCall>();
    call->job = [disk = std::move(disk), read, offset] { read->error = disk->read(offset, read->bytes); };
    if (!sip.kernel().run_on_io_thread(call, Kernel::IoLane::Disk))
        return std::nullopt;
    if (read->error)
        return SIGNET_IO;
    // Checked before the wait, but a sibling thread may have sent away a block
    // that held the buffer meanwhile: a hole now.
    uint8_t* data = GuestMemory(sip.runtime()).range(buffer, length);
    if (!data)
        return SIGNET_OUT_OF_BOUNDS;
    copy_bytes(data, read->bytes.data(), length);
    return SIGNET_OK;
}

} // namespace

extern "C" {

uint32_t Z_signet_v1Z_disk_open(void* host, uint32_t name, uint32_t name_length, uint32_t out_disk)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(name, name_length) || !memory.valid(out_disk, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (name_length == 0 || name_length > max_disk_name)
        return SIGNET_INVALID_ARGUMENT;
    std::string wanted(reinterpret_cast<char const*>(memory.range(name, name_length)), name_length);
    // Only a disk the SIP's own manifest declares, whatever the host has bound.
    auto const& grants = sip.disks();
    auto grant = std::find_if(grants.begin(), grants.end(), [&](DiskGrant const& g) { return g.name == wanted; });
    if (grant == grants.end())
        return SIGNET_DENIED;
    if (sip.handles().free_slots() < 1)
        return SIGNET_LIMIT;
    auto disk = sip.kernel().disks().open(wanted, grant->size_bytes);
    if (disk.is_error()) {
        (void)sip.kernel().diagnostics().write("signet: SIP " + std::to_string(sip.id()) + " (" + sip.name() + "): " + disk.error().message() + "\n");
        switch (disk.error().kind()) {
        case ErrorKind::NotFound:
            return SIGNET_NOT_FOUND;
        case ErrorKind::Exists:
            return SIGNET_WOULD_BLOCK;
        default:
            return SIGNET_IO;
        }
    }
    uint32_t handle = sip.handles().insert(disk.release_value());
    VERIFY(handle);
    memory.write(out_disk, handle);
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_disk_size(void* host, uint32_t handle, uint32_t out_bytes)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto disk = sip.handles().get_as<Disk>(handle);
    if (!disk)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(out_bytes, 8))
        return SIGNET_OUT_OF_BOUNDS;
    memory.write(out_bytes, disk->size());
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_disk_read(void* host, uint32_t handle, uint64_t offset, uint32_t buffer, uint32_t length)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    std::shared_ptr<Disk> disk;
    uint8_t* data = nullptr;
    if (int32_t status = check_transfer(sip, handle, offset, buffer, length, disk, data); status != SIGNET_OK)
        return status;
    size_t cached = 0;
    int error = disk->read_cached(offset, { data, length }, cached);
    if (error == EOPNOTSUPP) { // The host file system cannot read without waiting: read here.
        error = disk->read(offset, { data, length });
        cached = length;
    }
    if (error)
        return SIGNET_IO;
    if (cached == length)
        return SIGNET_OK;
    std::optional<uint32_t> status = read_from_device(sip, std::move(disk), offset + cached, buffer + uint32_t(cached), length - uint32_t(cached));
    if (!status)
        unwind_current(static_cast<int>(Unwind::Killed)); // nothing of read_from_device() is left on the stack
    return *status;
}

uint32_t Z_signet_v1Z_disk_write(void* host, uint32_t handle, uint64_t offset, uint32_t buffer, uint32_t length)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    std::shared_ptr<Disk> disk;
    uint8_t* data = nullptr;
    if (int32_t status = check_transfer(sip, handle, offset, buffer, length, disk, data); status != SIGNET_OK)
        return status;
    if (length && disk->write(offset, { data, length }) != 0)
        return SIGNET_IO;
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_disk_flush(void* host, uint32_t handle)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    std::optional<uint32_t> status = flush(sip, handle);
    if (!status)
        unwind_current(static_cast<int>(Unwind::Killed)); // nothing of flush() is left on the stack
    return *status;
}

} // extern "C"
