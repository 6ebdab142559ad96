// A .wast script of the WebAssembly spec test suite, parsed in-process with
// wabt and reduced to what the harness needs: every module as binary bytes,
// every action and expectation as plain values. Nothing here refers to wabt's
// IR once parse() returns.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace signet::spec {

enum class ValueType : uint8_t {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
    V128, // parsed so SIMD scripts can be counted; never run (Signet refuses SIMD)
};

char const* value_type_name(ValueType);

// What an expected float result may be besides an exact bit pattern.
enum class NanPattern : uint8_t {
    None,
    Canonical,  // nan:canonical
    Arithmetic, // nan:arithmetic
};

// One argument or expected result. Numbers are their bit patterns (f32 in the
// low 32 bits). References: `is_null`, or for externref the host value N of
// (ref.extern N); an expected (ref.func) means "any non-null funcref".
struct Value {
    ValueType type { ValueType::I32 };
    uint64_t bits { 0 };
    bool is_null { false };
    NanPattern nan { NanPattern::None };
};

std::string format_value(Value const&);

enum class ModuleForm : uint8_t {
    Binary, // (module binary ...) bytes, exactly as written
    Text,   // (module ...) encoded by wabt, as wast2json does
    Quoted, // (module quote ...) that wabt's text parser refused: no bytes
};

struct ModuleSource {
    ModuleForm form { ModuleForm::Binary };
    std::vector<uint8_t> bytes;
    std::string name; // "$M" or empty
};

enum class ActionKind : uint8_t {
    Invoke,
    Get,
};

struct Action {
    ActionKind kind { ActionKind::Invoke };
    std::string module_name; // empty: the most recently defined module
    std::string field;
    std::vector<Value> arguments;
};

std::string format_action(Action const&);

enum class CommandKind : uint8_t {
    Module,
    Register,
    Action,
    AssertReturn,
    AssertTrap,
    AssertExhaustion,
    AssertInvalid,
    AssertMalformed,
    AssertUnlinkable,
    AssertUninstantiable,
    AssertException, // exception handling: never in the 2.0 suite, counted as skipped
};

char const* command_kind_name(CommandKind);

struct Command {
    CommandKind kind { CommandKind::Module };
    uint32_t line { 0 };
    ModuleSource module;              // Module and the four module assertions
    Action action;                    // Action, AssertReturn/Trap/Exhaustion/Exception
    std::vector<Value> expected;      // AssertReturn
    bool expects_either { false };    // AssertReturn (either ...): relaxed SIMD only
    std::string text;                 // expected message of traps and refusals
    std::string register_as;          // Register: the import module name
    std::string register_module;      // Register: "$M", or empty for the latest module
};

class WastScript {
public:
    // Reads and parses a script. A script wabt cannot parse is an error: the
    // suite is fixed, so that means the harness and the data disagree.
    static ErrorOr<WastScript> parse(std::string const& path);

    std::string const& path() const { return m_path; }
    std::vector<Command> const& commands() const { return m_commands; }

private:
    WastScript() = default;

    std::string m_path;
    std::vector<Command> m_commands;
};

} // namespace signet::spec
