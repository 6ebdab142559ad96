#include "contracts/Parser.h"
#include "contracts/Contract.h"

#include "contracts/Lexer.h"
#include "contracts/Limits.h"

namespace signet::contracts {

Parser::Parser(std::string const& file, std::vector<Token> const& tokens, Diagnostics& diagnostics)
    : m_file(file)
    , m_tokens(tokens)
    , m_diagnostics(diagnostics)
{
}

Token const& Parser::peek(size_t ahead) const
{
    // The lexer always ends the list with EndOfFile; never look past it.
    size_t index = m_position + ahead;
    return index < m_tokens.size() ? m_tokens[index] : m_tokens.back();
}

Token const& Parser::next()
{
    Token const& token = peek();
    if (m_position + 1 < m_tokens.size())
        ++m_position;
    return token;
}

bool Parser::fail(std::string_view what)
{
    m_diagnostics.error(m_file, peek().location, "expected " + std::string(what) + ", found " + describe(peek()));
    return false;
}

bool Parser::expect(TokenKind kind, std::string_view what, Token const** out)
{
    if (!at(kind))
        return fail(what);
    Token const& token = next();
    if (out)
        *out = &token;
    return true;
}

bool Parser::expect_name(std::string_view what, std::string& name, SourceLocation* location)
{
    Token const* token = nullptr;
    if (!expect(TokenKind::Identifier, what, &token))
        return false;
    name = token->text;
    if (location)
        *location = token->location;
    return true;
}

std::optional<FileSyntax> Parser::parse_file()
{
    FileSyntax file;
    file.path = m_file;
    while (at(TokenKind::KeywordImport)) {
        if (!parse_import(file.imports.emplace_back()))
            return std::nullopt;
    }
    while (!at(TokenKind::EndOfFile)) {
        if (at(TokenKind::KeywordImport)) {
            m_diagnostics.error(m_file, peek().location, "imports must come before the first contract");
            return std::nullopt;
        }
        if (!at(TokenKind::KeywordContract)) {
            fail("'contract' or 'import'");
            return std::nullopt;
        }
        if (!parse_contract(file.contracts.emplace_back()))
            return std::nullopt;
    }
    return file;
}

bool Parser::parse_import(ImportSyntax& import)
{
    import.location = next().location;
    Token const* path = nullptr;
    if (!expect(TokenKind::String, "a file name in quotes after 'import'", &path))
        return false;
    import.path = path->text;
    return expect(TokenKind::Semicolon, "';' after the import");
}

bool Parser::parse_contract(ContractSyntax& contract)
{
    Token const& keyword = next();
    contract.location = keyword.location;
    contract.doc = keyword.doc;
    if (!expect_name("a contract name after 'contract'", contract.name))
        return false;
    if (!expect(TokenKind::LeftBrace, "'{' after 'contract " + contract.name + "'"))
        return false;
    while (!at(TokenKind::RightBrace)) {
        if (at(TokenKind::KeywordIn) || at(TokenKind::KeywordOut)) {
            if (!parse_message(contract.messages.emplace_back()))
                return false;
        } else if (at(TokenKind::KeywordState)) {
            if (!parse_state(contract.states.emplace_back()))
                return false;
        } else {
            return fail("'in message', 'out message', 'state' or '}' in contract '" + contract.name + "'");
        }
    }
    next();
    return true;
}

bool Parser::parse_message(MessageSyntax& message)
{
    Token const& direction = next();
    message.location = direction.location;
    message.doc = direction.doc;
    message.direction = direction.kind == TokenKind::KeywordIn ? Direction::In : Direction::Out;
    if (!expect(TokenKind::KeywordMessage, std::string("'message' after '") + token_spelling(direction.kind) + "'"))
        return false;
    if (!expect_name("a message name", message.name, &message.location))
        return false;
    if (!expect(TokenKind::LeftParen, "'(' after message name '" + message.name + "'"))
        return false;
    if (!at(TokenKind::RightParen)) {
        while (true) {
            if (!parse_argument(message.arguments.emplace_back()))
                return false;
            if (!at(TokenKind::Comma))
                break;
            next();
        }
    }
    if (!expect(TokenKind::RightParen, "',' or ')' in the arguments of message '" + message.name + "'"))
        return false;
    return expect(TokenKind::Semicolon, "';' after message '" + message.name + "'");
}

bool Parser::parse_argument(ArgumentSyntax& argument)
{
    if (!parse_type(argument.type))
        return false;
    return expect_name("an argument name after the type", argument.name, &argument.location);
}

bool Parser::parse_type(TypeSyntax& type)
{
    if (!expect_name("an argument type", type.name, &type.location))
        return false;
    if (at(TokenKind::LeftAngle)) {
        next();
        Token const* bound = nullptr;
        if (!expect(TokenKind::Integer, "a size after '" + type.name + "<'", &bound))
            return false;
        type.bound = bound->integer;
        type.bound_location = bound->location;
        return expect(TokenKind::RightAngle, "'>' after '" + type.name + "<" + std::string(bound->text) + "'");
    }
    if (at(TokenKind::Dot)) {
        next();
        type.is_endpoint = true;
        if (!at(TokenKind::Identifier) || (peek().text != "Imp" && peek().text != "Exp"))
            return fail("'Imp' or 'Exp' after '" + type.name + ".'");
        type.end = next().text == "Imp" ? End::Imp : End::Exp;
        // `any.Imp` / `any.Exp`: an end of any contract, in any state where it sends next.
        if (type.name == any_contract_name && !at(TokenKind::Colon))
            return true;
        if (!expect(TokenKind::Colon, "':' and a state after '" + type.name + (type.end == End::Imp ? ".Imp'" : ".Exp'")))
            return false;
        return expect_name("a state name in the endpoint type", type.state, &type.state_location);
    }
    return true;
}

bool Parser::parse_state(StateSyntax& state)
{
    Token const& keyword = next();
    state.location = keyword.location;
    state.doc = keyword.doc;
    if (!expect_name("a state name after 'state'", state.name, &state.location))
        return false;
    if (!expect(TokenKind::Colon, "':' after state name '" + state.name + "'"))
        return false;
    if (!expect(TokenKind::KeywordOne, "'one' after 'state " + state.name + ":'"))
        return false;
    if (!expect(TokenKind::LeftBrace, "'{' after 'state " + state.name + ": one'"))
        return false;
    while (!at(TokenKind::RightBrace)) {
        if (at(TokenKind::EndOfFile))
            return fail("a transition or '}' in state '" + state.name + "'");
        if (!parse_transition(state.transitions.emplace_back()))
            return false;
    }
    next();
    return true;
}

bool Parser::parse_transition(TransitionSyntax& transition)
{
    transition.location = peek().location;
    if (!parse_element(transition.sequence, 0))
        return false;
    while (true) {
        if (!expect(TokenKind::Arrow, "'->' after a protocol step"))
            return false;
        // `-> Name;` ends the transition; `-> Name?`, `-> Name!` and `-> (` continue it.
        if (at(TokenKind::Identifier) && at(TokenKind::Semicolon, 1)) {
            Token const& target = next();
            transition.target = target.text;
            transition.target_location = target.location;
            next();
            return true;
        }
        if (!parse_element(transition.sequence, 0))
            return false;
    }
}

bool Parser::parse_sequence(std::vector<ProtocolNode>& sequence, uint32_t depth)
{
    if (!parse_element(sequence, depth))
        return false;
    while (at(TokenKind::Arrow)) {
        next();
        if (!parse_element(sequence, depth))
            return false;
    }
    return true;
}

bool Parser::parse_element(std::vector<ProtocolNode>& sequence, uint32_t depth)
{
    if (at(TokenKind::LeftParen)) {
        if (depth >= limits::max_nesting_depth) {
            m_diagnostics.error(m_file, peek().location, "alternatives nest more than " + std::to_string(limits::max_nesting_depth) + " levels deep");
            return false;
        }
        ProtocolNode node;
        node.kind = ProtocolNode::Kind::Alternatives;
        node.location = next().location;
        while (true) {
            if (!parse_sequence(node.branches.emplace_back(), depth + 1))
                return false;
            if (!at(TokenKind::KeywordOr))
                break;
            next();
        }
        if (!expect(TokenKind::RightParen, "'->', 'or' or ')' in alternatives"))
            return false;
        sequence.push_back(std::move(node));
        return true;
    }
    if (!at(TokenKind::Identifier)) {
        if (at(TokenKind::Semicolon))
            return fail("a target state after '->'");
        return fail("a protocol step ('Message?' or 'Message!') or '('");
    }
    ProtocolNode node;
    node.kind = ProtocolNode::Kind::Step;
    Token const& name = next();
    node.location = name.location;
    node.message = name.text;
    if (at(TokenKind::Question)) {
        node.action = Action::Receive;
    } else if (at(TokenKind::Bang)) {
        node.action = Action::Send;
    } else if (depth == 0) {
        return fail("'?' or '!' after message '" + node.message + "', or ';' if it is the target state");
    } else {
        return fail("'?' or '!' after message '" + node.message + "'");
    }
    next();
    sequence.push_back(std::move(node));
    return true;
}

std::optional<FileSyntax> parse_source(std::string const& file, std::string_view source, Diagnostics& diagnostics)
{
    auto tokens = Lexer(file, source, diagnostics).tokenize();
    if (!tokens)
        return std::nullopt;
    return Parser(file, *tokens, diagnostics).parse_file();
}

} // namespace signet::contracts
