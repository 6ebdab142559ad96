// The checked form of a contract: what the descriptor encodes, the kernel
// enforces and the code generators read. No source locations, no comments.
#pragma once

#include "base/ErrorOr.h"
#include "contracts/StateMachine.h"
#include "contracts/SyntaxTree.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace signet::contracts {

// X(kind, spelling, size): every argument type. Scalars have their natural
// size and alignment; the rest are laid out by layout_of().
#define SIGNET_CONTRACT_TYPES(X) \
    X(Bool, "bool", 1)           \
    X(I8, "i8", 1)               \
    X(U8, "u8", 1)               \
    X(I16, "i16", 2)             \
    X(U16, "u16", 2)             \
    X(I32, "i32", 4)             \
    X(U32, "u32", 4)             \
    X(I64, "i64", 8)             \
    X(U64, "u64", 8)             \
    X(F32, "f32", 4)             \
    X(F64, "f64", 8)             \
    X(Bytes, "bytes", 0)         \
    X(String, "string", 0)       \
    X(Endpoint, "endpoint", 4)   \
    X(Block, "block", 4)

enum class TypeKind : uint8_t {
#define SIGNET_TYPE_ENUM(kind, spelling, size) kind,
    SIGNET_CONTRACT_TYPES(SIGNET_TYPE_ENUM)
#undef SIGNET_TYPE_ENUM
};

inline constexpr uint8_t type_kind_count = static_cast<uint8_t>(TypeKind::Block) + 1;

char const* type_spelling(TypeKind);
// The kind a type name in source spells; endpoints have no name of their own.
std::optional<TypeKind> type_kind_named(std::string_view);

// The contract name of the wildcard endpoint types `any.Imp` and `any.Exp`, which
// take an end of any contract; such a type has an empty contract and state.
inline constexpr char const any_contract_name[] = "any";

// `Contract.End:State`: an endpoint that travels in a message.
struct EndpointType {
    std::string contract;
    End end { End::Imp };
    std::string state;
    uint16_t state_index { 0 }; // In the named contract's state machine.
    // What the travelling endpoint does next in `state` (send-state rule):
    // the checker admits only Send and None, and the kernel checks the
    // actual endpoint is in `state` when it moves it.
    NextOperation next { NextOperation::None };

    bool operator==(EndpointType const&) const = default;
};

struct ArgumentType {
    TypeKind kind { TypeKind::I32 };
    // N of bytes<N> and string<N>; the size limit of block<N>, 0 if unbounded; 0 otherwise.
    uint64_t bound { 0 };
    EndpointType endpoint; // kind == Endpoint only; empty otherwise.

    bool operator==(ArgumentType const&) const = default;
};

// An argument's place in the fixed-layout message buffer.
struct Argument {
    std::string name;
    ArgumentType type;
    uint32_t offset { 0 };
    uint32_t size { 0 };

    bool operator==(Argument const&) const = default;
};

struct Message {
    uint16_t id { 0 }; // 1 + its index in Contract::messages; 0 is never a message.
    std::string name;
    Direction direction { Direction::In };
    std::vector<Argument> arguments;
    uint32_t size { 0 }; // The whole buffer, padding included; 0 without arguments.

    bool operator==(Message const&) const = default;
};

struct Contract {
    std::string name;
    std::vector<Message> messages;
    StateMachine machine;
    QueueBounds bounds;
    // The contracts its endpoint arguments name, and the ones theirs name, and so
    // on: each once, sorted by name, without this one and without `any`. They have
    // none of their own here: one list serves the whole closure. A descriptor
    // carries them, so that an endpoint type means one contract, not a name.
    std::vector<Contract> referenced;

    bool operator==(Contract const&) const = default;
};

// The contract `name` of `root`'s closure (root itself, or one of its referenced
// contracts) as a root of its own: with its own closure, taken from root's. What
// a descriptor of that contract holds, so that encode_descriptor(as_root(...))
// is the identity an endpoint type of `root` names. Empty if there is no such contract.
std::optional<Contract> as_root(Contract const& root, std::string_view name);

// Little-endian, naturally aligned. bytes<N> and string<N> are a u32 length
// and N bytes, padded to a multiple of 4; endpoints and blocks are a u32 handle slot.
struct TypeLayout {
    uint32_t size { 0 };
    uint32_t alignment { 1 };
};

TypeLayout layout_of(ArgumentType const&);

// Assigns each argument its offset and size, and the message its size.
// Fails if the message would be larger than limits::max_message_size.
ErrorOr<void> lay_out(Message&);

// Which way a message travels at a step: `in` messages are received by the exporter.
inline Action action_for(Direction direction) { return direction == Direction::In ? Action::Receive : Action::Send; }

char const* direction_spelling(Direction);
char const* end_spelling(End);

bool is_identifier(std::string_view);

// Checks a message buffer as it travels (for a message of a validated
// contract, whose layout is known to be sound): its length is the message's size,
// every bool is 0 or 1, every bytes<N> and string<N> holds at most N bytes, and
// every string is well-formed UTF-8. Handle slots are the kernel's to translate.
ErrorOr<void> validate_message_buffer(Message const&, std::span<uint8_t const> buffer);

// Checks everything the descriptor decoder cannot take on trust: names,
// limits, layouts, the state machine's soundness and the queue bounds. The
// checker's output always passes; hostile descriptors fail with the reason.
ErrorOr<void> validate(Contract const&);

} // namespace signet::contracts
