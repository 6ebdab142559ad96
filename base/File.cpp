#include "base/File.h"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace signet {

ErrorOr<std::vector<uint8_t>> read_file(std::string const& path, uint64_t max_bytes)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("cannot open " + path, errno);
    struct stat st {};
    if (::fstat(fd, &st) < 0) {
        int err = errno;
        ::close(fd);
        return Error::from_errno("cannot stat " + path, err);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return Error::invalid(path + ": not a regular file");
    }
    if (static_cast<uint64_t>(st.st_size) > max_bytes) {
        ::close(fd);
        return Error(ErrorKind::Limit, path + ": file is " + std::to_string(st.st_size) + " bytes, larger than the limit of " + std::to_string(max_bytes));
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            return Error::from_errno("cannot read " + path, err);
        }
        if (n == 0)
            break;
        done += static_cast<size_t>(n);
    }
    bytes.resize(done);
    ::close(fd);
    return bytes;
}

ErrorOr<std::string> read_text_file(std::string const& path, uint64_t max_bytes)
{
    auto bytes = TRY(read_file(path, max_bytes));
    return std::string(bytes.begin(), bytes.end());
}

ErrorOr<void> write_file_atomic(std::string const& path, std::span<uint8_t const> bytes)
{
    std::string temporary = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return Error::from_errno("cannot create " + temporary, errno);
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            return Error::from_errno("cannot write " + temporary, err);
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) < 0 || ::close(fd) < 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return Error::from_errno("cannot flush " + temporary, err);
    }
    if (::rename(temporary.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(temporary.c_str());
        return Error::from_errno("cannot rename into " + path, err);
    }
    return {};
}

ErrorOr<void> write_file_atomic(std::string const& path, std::string const& text)
{
    return write_file_atomic(path, std::span<uint8_t const>(reinterpret_cast<uint8_t const*>(text.data()), text.size()));
}

ErrorOr<void> make_directories(std::string const& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
        return Error::io("cannot create directory " + path + ": " + ec.message());
    return {};
}

} // namespace signet
