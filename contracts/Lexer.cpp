#include "contracts/Lexer.h"

#include "contracts/Limits.h"
#include "contracts/Utf8.h"

#include <array>
#include <cstdio>
#include <utility>

namespace signet::contracts {

char const* token_spelling(TokenKind kind)
{
    switch (kind) {
#define SIGNET_TOKEN_SPELLING(kind, spelling) \
    case TokenKind::kind:                     \
        return spelling;
        SIGNET_CONTRACT_TOKENS(SIGNET_TOKEN_SPELLING)
#undef SIGNET_TOKEN_SPELLING
    }
    return "token";
}

std::string describe(Token const& token)
{
    switch (token.kind) {
    case TokenKind::EndOfFile:
        return "end of file";
    case TokenKind::Identifier:
        return "identifier " + quoted(token.text);
    case TokenKind::Integer:
        return "integer " + std::string(token.text);
    case TokenKind::String:
        return "string literal \"" + std::string(token.text) + "\"";
    case TokenKind::KeywordContract:
    case TokenKind::KeywordImport:
    case TokenKind::KeywordIn:
    case TokenKind::KeywordOut:
    case TokenKind::KeywordMessage:
    case TokenKind::KeywordState:
    case TokenKind::KeywordOne:
    case TokenKind::KeywordOr:
        return "keyword " + quoted(token_spelling(token.kind));
    default:
        return quoted(token_spelling(token.kind));
    }
}

static bool is_identifier_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_identifier_part(char c) { return is_identifier_start(c) || is_digit(c); }

static constexpr std::array<std::pair<std::string_view, TokenKind>, 8> keywords { {
    { "contract", TokenKind::KeywordContract },
    { "import", TokenKind::KeywordImport },
    { "in", TokenKind::KeywordIn },
    { "out", TokenKind::KeywordOut },
    { "message", TokenKind::KeywordMessage },
    { "state", TokenKind::KeywordState },
    { "one", TokenKind::KeywordOne },
    { "or", TokenKind::KeywordOr },
} };

// Names a character the lexer cannot use, in a form safe to print.
static std::string describe_character(std::string_view rest)
{
    auto lead = static_cast<unsigned char>(rest[0]);
    if (lead >= 0x20 && lead < 0x7f)
        return quoted(rest.substr(0, 1));
    if (lead < 0x80) {
        char text[16];
        std::snprintf(text, sizeof text, "U+%04X", lead);
        return text;
    }
    // The source is well-formed UTF-8 by now, so the sequence is complete.
    size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    return quoted(rest.substr(0, length));
}

Lexer::Lexer(std::string const& file, std::string_view source, Diagnostics& diagnostics)
    : m_file(file)
    , m_source(source)
    , m_diagnostics(diagnostics)
{
}

char Lexer::peek(size_t ahead) const
{
    return m_offset + ahead < m_source.size() ? m_source[m_offset + ahead] : '\0';
}

void Lexer::advance(size_t count)
{
    for (size_t i = 0; i < count && !at_end(); ++i) {
        if (m_source[m_offset] == '\n') {
            ++m_location.line;
            m_location.column = 1;
        } else {
            ++m_location.column;
        }
        ++m_offset;
    }
}

void Lexer::error(SourceLocation location, std::string message)
{
    m_diagnostics.error(m_file, location, std::move(message));
}

void Lexer::skip_whitespace_and_comments()
{
    while (!at_end()) {
        char c = peek();
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            advance();
            continue;
        }
        if (c != '/' || peek(1) != '/')
            return;
        size_t end = m_source.find('\n', m_offset);
        if (end == std::string_view::npos)
            end = m_source.size();
        std::string_view line = m_source.substr(m_offset, end - m_offset);
        // `///` starts a doc comment; `////` and more are ordinary comments, a common way to draw rules.
        if (line.starts_with("///") && !line.starts_with("////")) {
            std::string_view text = line.substr(3);
            if (text.starts_with(' '))
                text.remove_prefix(1);
            if (text.ends_with('\r'))
                text.remove_suffix(1);
            if (!m_pending_doc.empty())
                m_pending_doc += '\n';
            m_pending_doc += text;
        }
        advance(line.size());
    }
}

