#include "contracts/StateMachine.h"

#include <algorithm>

namespace signet::contracts {

Turn turn_of(State const& state)
{
    bool sends = false;
    bool receives = false;
    for (auto const& edge : state.edges) {
        sends |= edge.action == Action::Send;
        receives |= edge.action == Action::Receive;
    }
    if (sends && receives)
        return Turn::Mixed;
    if (sends)
        return Turn::ExporterSends;
    if (receives)
        return Turn::ExporterReceives;
    return Turn::Terminal;
}

NextOperation next_operation(State const& state, End end)
{
    switch (turn_of(state)) {
    case Turn::Terminal:
        return NextOperation::None;
    case Turn::ExporterSends:
        return end == End::Exp ? NextOperation::Send : NextOperation::Receive;
    case Turn::ExporterReceives:
        return end == End::Exp ? NextOperation::Receive : NextOperation::Send;
    case Turn::Mixed:
        break;
    }
    // Both ends may receive next in a mixed state, so neither end may travel.
    return NextOperation::Receive;
}

namespace {

struct RunAnalysis {
    std::optional<UniformCycle> cycle;
    uint32_t longest_run { 0 };
};

// Looks at the subgraph of edges with one action. A cycle in it breaks the
// finiteness rule; without one it is a DAG, and its longest path is the longest
// run of messages one side can send before it must wait for the other.
RunAnalysis analyze_runs(StateMachine const& machine, Action action)
{
    enum class Color : uint8_t {
        Unvisited,
        OnStack,
        Done,
    };
    struct Frame {
        uint16_t state;
        uint16_t next_edge;
    };

    size_t count = machine.states.size();
    std::vector<Color> color(count, Color::Unvisited);
    // longest[s]: the longest run of `action` edges starting at s, once s is Done.
    std::vector<uint32_t> longest(count, 0);
    std::vector<Frame> stack;
    RunAnalysis result;

    // An iterative depth-first search: a machine has up to limits::max_states
    // states and hostile descriptors must not be able to exhaust the stack.
    for (size_t root = 0; root < count; ++root) {
        if (color[root] != Color::Unvisited)
            continue;
        color[root] = Color::OnStack;
        stack.push_back({ static_cast<uint16_t>(root), 0 });
        while (!stack.empty()) {
            uint16_t state = stack.back().state;
            auto const& edges = machine.states[state].edges;
            if (stack.back().next_edge < edges.size()) {
                Edge const& edge = edges[stack.back().next_edge++];
                if (edge.action != action)
                    continue;
                if (color[edge.target] == Color::OnStack) {
                    // Each frame from the target's up to the top has just taken
                    // the edge before its next_edge: together they form the cycle.
                    auto first = std::find_if(stack.begin(), stack.end(), [&](Frame const& frame) { return frame.state == edge.target; });
                    UniformCycle cycle { action, {} };
                    for (auto frame = first; frame != stack.end(); ++frame)
                        cycle.edges.push_back({ frame->state, static_cast<uint16_t>(frame->next_edge - 1) });
                    // Start the cycle at a named state, where a reader will look for it.
                    auto named = std::find_if(cycle.edges.begin(), cycle.edges.end(), [&](EdgeRef const& ref) { return machine.states[ref.state].is_named; });
                    if (named != cycle.edges.end())
                        std::rotate(cycle.edges.begin(), named, cycle.edges.end());
                    result.cycle = std::move(cycle);
                    return result;
                }
                if (color[edge.target] == Color::Done) {
                    longest[state] = std::max(longest[state], longest[edge.target] + 1);
                } else {
                    color[edge.target] = Color::OnStack;
                    stack.push_back({ edge.target, 0 });
                }
                continue;
            }
            color[state] = Color::Done;
            result.longest_run = std::max(result.longest_run, longest[state]);
            stack.pop_back();
            if (!stack.empty()) {
                uint16_t parent = stack.back().state;
                longest[parent] = std::max(longest[parent], longest[state] + 1);
            }
        }
    }
    return result;
}

} // namespace

MachineAnalysis analyze(StateMachine const& machine)
{
    MachineAnalysis analysis;
    size_t count = machine.states.size();
    if (count == 0)
        return analysis;

    std::vector<bool> reached(count, false);
    std::vector<uint16_t> work { 0 };
    reached[0] = true;
    while (!work.empty()) {
        uint16_t state = work.back();
        work.pop_back();
        for (auto const& edge : machine.states[state].edges) {
            if (!reached[edge.target]) {
                reached[edge.target] = true;
                work.push_back(edge.target);
            }
        }
    }

    for (size_t index = 0; index < count; ++index) {
        auto const& state = machine.states[index];
        if (!reached[index])
            analysis.unreachable_states.push_back(static_cast<uint16_t>(index));
        if (turn_of(state) == Turn::Mixed)
            analysis.mixed_states.push_back(static_cast<uint16_t>(index));
    }

    auto sends = analyze_runs(machine, Action::Send);
    auto receives = analyze_runs(machine, Action::Receive);
    analysis.cycle_without_receive = std::move(sends.cycle);
    analysis.cycle_without_send = std::move(receives.cycle);
    analysis.bounds.exporter_to_importer = sends.longest_run;
    analysis.bounds.importer_to_exporter = receives.longest_run;
    return analysis;
}

} // namespace signet::contracts
