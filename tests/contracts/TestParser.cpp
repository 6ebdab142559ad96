#include "contracts/Parser.h"

#include <gtest/gtest.h>

using namespace signet::contracts;

namespace {

std::optional<FileSyntax> parse(std::string const& source, Diagnostics& diagnostics)
{
    static std::string const file = "parse.contract";
    return parse_source(file, source, diagnostics);
}

}

TEST(ContractParser, BuildsTheTreeOfACalculator)
{
    Diagnostics diagnostics;
    auto file = parse(R"(import "logger.contract";
/// Doc.
contract Calculator {
  in  message Add(i32 a, i32 b);
  out message Text(bytes<4096> data);
  in  message Attach(Logger.Exp:Ready log);
  state Start: one { Add? -> (Sum! or Overflow!) -> Start; }
})",
        diagnostics);
    ASSERT_TRUE(file) << format_diagnostics(diagnostics.list());
    ASSERT_EQ(file->imports.size(), 1u);
    EXPECT_EQ(file->imports[0].path, "logger.contract");
    ASSERT_EQ(file->contracts.size(), 1u);
    auto const& contract = file->contracts[0];
    EXPECT_EQ(contract.name, "Calculator");
    EXPECT_EQ(contract.doc, "Doc.");
    ASSERT_EQ(contract.messages.size(), 3u);
    EXPECT_EQ(contract.messages[0].direction, Direction::In);
    EXPECT_EQ(contract.messages[0].arguments[1].name, "b");
    EXPECT_EQ(contract.messages[1].arguments[0].type.name, "bytes");
    EXPECT_EQ(contract.messages[1].arguments[0].type.bound, 4096u);
    auto const& endpoint = contract.messages[2].arguments[0].type;
    EXPECT_TRUE(endpoint.is_endpoint);
    EXPECT_EQ(endpoint.name, "Logger");
    EXPECT_EQ(endpoint.end, End::Exp);
    EXPECT_EQ(endpoint.state, "Ready");

    auto const& transition = contract.states[0].transitions[0];
    EXPECT_EQ(transition.target, "Start");
    ASSERT_EQ(transition.sequence.size(), 2u);
    EXPECT_EQ(transition.sequence[0].kind, ProtocolNode::Kind::Step);
    EXPECT_EQ(transition.sequence[0].action, Action::Receive);
    ASSERT_EQ(transition.sequence[1].kind, ProtocolNode::Kind::Alternatives);
    ASSERT_EQ(transition.sequence[1].branches.size(), 2u);
    EXPECT_EQ(transition.sequence[1].branches[1][0].message, "Overflow");
    EXPECT_EQ(transition.sequence[1].branches[1][0].action, Action::Send);
    EXPECT_EQ(transition.sequence[1].branches[1][0].location, (SourceLocation { 7, 39 }));
}

TEST(ContractParser, ReadsSequencesInsideAlternatives)
{
    Diagnostics diagnostics;
    auto file = parse("contract C { state S: one { A? -> (B! -> C? or D!) -> S; } }", diagnostics);
    ASSERT_TRUE(file) << format_diagnostics(diagnostics.list());
    auto const& alternatives = file->contracts[0].states[0].transitions[0].sequence[1];
    ASSERT_EQ(alternatives.branches.size(), 2u);
    EXPECT_EQ(alternatives.branches[0].size(), 2u);
    EXPECT_EQ(alternatives.branches[1].size(), 1u);
}

TEST(ContractParser, ReportsWhatItExpectedAndWhatItFound)
{
    Diagnostics diagnostics;
    EXPECT_FALSE(parse("contract C { in message M(i32 a) }", diagnostics));
    ASSERT_EQ(diagnostics.count(), 1u);
    EXPECT_EQ(diagnostics.list()[0].to_string(), "parse.contract:1:34: error: expected ';' after message 'M', found '}'");
}

TEST(ContractParser, RequiresATargetStateAtTheEndOfATransition)
{
    Diagnostics diagnostics;
    EXPECT_FALSE(parse("contract C { state S: one { A? -> B!; } }", diagnostics));
    EXPECT_EQ(diagnostics.list()[0].message, "expected '->' after a protocol step, found ';'");
}

TEST(ContractParser, SaysAMissingMarkMightBeAMissingSemicolon)
{
    Diagnostics diagnostics;
    EXPECT_FALSE(parse("contract C { state S: one { A? -> S } }", diagnostics));
    EXPECT_EQ(diagnostics.list()[0].message, "expected '?' or '!' after message 'S', or ';' if it is the target state, found '}'");
}

TEST(ContractParser, RefusesTenThousandOpeningParenthesesWithADiagnostic)
{
    Diagnostics diagnostics;
    std::string source = "contract C { state S: one { A? -> " + std::string(10000, '(') + "B!" + std::string(10000, ')') + " -> S; } }";
    EXPECT_FALSE(parse(source, diagnostics));
    ASSERT_EQ(diagnostics.count(), 1u);
    EXPECT_EQ(diagnostics.list()[0].message, "alternatives nest more than 64 levels deep");
}

TEST(ContractParser, AcceptsAlternativesNestedToTheLimit)
{
    Diagnostics diagnostics;
    std::string source = "contract C { state S: one { A? -> " + std::string(64, '(') + "B!" + std::string(64, ')') + " -> S; } }";
    EXPECT_TRUE(parse(source, diagnostics)) << format_diagnostics(diagnostics.list());
}

TEST(ContractParser, ReadsAnEmptyFile)
{
    Diagnostics diagnostics;
    auto file = parse("// nothing here\n", diagnostics);
    ASSERT_TRUE(file);
    EXPECT_TRUE(file->contracts.empty());
}
