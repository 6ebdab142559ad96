// The tokens of the contract language.
#pragma once

#include "contracts/Diagnostic.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace signet::contracts {

// X(kind, spelling): punctuation and keywords are spelled; the rest describe themselves.
#define SIGNET_CONTRACT_TOKENS(X)          \
    X(EndOfFile, "end of file")            \
    X(Identifier, "identifier")            \
    X(Integer, "integer")                  \
    X(String, "string literal")            \
    X(KeywordContract, "contract")         \
    X(KeywordImport, "import")             \
    X(KeywordIn, "in")                     \
    X(KeywordOut, "out")                   \
    X(KeywordMessage, "message")           \
    X(KeywordState, "state")               \
    X(KeywordOne, "one")                   \
    X(KeywordOr, "or")                     \
    X(LeftBrace, "{")                      \
    X(RightBrace, "}")                     \
    X(LeftParen, "(")                      \
    X(RightParen, ")")                     \
    X(LeftAngle, "<")                      \
    X(RightAngle, ">")                     \
    X(Semicolon, ";")                      \
    X(Colon, ":")                          \
    X(Comma, ",")                          \
    X(Dot, ".")                            \
    X(Arrow, "->")                         \
    X(Question, "?")                       \
    X(Bang, "!")

enum class TokenKind : uint8_t {
#define SIGNET_TOKEN_ENUM(kind, spelling) kind,
    SIGNET_CONTRACT_TOKENS(SIGNET_TOKEN_ENUM)
#undef SIGNET_TOKEN_ENUM
};

char const* token_spelling(TokenKind);

struct Token {
    TokenKind kind { TokenKind::EndOfFile };
    SourceLocation location;
    // The token's text in the source: an identifier's name, a string literal's
    // contents without quotes, an integer's digits.
    std::string_view text;
    uint64_t integer { 0 };
    // The `///` comment lines right before this token, joined with '\n'.
    std::string doc;
};

// How a token is named in "expected X, found Y" messages.
std::string describe(Token const&);

} // namespace signet::contracts
