// Disks: host files that back the virtual disks of block-device drivers.
//
// A program's manifest declares the disks it drives ([[resource]] kind = "disk");
// the host side (`signet run --disk NAME=PATH`, `signet boot`) decides which
// file backs each name. A SIP gets a Disk handle only through disk_open, only
// for a disk its own manifest declares, and only while no other handle to that
// disk is open, so exactly one driver owns a disk at a time. The file is sized
// to the declared size when it is opened; the SIP sees exactly that many bytes.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/object/KernelObject.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

namespace signet {

// What a manifest grants a SIP: a disk by name, of a size.
struct DiskGrant {
    std::string name;
    uint64_t size_bytes { 0 };
};

class Disk final : public KernelObject {
public:
    static constexpr ObjectType object_type = ObjectType::Disk;
    ObjectType type() const override { return ObjectType::Disk; }

    // Opens (creating if needed) the host file and makes it at least `size` bytes long.
    static ErrorOr<std::shared_ptr<Disk>> open(std::string const& name, std::string const& path, uint64_t size);
    ~Disk() override;

    std::string const& name() const { return m_name; }
    uint64_t size() const { return m_size; }
    // The range must lie inside the disk (the caller checked); errno on a host failure.
    int read(uint64_t offset, std::span<uint8_t>);
    // Reads only what the host's page cache holds, from the start of the range,
    // without waiting for the device: sets `done` to the bytes read (less than
    // asked where the cache stops). errno on a host failure; EOPNOTSUPP if the
    // host file system cannot read without waiting.
    int read_cached(uint64_t offset, std::span<uint8_t>, size_t& done);
    int write(uint64_t offset, std::span<uint8_t const>);
    // fdatasync: everything written so far survives a crash of the host.
    int flush();

private:
    Disk(std::string name, int fd, uint64_t size)
        : m_name(std::move(name))
        , m_fd(fd)
        , m_size(size)
    {
    }
    std::string m_name;
    int m_fd { -1 };
    uint64_t m_size { 0 };
};

// The kernel's table of disks: name -> host file, and the open handle if any.
class DiskRegistry {
public:
    // Named limit: disks one kernel knows.
    static constexpr size_t max_disks = 64;

    // The host side names the file behind a disk (before any SIP opens it).
    ErrorOr<void> bind(std::string const& name, std::string const& host_path);
    // For disk_open: the disk `name`, sized `size`; NotFound if no file is bound to
    // it, Exists if it is open already, Io if the host file cannot be opened.
    ErrorOr<std::shared_ptr<Disk>> open(std::string const& name, uint64_t size);

private:
    struct Entry {
        std::string path;
        std::weak_ptr<Disk> open;
    };
    std::mutex m_lock;
    std::map<std::string, Entry> m_disks;
};

} // namespace signet
