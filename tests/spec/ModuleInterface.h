// What a spec-test module imports and exports, read from its binary with wabt,
// and the C dispatcher that lets the harness call its exports.
//
// The installer compiles `InstallOptions::extra_c_source` into the image right
// after wasm2c's header. The harness puts one function there:
//
//     int signet_spec_call(void* instance, uint32_t export_index,
//                          uint64_t const* arguments, uint64_t* results);
//
// which calls export `export_index` (the position in ModuleInterface::exports)
// through wasm2c's mangled export function, or reads an exported global. Values
// travel as 64-bit slots (see encode_argument / decode_result in
// ScriptRunner.cpp): numbers as bit patterns, externref (ref.extern N) as N + 1
// with 0 for null, funcref as "0 = null".
#pragma once

#include "base/ErrorOr.h"
#include "tests/spec/WastScript.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace signet::spec {

inline constexpr char const* dispatcher_symbol = "signet_spec_call";
using DispatchFunction = int (*)(void* instance, uint32_t export_index, uint64_t const* arguments, uint64_t* results);

// What signet_spec_call returns besides 0.
enum DispatchStatus : int {
    DispatchOk = 0,
    DispatchNoSuchExport = -1,     // the index names a memory or table, or nothing
    DispatchUnsupportedValue = -2, // a non-null funcref argument, which no script passes
};

struct Limits {
    uint64_t initial { 0 };
    std::optional<uint64_t> maximum;
};

enum class ExternalKind : uint8_t {
    Function,
    Table,
    Memory,
    Global,
    Tag,
};

struct Import {
    std::string module;
    std::string field;
    ExternalKind kind { ExternalKind::Function };
    std::vector<ValueType> parameters; // functions
    std::vector<ValueType> results;    // functions
    ValueType type { ValueType::I32 }; // globals: the value type; tables: the element type
    bool is_mutable { false };         // globals
    Limits limits;                     // tables and memories
    bool is_shared_or_64 { false };    // memories
};

struct Export {
    std::string name;
    ExternalKind kind { ExternalKind::Function };
    std::vector<ValueType> parameters; // functions
    std::vector<ValueType> results;    // functions; a global's type is its one result
};

class ModuleInterface {
public:
    // Reads the module with every feature wabt knows. A module wabt cannot read has
    // no interface; the installer will refuse it with the real reason.
    static ErrorOr<ModuleInterface> read(std::span<uint8_t const> module);

    std::vector<Import> const& imports() const { return m_imports; }
    std::vector<Export> const& exports() const { return m_exports; }
    std::optional<uint32_t> find_export(std::string const& name) const;

    // The C source of signet_spec_call for this module's exports.
    std::string dispatcher_source() const;

private:
    std::vector<Import> m_imports;
    std::vector<Export> m_exports;
};

// wasm2c 1.0.32's name mangling (CWriter::MangleName): "Z_" followed by the name
// with every byte except ASCII letters, digits and '_' (and 'Z' itself) written
// as 'Z' plus two upper-case hex digits. An export `name` of the module the
// installer calls "sip" is the C function Z_sip + mangle_name(name).
std::string mangle_name(std::string const& name);

} // namespace signet::spec
