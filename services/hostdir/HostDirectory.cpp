#include "services/hostdir/HostDirectory.h"
#include "kernel/abi/KernelChannel.h"

#include "FileSystem.h"
#include "FileSystemCodes.h"

#include <signet/abi.h>

#include <array>
#include <optional>
#include <span>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace signet {

namespace {

// WASI errno values beyond the FileSystem codes.
constexpr int32_t wasi_eloop = 32;
constexpr int32_t wasi_enosys = 52;
constexpr int32_t wasi_eperm = 63;
constexpr int32_t wasi_enotcapable = 76;

int32_t from_errno(int error)
{
    switch (error) {
    case ENOENT: return FS_ENOENT;
    case EEXIST: return FS_EEXIST;
    case ENOTDIR: return FS_ENOTDIR;
    case EISDIR: return FS_EISDIR;
    case ENOTEMPTY: return FS_ENOTEMPTY;
    case EACCES: return FS_EACCES;
    case EPERM: return wasi_eperm;
    case EXDEV: return wasi_enotcapable; // RESOLVE_BENEATH: the path would leave the directory
    case ELOOP: return wasi_eloop;
    case ENAMETOOLONG: return FS_ENAMETOOLONG;
    case ENOSPC: return FS_ENOSPC;
    case EINVAL: return FS_EINVAL;
    case EBADF: return FS_EBADF;
    case EFBIG: return FS_EFBIG;
    case EROFS: return FS_EROFS;
    case EMFILE:
    case ENFILE: return FS_EMFILE;
    case EBUSY: return FS_EBUSY;
    default: return FS_EIO;
    }
}

class Server {
public:
    Server(int root, std::shared_ptr<Endpoint> endpoint)
        : m_root(root)
        , m_endpoint(std::move(endpoint))
    {
    }
    ~Server()
    {
        for (auto& file : m_files) {
            if (file.fd >= 0)
                ::close(file.fd);
        }
        ::close(m_root);
    }
    void run();

private:
    struct File {
        int fd { -1 };
        uint8_t generation { 0 };
        uint32_t flags { 0 };
        uint64_t position { 0 };
        bool directory { false };
    };

    // Opens `path` (absolute in the service's namespace) beneath the root.
    int open_beneath(std::string_view path, int flags, mode_t mode = 0)
    {
        std::string relative(path);
        while (!relative.empty() && relative.front() == '/')
            relative.erase(relative.begin());
        if (relative.empty())
            relative = ".";
        open_how how {};
        how.flags = uint64_t(flags | O_CLOEXEC);
        how.mode = (flags & O_CREAT) ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, m_root, relative.c_str(), &how, sizeof how);
        return fd < 0 ? -errno : int(fd);
    }
    // The parent of `path`, opened beneath the root, and its last component
    // (which must be a plain name).
    int open_parent(std::string_view path, std::string& name)
    {
        while (path.size() > 1 && path.back() == '/')
            path.remove_suffix(1);
        size_t slash = path.rfind('/');
        if (path.empty() || path.front() != '/' || slash == std::string_view::npos)
            return -EINVAL;
        name = std::string(path.substr(slash + 1));
        if (name.empty())
            return -EBUSY; // the root itself
        if (name == "." || name == "..")
            return -EINVAL;
        if (name.size() > FS_NAME_MAX)
            return -ENAMETOOLONG;
        return open_beneath(path.substr(0, slash + 1), O_PATH | O_DIRECTORY);
    }
    File* file(uint32_t handle)
    {
        uint32_t slot = (handle & 0xff) - 1;
        if ((handle & 0xff) == 0 || slot >= m_files.size() || handle >> 16 || m_files[slot].fd < 0
            || m_files[slot].generation != ((handle >> 8) & 0xff))
            return nullptr;
        return &m_files[slot];
    }

    bool send(uint16_t id, void const* message, size_t size)
    {
        return abi::kernel_send(*m_endpoint, id, { static_cast<uint8_t const*>(message), size }) == SIGNET_OK;
    }
    bool fail(int32_t code)
    {
        FileSystem_Failed failed { code };
        return send(FileSystem_MSG_Failed, &failed, sizeof failed);
    }
    bool done() { return send(FileSystem_MSG_Done, nullptr, 0); }
    bool status_of(int fd);
    bool set_modified(int fd, uint64_t modified_ns)
    {
        timespec const times[2] = { { 0, UTIME_OMIT }, { time_t(modified_ns / 1'000'000'000), long(modified_ns % 1'000'000'000) } };
        return futimens(fd, times) == 0 ? done() : fail(from_errno(errno));
    }

