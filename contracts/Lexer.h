// Turns contract source text into tokens.
#pragma once

#include "contracts/Diagnostic.h"
#include "contracts/Token.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signet::contracts {

class Lexer {
public:
    // `source` must outlive the tokens: their text points into it.
    Lexer(std::string const& file, std::string_view source, Diagnostics&);

    // Every token, ending with EndOfFile; or nothing, after reporting the first
    // malformed token (or invalid UTF-8) to the diagnostics.
    std::optional<std::vector<Token>> tokenize();

private:
    bool at_end() const { return m_offset >= m_source.size(); }
    char peek(size_t ahead = 0) const;
    void advance(size_t count = 1);
    void skip_whitespace_and_comments();
    bool lex_token(Token&);
    void error(SourceLocation, std::string message);

    std::string const& m_file;
    std::string_view m_source;
    Diagnostics& m_diagnostics;
    size_t m_offset { 0 };
    SourceLocation m_location;
    std::string m_pending_doc;
};

} // namespace signet::contracts
