// Where a SIP's standard streams go. For now they are host streams owned by
// the kernel; with the console service they become channel endpoints.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

namespace signet {

class OutputStream {
public:
    virtual ~OutputStream() = default;
    // Writes all of `bytes` as one unit: output of different SIPs never interleaves inside one call.
    virtual ErrorOr<size_t> write(std::span<uint8_t const> bytes) = 0;
    ErrorOr<size_t> write(std::string const& text)
    {
        return write(std::span<uint8_t const>(reinterpret_cast<uint8_t const*>(text.data()), text.size()));
    }
};

class InputStream {
public:
    virtual ~InputStream() = default;
    // May block the host thread; the kernel calls it from its I/O thread, never a worker.
    virtual ErrorOr<size_t> read(std::span<uint8_t> buffer) = 0;
};

class FdOutputStream final : public OutputStream {
public:
    explicit FdOutputStream(int fd)
        : m_fd(fd)
    {
    }
    ErrorOr<size_t> write(std::span<uint8_t const> bytes) override;

private:
    int m_fd;
    std::mutex m_lock;
};

class BufferOutputStream final : public OutputStream {
public:
    ErrorOr<size_t> write(std::span<uint8_t const> bytes) override;
    std::string contents() const;

private:
    mutable std::mutex m_lock;
    std::string m_buffer;
};

class FdInputStream final : public InputStream {
public:
    explicit FdInputStream(int fd)
        : m_fd(fd)
    {
    }
    ErrorOr<size_t> read(std::span<uint8_t> buffer) override;

private:
    int m_fd;
};

class BufferInputStream final : public InputStream {
public:
    explicit BufferInputStream(std::string data)
        : m_data(std::move(data))
    {
    }
    ErrorOr<size_t> read(std::span<uint8_t> buffer) override;

private:
    std::mutex m_lock;
    std::string m_data;
    size_t m_offset { 0 };
};

struct Stdio {
    std::shared_ptr<InputStream> in;
    std::shared_ptr<OutputStream> out;
    std::shared_ptr<OutputStream> err;

    static Stdio host();
};

} // namespace signet
