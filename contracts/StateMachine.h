// A contract's protocol as an explicit finite automaton, and its analysis.
//
// Lowering turns each named state into an automaton state and each protocol step
// into an edge; a sequence `A? -> B! -> S` gets an intermediate state between its
// steps. Edges are seen from the exporter: it receives `in` messages and sends `out`
// messages. State 0 is the start state.
#pragma once

#include "contracts/SyntaxTree.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace signet::contracts {

struct Edge {
    Action action { Action::Receive };
    uint16_t message { 0 }; // Index into Contract::messages.
    uint16_t target { 0 };  // Index into StateMachine::states.

    bool operator==(Edge const&) const = default;
};

struct State {
    // Named states keep their source name; intermediate states are called
    // `<named state>#<n>`, after the named state whose transition made them.
    std::string name;
    bool is_named { true };
    std::vector<Edge> edges;

    bool operator==(State const&) const = default;
};

struct StateMachine {
    std::vector<State> states;

    bool operator==(StateMachine const&) const = default;
};

// The most messages that can wait in each direction's queue at once.
struct QueueBounds {
    uint32_t exporter_to_importer { 0 };
    uint32_t importer_to_exporter { 0 };

    bool operator==(QueueBounds const&) const = default;
};

// Whose turn it is in a state, from the exporter's view.
enum class Turn : uint8_t {
    Terminal,         // No transitions: the protocol is over.
    ExporterSends,    // Every edge is a send.
    ExporterReceives, // Every edge is a receive.
    Mixed,            // Both; the checker rejects this, since the two ends could race.
};

Turn turn_of(State const&);

// What the endpoint `end` does next in a state: the send-state rule lets an
// endpoint travel in a message only when this is Send or None.
enum class NextOperation : uint8_t {
    None = 0,
    Send = 1,
    Receive = 2,
};

NextOperation next_operation(State const&, End);

// A reference to one edge: machine.states[state].edges[edge].
struct EdgeRef {
    uint16_t state { 0 };
    uint16_t edge { 0 };

    bool operator==(EdgeRef const&) const = default;
};

// A cycle all of whose edges have the same action, starting and ending at a named state.
struct UniformCycle {
    Action action { Action::Send };
    std::vector<EdgeRef> edges;
};

struct MachineAnalysis {
    std::vector<uint16_t> unreachable_states;
    std::vector<uint16_t> mixed_states;
    // The finiteness rule: every cycle contains a send and a receive. These are
    // counterexamples, one per action, if there are any.
    std::optional<UniformCycle> cycle_without_receive;
    std::optional<UniformCycle> cycle_without_send;
    // Valid only when there is no counterexample to the finiteness rule.
    QueueBounds bounds;

    bool is_sound() const
    {
        return unreachable_states.empty() && mixed_states.empty() && !cycle_without_receive && !cycle_without_send;
    }
};

// Analyses a machine whose edges all point at existing states. Whether two edges
// of a state share a message is the caller's business: the checker reports it
// where it lowers the source, the decoder where it reads the edges.
MachineAnalysis analyze(StateMachine const&);

} // namespace signet::contracts
