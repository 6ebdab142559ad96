// Signet's internal error: a category plus a human-readable message.
//
// Errors are values. Kernel code never throws; it returns ErrorOr<T> and
// propagates with TRY. The message is written for the person reading the
// CLI's output: it names the thing that is wrong and where.
#pragma once

#include <string>
#include <utility>

namespace signet {

enum class ErrorKind {
    InvalidInput,  // Malformed or hostile input (module, manifest, contract, argument).
    NotFound,      // A named thing does not exist.
    Exists,        // A named thing already exists.
    Io,            // The host refused an operation (open, write, mmap, ...).
    Limit,         // A named limit or quota was reached.
    Toolchain,     // An external compiler step failed.
    Corrupt,       // Stored data failed its integrity check.
    Unsupported,   // A feature Signet does not implement.
    Internal,      // A Signet bug surfaced as an error rather than a crash.
};

class Error {
public:
    Error(ErrorKind kind, std::string message)
        : m_kind(kind)
        , m_message(std::move(message))
    {
    }

    static Error invalid(std::string message) { return { ErrorKind::InvalidInput, std::move(message) }; }
    static Error not_found(std::string message) { return { ErrorKind::NotFound, std::move(message) }; }
    static Error io(std::string message) { return { ErrorKind::Io, std::move(message) }; }
    static Error from_errno(std::string const& what, int err);

    ErrorKind kind() const { return m_kind; }
    std::string const& message() const { return m_message; }

private:
    ErrorKind m_kind;
    std::string m_message;
};

} // namespace signet