    bool serve(uint16_t id, std::vector<uint8_t> const& bytes);
    bool open(std::string_view path, uint32_t flags);
    // Read and Write at the handle's position (which they advance), ReadAt and WriteAt at `offset`.
    bool read(File*, uint32_t length, std::optional<uint64_t> offset);
    bool write(File*, std::span<uint8_t const>, std::optional<uint64_t> offset);
    bool list(std::string_view path, uint32_t cursor);

    int m_root;
    std::shared_ptr<Endpoint> m_endpoint;
    std::array<File, FS_HANDLES_MAX> m_files;
    FileSystem_Data m_data {};
    FileSystem_Entries m_entries {};
};

template<typename Message>
Message const& view(std::vector<uint8_t> const& bytes)
{
    // The kernel checked the layout against the contract; the size is exact.
    return *reinterpret_cast<Message const*>(bytes.data());
}

bool Server::read(File* f, uint32_t length, std::optional<uint64_t> offset)
{
    if (!f || !(f->flags & FS_OPEN_READ))
        return fail(FS_EBADF);
    if (f->directory)
        return fail(FS_EISDIR);
    uint64_t position = offset.value_or(f->position);
    if (position > uint64_t(INT64_MAX))
        return fail(FS_EINVAL);
    ssize_t got = pread(f->fd, m_data.data.data, std::min<uint32_t>(length, FS_IO_MAX), off_t(position));
    if (got < 0)
        return fail(from_errno(errno));
    if (!offset)
        f->position += uint64_t(got);
    m_data.data.length = uint32_t(got);
    return send(FileSystem_MSG_Data, &m_data, sizeof m_data);
}

bool Server::write(File* f, std::span<uint8_t const> data, std::optional<uint64_t> offset)
{
    if (!f || !(f->flags & FS_OPEN_WRITE))
        return fail(FS_EBADF);
    uint64_t position = offset.value_or(f->position);
    struct stat status { };
    if (!offset && (f->flags & FS_OPEN_APPEND) && fstat(f->fd, &status) == 0)
        position = uint64_t(status.st_size);
    if (position > uint64_t(INT64_MAX) - FS_IO_MAX)
        return fail(FS_EFBIG);
    ssize_t put = pwrite(f->fd, data.data(), data.size(), off_t(position));
    if (put < 0)
        return fail(from_errno(errno));
    if (!offset)
        f->position = position + uint64_t(put);
    FileSystem_Written reply { uint32_t(put) };
    return send(FileSystem_MSG_Written, &reply, sizeof reply);
}

bool Server::status_of(int fd)
{
    struct stat status { };
    if (fstat(fd, &status) != 0)
        return fail(from_errno(errno));
    FileSystem_Status reply {};
    reply.type = S_ISDIR(status.st_mode) ? FS_TYPE_DIRECTORY : FS_TYPE_FILE;
    reply.inode = status.st_ino;
    reply.size = uint64_t(status.st_size);
    reply.links = uint32_t(status.st_nlink);
    reply.modified_ns = uint64_t(status.st_mtim.tv_sec) * 1'000'000'000 + uint64_t(status.st_mtim.tv_nsec);
    return send(FileSystem_MSG_Status, &reply, sizeof reply);
}

