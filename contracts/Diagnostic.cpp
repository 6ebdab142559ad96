#include "contracts/Diagnostic.h"

namespace signet::contracts {

std::string Diagnostic::to_string() const
{
    return file + ":" + std::to_string(location.line) + ":" + std::to_string(location.column) + ": error: " + message;
}

void Diagnostics::error(std::string const& file, SourceLocation location, std::string message)
{
    if (m_truncated)
        return;
    if (m_list.size() == max_errors) {
        m_list.push_back({ file, location, "too many errors (" + std::to_string(max_errors) + "); stopping here" });
        m_truncated = true;
        return;
    }
    m_list.push_back({ file, location, std::move(message) });
}

std::string format_diagnostics(std::vector<Diagnostic> const& diagnostics)
{
    std::string text;
    for (auto const& diagnostic : diagnostics) {
        text += diagnostic.to_string();
        text += '\n';
    }
    return text;
}

std::string quoted(std::string_view name)
{
    std::string text;
    text.reserve(name.size() + 2);
    text += '\'';
    text += name;
    text += '\'';
    return text;
}

} // namespace signet::contracts
