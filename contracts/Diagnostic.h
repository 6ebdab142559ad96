// Diagnostics of the contract compiler, printed as `file:line:col: error: message`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace signet::contracts {

// A position in a source file. Lines and columns count from 1; columns count bytes.
struct SourceLocation {
    uint32_t line { 1 };
    uint32_t column { 1 };

    bool operator==(SourceLocation const&) const = default;
};

struct Diagnostic {
    std::string file;
    SourceLocation location;
    std::string message;

    // `file:line:col: error: message`, without a trailing newline.
    std::string to_string() const;
};

// Diagnostics one per line, each ending in a newline.
std::string format_diagnostics(std::vector<Diagnostic> const&);

// Collects the errors of one compilation. After `max_errors` it records one
// last "too many errors" diagnostic and drops the rest, so hostile input
// cannot make the compiler print without end.
class Diagnostics {
public:
    static constexpr size_t max_errors = 100;

    void error(std::string const& file, SourceLocation location, std::string message);

    bool has_errors() const { return !m_list.empty(); }
    size_t count() const { return m_list.size(); }
    std::vector<Diagnostic> const& list() const { return m_list; }
    std::vector<Diagnostic> release() { return std::move(m_list); }

private:
    std::vector<Diagnostic> m_list;
    bool m_truncated { false };
};

// Quotes a name for a message: 'name'.
std::string quoted(std::string_view name);

} // namespace signet::contracts
