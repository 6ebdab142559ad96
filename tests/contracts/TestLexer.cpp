#include "contracts/Lexer.h"

#include <gtest/gtest.h>

using namespace signet::contracts;

namespace {

struct Lexed {
    std::optional<std::vector<Token>> tokens;
    Diagnostics diagnostics;
};

std::unique_ptr<Lexed> lex(std::string_view source)
{
    static std::string const file = "lex.contract";
    auto lexed = std::make_unique<Lexed>();
    lexed->tokens = Lexer(file, source, lexed->diagnostics).tokenize();
    return lexed;
}

}

TEST(ContractLexer, SplitsPunctuationKeywordsAndNames)
{
    auto lexed = lex("state Start: one { Add? -> (Sum! or Overflow!) -> Start; }");
    ASSERT_TRUE(lexed->tokens);
    std::vector<TokenKind> kinds;
    for (auto const& token : *lexed->tokens)
        kinds.push_back(token.kind);
    using K = TokenKind;
    std::vector<TokenKind> expected { K::KeywordState, K::Identifier, K::Colon, K::KeywordOne, K::LeftBrace, K::Identifier, K::Question, K::Arrow,
        K::LeftParen, K::Identifier, K::Bang, K::KeywordOr, K::Identifier, K::Bang, K::RightParen, K::Arrow, K::Identifier, K::Semicolon,
        K::RightBrace, K::EndOfFile };
    EXPECT_EQ(kinds, expected);
}

TEST(ContractLexer, CountsLinesAndColumnsFromOne)
{
    auto lexed = lex("contract\n  Foo");
    ASSERT_TRUE(lexed->tokens);
    EXPECT_EQ((*lexed->tokens)[1].location, (SourceLocation { 2, 3 }));
    EXPECT_EQ((*lexed->tokens)[1].text, "Foo");
}

TEST(ContractLexer, AttachesDocCommentsToTheNextToken)
{
    auto lexed = lex("// plain\n/// First line.\n///Second line.\n//// a rule, not a doc comment\ncontract X");
    ASSERT_TRUE(lexed->tokens);
    EXPECT_EQ((*lexed->tokens)[0].doc, "First line.\nSecond line.");
    EXPECT_EQ((*lexed->tokens)[1].doc, "");
}

TEST(ContractLexer, ReadsIntegersUpTo64Bits)
{
    auto lexed = lex("18446744073709551615");
    ASSERT_TRUE(lexed->tokens);
    EXPECT_EQ((*lexed->tokens)[0].integer, UINT64_MAX);
    EXPECT_FALSE(lex("18446744073709551616")->tokens);
}

TEST(ContractLexer, RejectsAStrayCharacterWithItsLocation)
{
    auto lexed = lex("contract X {\n  #\n}");
    EXPECT_FALSE(lexed->tokens);
    ASSERT_EQ(lexed->diagnostics.count(), 1u);
    EXPECT_EQ(lexed->diagnostics.list()[0].to_string(), "lex.contract:2:3: error: unexpected character '#'");
}

TEST(ContractLexer, NamesControlCharactersByCodePoint)
{
    auto lexed = lex(std::string_view("\x01", 1));
    ASSERT_EQ(lexed->diagnostics.count(), 1u);
    EXPECT_EQ(lexed->diagnostics.list()[0].message, "unexpected character U+0001");
}

TEST(ContractLexer, RejectsMalformedUtf8EvenInComments)
{
    auto lexed = lex("// \xc0\xaf overlong slash\ncontract X");
    EXPECT_FALSE(lexed->tokens);
    ASSERT_EQ(lexed->diagnostics.count(), 1u);
    EXPECT_EQ(lexed->diagnostics.list()[0].location, (SourceLocation { 1, 4 }));
}

TEST(ContractLexer, AcceptsUtf8InComments)
{
    EXPECT_TRUE(lex("/// Grüße, 世界 🌍\ncontract X")->tokens);
}

TEST(ContractLexer, RejectsAnUnterminatedStringLiteral)
{
    auto lexed = lex("import \"a.contract\nimport");
    EXPECT_FALSE(lexed->tokens);
    EXPECT_EQ(lexed->diagnostics.list()[0].location, (SourceLocation { 1, 8 }));
}
