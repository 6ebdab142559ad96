// The syntax tree of a contract file, as written, with source locations.
// The checker turns it into the checked model of Contract.h.
#pragma once

#include "contracts/Diagnostic.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace signet::contracts {

// `Imp` is the importing end (the client), `Exp` the exporting end (the server).
enum class End : uint8_t {
    Imp = 0,
    Exp = 1,
};

// A message's declared direction: `in` travels Imp -> Exp, `out` Exp -> Imp.
enum class Direction : uint8_t {
    In = 0,
    Out = 1,
};

// What the exporter does with a message at a protocol step: `M?` receives, `M!` sends.
enum class Action : uint8_t {
    Receive = 0,
    Send = 1,
};

struct TypeSyntax {
    SourceLocation location;
    // A type name (`i32`, `bytes`, `block`, ...) or, for an endpoint, the contract name.
    std::string name;
    // `<N>`, where written.
    std::optional<uint64_t> bound;
    SourceLocation bound_location;

    // `Contract.End:State`.
    bool is_endpoint { false };
    End end { End::Imp };
    std::string state;
    SourceLocation state_location;
};

struct ArgumentSyntax {
    SourceLocation location;
    std::string name;
    TypeSyntax type;
};

struct MessageSyntax {
    SourceLocation location;
    std::string doc;
    Direction direction { Direction::In };
    std::string name;
    std::vector<ArgumentSyntax> arguments;
};

// One element of a transition: a step `M?` / `M!`, or alternatives `( seq or seq ... )`
// whose branches are themselves sequences.
struct ProtocolNode {
    enum class Kind : uint8_t {
        Step,
        Alternatives,
    };

    Kind kind { Kind::Step };
    SourceLocation location;
    std::string message;      // Step
    Action action { Action::Receive }; // Step
    std::vector<std::vector<ProtocolNode>> branches; // Alternatives
};

// `seq -> Target;`
struct TransitionSyntax {
    SourceLocation location;
    std::vector<ProtocolNode> sequence;
    std::string target;
    SourceLocation target_location;
};

struct StateSyntax {
    SourceLocation location;
    std::string doc;
    std::string name;
    std::vector<TransitionSyntax> transitions;
};

struct ContractSyntax {
    SourceLocation location;
    std::string doc;
    std::string name;
    std::vector<MessageSyntax> messages;
    std::vector<StateSyntax> states;
};

struct ImportSyntax {
    SourceLocation location;
    std::string path;
};

struct FileSyntax {
    std::string path;
    std::vector<ImportSyntax> imports;
    std::vector<ContractSyntax> contracts;
};

} // namespace signet::contracts