bool Lexer::lex_token(Token& token)
{
    token.location = m_location;
    char c = peek();

    if (is_identifier_start(c)) {
        size_t start = m_offset;
        while (is_identifier_part(peek()))
            advance();
        token.text = m_source.substr(start, m_offset - start);
        if (token.text.size() > limits::max_identifier_length) {
            error(token.location, "identifier '" + std::string(token.text.substr(0, 16)) + "...' is " + std::to_string(token.text.size()) + " bytes long; the limit is " + std::to_string(limits::max_identifier_length));
            return false;
        }
        token.kind = TokenKind::Identifier;
        for (auto const& [spelling, kind] : keywords) {
            if (token.text == spelling)
                token.kind = kind;
        }
        return true;
    }

    if (is_digit(c)) {
        size_t start = m_offset;
        uint64_t value = 0;
        bool overflow = false;
        while (is_digit(peek())) {
            uint64_t digit = static_cast<uint64_t>(peek() - '0');
            if (value > (UINT64_MAX - digit) / 10)
                overflow = true;
            else
                value = value * 10 + digit;
            advance();
        }
        token.text = m_source.substr(start, m_offset - start);
        if (overflow) {
            error(token.location, "integer " + std::string(token.text.substr(0, 32)) + (token.text.size() > 32 ? "..." : "") + " does not fit in 64 bits");
            return false;
        }
        token.kind = TokenKind::Integer;
        token.integer = value;
        return true;
    }

    if (c == '"') {
        advance();
        size_t start = m_offset;
        while (!at_end() && peek() != '"' && peek() != '\n')
            advance();
        if (peek() != '"') {
            error(token.location, "string literal is not closed on the line it starts");
            return false;
        }
        token.kind = TokenKind::String;
        token.text = m_source.substr(start, m_offset - start);
        advance();
        return true;
    }

    static constexpr std::array<std::pair<char, TokenKind>, 12> punctuation { {
        { '{', TokenKind::LeftBrace },
        { '}', TokenKind::RightBrace },
        { '(', TokenKind::LeftParen },
        { ')', TokenKind::RightParen },
        { '<', TokenKind::LeftAngle },
        { '>', TokenKind::RightAngle },
        { ';', TokenKind::Semicolon },
        { ':', TokenKind::Colon },
        { ',', TokenKind::Comma },
        { '.', TokenKind::Dot },
        { '?', TokenKind::Question },
        { '!', TokenKind::Bang },
    } };
    if (c == '-' && peek(1) == '>') {
        token.kind = TokenKind::Arrow;
        token.text = m_source.substr(m_offset, 2);
        advance(2);
        return true;
    }
    for (auto const& [character, kind] : punctuation) {
        if (c == character) {
            token.kind = kind;
            token.text = m_source.substr(m_offset, 1);
            advance();
            return true;
        }
    }

    error(token.location, "unexpected character " + describe_character(m_source.substr(m_offset)));
    return false;
}

std::optional<std::vector<Token>> Lexer::tokenize()
{
    if (m_source.size() > limits::max_source_size) {
        error({}, "source is " + std::to_string(m_source.size()) + " bytes; the limit is " + std::to_string(limits::max_source_size));
        return std::nullopt;
    }
    if (auto bad = find_invalid_utf8(m_source)) {
        // Walk to the bad byte so the diagnostic points at it.
        advance(*bad);
        char text[8];
        std::snprintf(text, sizeof text, "0x%02x", static_cast<unsigned char>(m_source[*bad]));
        error(m_location, std::string("invalid UTF-8: the sequence starting with byte ") + text + " is malformed");
        return std::nullopt;
    }

    std::vector<Token> tokens;
    while (true) {
        skip_whitespace_and_comments();
        Token token;
        if (at_end()) {
            token.location = m_location;
            token.kind = TokenKind::EndOfFile;
        } else if (!lex_token(token)) {
            return std::nullopt;
        }
        token.doc = std::exchange(m_pending_doc, {});
        bool done = token.kind == TokenKind::EndOfFile;
        tokens.push_back(std::move(token));
        if (done)
            return tokens;
    }
}

} // namespace signet::contracts
