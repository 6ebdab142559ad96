// Parses the tokens of one contract file into its syntax tree.
//
//   file        = { import } { contract } ;
//   import      = "import" string ";" ;
//   contract    = "contract" name "{" { message | state } "}" ;
//   message     = ( "in" | "out" ) "message" name "(" [ argument { "," argument } ] ")" ";" ;
//   argument    = type name ;
//   type        = name [ "<" integer ">" ] | name "." ( "Imp" | "Exp" ) ":" name ;
//   state       = "state" name ":" "one" "{" { transition } "}" ;
//   transition  = element { "->" element } "->" name ";" ;
//   element     = name ( "?" | "!" ) | "(" sequence { "or" sequence } ")" ;
//   sequence    = element { "->" element } ;
//
// The parser stops at the first syntax error: what follows a syntax error is
// rarely worth reporting.
#pragma once

#include "contracts/Diagnostic.h"
#include "contracts/SyntaxTree.h"
#include "contracts/Token.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace signet::contracts {

class Parser {
public:
    Parser(std::string const& file, std::vector<Token> const& tokens, Diagnostics&);

    std::optional<FileSyntax> parse_file();

private:
    Token const& peek(size_t ahead = 0) const;
    Token const& next();
    bool at(TokenKind kind, size_t ahead = 0) const { return peek(ahead).kind == kind; }
    bool expect(TokenKind, std::string_view what, Token const** out = nullptr);
    bool expect_name(std::string_view what, std::string& name, SourceLocation* location = nullptr);
    bool fail(std::string_view what);

    bool parse_import(ImportSyntax&);
    bool parse_contract(ContractSyntax&);
    bool parse_message(MessageSyntax&);
    bool parse_argument(ArgumentSyntax&);
    bool parse_type(TypeSyntax&);
    bool parse_state(StateSyntax&);
    bool parse_transition(TransitionSyntax&);
    bool parse_element(std::vector<ProtocolNode>& sequence, uint32_t depth);
    bool parse_sequence(std::vector<ProtocolNode>& sequence, uint32_t depth);

    std::string const& m_file;
    std::vector<Token> const& m_tokens;
    Diagnostics& m_diagnostics;
    size_t m_position { 0 };
};

// Lexes and parses one file's text.
std::optional<FileSyntax> parse_source(std::string const& file, std::string_view source, Diagnostics&);

} // namespace signet::contracts
