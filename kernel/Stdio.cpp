#include "kernel/Stdio.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace signet {

ErrorOr<size_t> FdOutputStream::write(std::span<uint8_t const> bytes)
{
    std::lock_guard guard(m_lock);
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(m_fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("write", errno);
        done += static_cast<size_t>(n);
    }
    return done;
}

ErrorOr<size_t> BufferOutputStream::write(std::span<uint8_t const> bytes)
{
    std::lock_guard guard(m_lock);
    m_buffer.append(reinterpret_cast<char const*>(bytes.data()), bytes.size());
    return bytes.size();
}

std::string BufferOutputStream::contents() const
{
    std::lock_guard guard(m_lock);
    return m_buffer;
}

ErrorOr<size_t> FdInputStream::read(std::span<uint8_t> buffer)
{
    for (;;) {
        ssize_t n = ::read(m_fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("read", errno);
        return static_cast<size_t>(n);
    }
}

ErrorOr<size_t> BufferInputStream::read(std::span<uint8_t> buffer)
{
    std::lock_guard guard(m_lock);
    size_t n = std::min(buffer.size(), m_data.size() - m_offset);
    if (n == 0)
        return n; // an empty buffer may have no address at all
    std::memcpy(buffer.data(), m_data.data() + m_offset, n);
    m_offset += n;
    return n;
}

Stdio Stdio::host()
{
    static auto in = std::make_shared<FdInputStream>(0);
    static auto out = std::make_shared<FdOutputStream>(1);
    static auto err = std::make_shared<FdOutputStream>(2);
    return { in, out, err };
}

} // namespace signet
