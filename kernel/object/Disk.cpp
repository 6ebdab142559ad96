#include "kernel/object/Disk.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace signet {

ErrorOr<std::shared_ptr<Disk>> Disk::open(std::string const& name, std::string const& path, uint64_t size)
{
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error::from_errno("disk " + name + ": cannot open '" + path + "'", errno);
    struct stat status { };
    if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        ::close(fd);
        return Error::invalid("disk " + name + ": '" + path + "' is not a regular file");
    }
    // A new or shorter file grows (sparsely) to the declared size; a longer one keeps its tail, unseen.
    if (uint64_t(status.st_size) < size && ftruncate(fd, off_t(size)) != 0) {
        int error = errno;
        ::close(fd);
        return Error::from_errno("disk " + name + ": cannot size '" + path + "'", error);
    }
    return std::shared_ptr<Disk>(new Disk(name, fd, size));
}

Disk::~Disk()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

int Disk::read(uint64_t offset, std::span<uint8_t> buffer)
{
    size_t done = 0;
    while (done < buffer.size()) {
        ssize_t got = ::pread(m_fd, buffer.data() + done, buffer.size() - done, off_t(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno;
        if (got == 0) {
            // Past the host file's end (it was shortened behind our back): reads as zeros.
            std::fill(buffer.begin() + long(done), buffer.end(), 0);
            break;
        }
        done += size_t(got);
    }
    return 0;
}

int Disk::read_cached(uint64_t offset, std::span<uint8_t> buffer, size_t& done)
{
    done = 0;
    while (done < buffer.size()) {
        iovec vector { buffer.data() + done, buffer.size() - done };
        ssize_t got = ::preadv2(m_fd, &vector, 1, off_t(offset + done), RWF_NOWAIT);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == EAGAIN ? 0 : errno;
        if (got == 0)
            return 0; // Past the host file's end: read() makes that zeros.
        done += size_t(got);
    }
    return 0;
}

int Disk::write(uint64_t offset, std::span<uint8_t const> data)
{
    size_t done = 0;
    while (done < data.size()) {
        ssize_t put = ::pwrite(m_fd, data.data() + done, data.size() - done, off_t(offset + done));
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return put < 0 ? errno : EIO;
        done += size_t(put);
    }
    return 0;
}

int Disk::flush()
{
    while (::fdatasync(m_fd) != 0) {
        if (errno != EINTR)
            return errno;
    }
    return 0;
}

ErrorOr<void> DiskRegistry::bind(std::string const& name, std::string const& host_path)
{
    std::lock_guard guard(m_lock);
    if (!m_disks.contains(name) && m_disks.size() >= max_disks)
        return Error(ErrorKind::Limit, "disk " + name + ": a kernel knows at most " + std::to_string(max_disks) + " disks");
    auto& entry = m_disks[name];
    if (entry.open.lock())
        return Error(ErrorKind::Exists, "disk " + name + " is in use and cannot be rebound");
    entry.path = host_path;
    return {};
}

ErrorOr<std::shared_ptr<Disk>> DiskRegistry::open(std::string const& name, uint64_t size)
{
    std::lock_guard guard(m_lock);
    auto found = m_disks.find(name);
    if (found == m_disks.end())
        return Error::not_found("disk " + name + ": no host file is bound to it (signet run --disk " + name + "=PATH)");
    if (found->second.open.lock())
        return Error(ErrorKind::Exists, "disk " + name + " is already open");
    auto disk = TRY(Disk::open(name, found->second.path, size));
    found->second.open = disk;
    return disk;
}

} // namespace signet