bool Server::open(std::string_view path, uint32_t flags)
{
    if (flags & ~FS_OPEN_ALL || ((flags & FS_OPEN_TRUNCATE) && !(flags & FS_OPEN_WRITE)))
        return fail(FS_EINVAL);
    auto slot = std::find_if(m_files.begin(), m_files.end(), [](File const& f) { return f.fd < 0; });
    if (slot == m_files.end())
        return fail(FS_EMFILE);
    int mode = (flags & FS_OPEN_WRITE) ? ((flags & FS_OPEN_READ) ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (flags & FS_OPEN_CREATE)
        mode |= O_CREAT;
    if ((flags & FS_OPEN_CREATE) && (flags & FS_OPEN_EXCLUSIVE))
        mode |= O_EXCL;
    if (flags & FS_OPEN_TRUNCATE)
        mode |= O_TRUNC;
    if (flags & FS_OPEN_DIRECTORY)
        mode |= O_DIRECTORY;
    int fd = open_beneath(path, mode, 0644);
    if (fd < 0)
        return fail(from_errno(-fd));
    struct stat status { };
    if (fstat(fd, &status) != 0 || (!S_ISDIR(status.st_mode) && !S_ISREG(status.st_mode))) {
        ::close(fd);
        return fail(FS_EACCES); // only directories and regular files are served
    }
    slot->fd = fd;
    slot->generation = uint8_t(slot->generation + 1 ? slot->generation + 1 : 1);
    slot->flags = flags;
    slot->position = 0;
    slot->directory = S_ISDIR(status.st_mode);
    FileSystem_Opened reply { (uint32_t(slot->generation) << 8) | uint32_t(slot - m_files.begin() + 1) };
    return send(FileSystem_MSG_Opened, &reply, sizeof reply);
}

bool Server::list(std::string_view path, uint32_t cursor)
{
    int fd = open_beneath(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return fail(from_errno(-fd));
    DIR* directory = fdopendir(fd);
    if (!directory) {
        ::close(fd);
        return fail(FS_EIO);
    }
    std::memset(&m_entries, 0, sizeof m_entries);
    uint32_t index = 0, used = 0, count = 0;
    bool more = false;
    while (dirent* entry = readdir(directory)) {
        std::string_view name(entry->d_name);
        if (name == "." || name == ".." || name.size() > 255)
            continue;
        if (index++ < cursor)
            continue;
        if (used + 2 + name.size() > sizeof m_entries.packed.data) {
            more = true;
            break;
        }
        m_entries.packed.data[used++] = entry->d_type == DT_DIR ? FS_TYPE_DIRECTORY : FS_TYPE_FILE;
        m_entries.packed.data[used++] = uint8_t(name.size());
        std::memcpy(m_entries.packed.data + used, name.data(), name.size());
        used += uint32_t(name.size());
        count++;
    }
    closedir(directory);
    m_entries.count = count;
    m_entries.next = more ? cursor + count : 0;
    m_entries.packed.length = used;
    return send(FileSystem_MSG_Entries, &m_entries, sizeof m_entries);
}

std::string_view text(auto const& field)
{
    return { field.data, field.length };
}

bool Server::serve(uint16_t id, std::vector<uint8_t> const& bytes)
{
    std::string name, other_name;
    switch (id) {
    case FileSystem_MSG_Create:
        return open(text(view<FileSystem_Create>(bytes).path), FS_OPEN_READ | FS_OPEN_WRITE | FS_OPEN_CREATE | FS_OPEN_EXCLUSIVE);
    case FileSystem_MSG_Open:
        return open(text(view<FileSystem_Open>(bytes).path), view<FileSystem_Open>(bytes).flags);
    case FileSystem_MSG_Read: {
        auto const& request = view<FileSystem_Read>(bytes);
        return read(file(request.handle), request.length, std::nullopt);
    }
    case FileSystem_MSG_ReadAt: {
        auto const& request = view<FileSystem_ReadAt>(bytes);
        return read(file(request.handle), request.length, request.offset);
    }
    case FileSystem_MSG_Write: {
        auto const& request = view<FileSystem_Write>(bytes);
        return write(file(request.handle), { request.data.data, request.data.length }, std::nullopt);
    }
    case FileSystem_MSG_WriteAt: {
        auto const& request = view<FileSystem_WriteAt>(bytes);
        return write(file(request.handle), { request.data.data, request.data.length }, request.offset);
    }
    case FileSystem_MSG_Seek: {
        auto const& request = view<FileSystem_Seek>(bytes);
        File* f = file(request.handle);
        if (!f)
            return fail(FS_EBADF);
        struct stat status { };
        if (fstat(f->fd, &status) != 0)
            return fail(from_errno(errno));
        int64_t base = request.whence == FS_SEEK_SET ? 0 : request.whence == FS_SEEK_CURRENT ? int64_t(f->position) : request.whence == FS_SEEK_END ? int64_t(status.st_size) : -1;
        int64_t offset = request.offset;
        if (base < 0 || (offset < 0 && -(offset + 1) >= base) || (offset > 0 && offset > INT64_MAX - base))
            return fail(FS_EINVAL);
        f->position = uint64_t(base + offset);
        FileSystem_Position reply { f->position };
        return send(FileSystem_MSG_Position, &reply, sizeof reply);
    }
    case FileSystem_MSG_Truncate: {
        auto const& request = view<FileSystem_Truncate>(bytes);
        File* f = file(request.handle);
        if (!f || !(f->flags & FS_OPEN_WRITE))
            return fail(f && f->directory ? FS_EISDIR : FS_EBADF);
        if (request.size > uint64_t(INT64_MAX))
            return fail(FS_EFBIG);
        return ftruncate(f->fd, off_t(request.size)) == 0 ? done() : fail(from_errno(errno));
    }
    case FileSystem_MSG_Fsync: {
        File* f = file(view<FileSystem_Fsync>(bytes).handle);
        if (!f)
            return fail(FS_EBADF);
        return fsync(f->fd) == 0 ? send(FileSystem_MSG_Synced, nullptr, 0) : fail(from_errno(errno));
    }
    case FileSystem_MSG_Sync:
        return syncfs(m_root) == 0 ? send(FileSystem_MSG_Synced, nullptr, 0) : fail(from_errno(errno));
    case FileSystem_MSG_Close: {
        File* f = file(view<FileSystem_Close>(bytes).handle);
        if (!f)
            return fail(FS_EBADF);
        ::close(f->fd);
        f->fd = -1;
        return done();
    }
    case FileSystem_MSG_Rename: {
        auto const& request = view<FileSystem_Rename>(bytes);
        int from = open_parent(text(request.from), name);
        if (from < 0)
            return fail(from_errno(-from));
        int to = open_parent(text(request.to), other_name);
        if (to < 0) {
            ::close(from);
            return fail(from_errno(-to));
        }
        int result = renameat(from, name.c_str(), to, other_name.c_str());
        int error = errno;
        ::close(from);
        ::close(to);
        return result == 0 ? done() : fail(from_errno(error));
    }
    case FileSystem_MSG_Unlink:
    case FileSystem_MSG_Rmdir:
    case FileSystem_MSG_Mkdir: {
        // The three share one layout (one path).
        int parent = open_parent(text(view<FileSystem_Unlink>(bytes).path), name);
        if (parent < 0)
            return fail(from_errno(-parent));
        int result = id == FileSystem_MSG_Mkdir ? mkdirat(parent, name.c_str(), 0755)
                                                : unlinkat(parent, name.c_str(), id == FileSystem_MSG_Rmdir ? AT_REMOVEDIR : 0);
        int error = errno;
        ::close(parent);
        return result == 0 ? done() : fail(from_errno(error));
    }
    case FileSystem_MSG_List:
        return list(text(view<FileSystem_List>(bytes).path), view<FileSystem_List>(bytes).cursor);
    case FileSystem_MSG_Stat: {
        int fd = open_beneath(text(view<FileSystem_Stat>(bytes).path), O_PATH);
        if (fd < 0)
            return fail(from_errno(-fd));
        bool sent = status_of(fd);
        ::close(fd);
        return sent;
    }
    case FileSystem_MSG_StatHandle: {
        File* f = file(view<FileSystem_StatHandle>(bytes).handle);
        return f ? status_of(f->fd) : fail(FS_EBADF);
    }
    case FileSystem_MSG_SetModified: {
        auto const& request = view<FileSystem_SetModified>(bytes);
        int fd = open_beneath(text(request.path), O_RDONLY | O_NONBLOCK);
        if (fd < 0)
            return fail(from_errno(-fd));
        bool sent = set_modified(fd, request.modified_ns);
        ::close(fd);
        return sent;
    }
    case FileSystem_MSG_SetModifiedHandle: {
        auto const& request = view<FileSystem_SetModifiedHandle>(bytes);
        File* f = file(request.handle);
        return f ? set_modified(f->fd, request.modified_ns) : fail(FS_EBADF);
    }
    default:
        // Check (a host directory has no check of ours) and Connect (this server
        // keeps one connection).
        return fail(wasi_enosys);
    }
}

void Server::run()
{
    std::vector<uint8_t> bytes;
    for (;;) {
        uint16_t id = 0;
        if (abi::kernel_receive(*m_endpoint, id, bytes) != SIGNET_OK)
            return; // the client is gone, or the kernel stops this SIP
        if (!serve(id, bytes))
            return;
    }
}

} // namespace

ErrorOr<std::shared_ptr<Endpoint>> serve_host_directory(Kernel& kernel, std::shared_ptr<Image> image, std::string const& host_path)
{
    int root = ::open(host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return Error::from_errno("--dir: cannot open directory '" + host_path + "'", errno);
    auto type = kernel.contract_type({ FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE });
    if (type.is_error()) {
        ::close(root);
        return type.release_error();
    }
    auto [importer, exporter] = Channel::create(type.release_value());
    auto server = std::make_shared<Server>(root, exporter);
    SpawnRequest request;
    request.image = std::move(image);
    request.name = "hostdir:" + host_path;
    request.args = { "hostdir", host_path };
    request.stdio = Stdio::host();
    request.limits.memory_bytes = 16ull << 20;
    request.principal = "signet-system/hostdir";
    request.host_entry = [server](Sip&) { server->run(); };
    TRY(kernel.spawn(std::move(request)));
    return importer;
}

} // namespace signet
