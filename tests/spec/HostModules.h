// The modules a spec-test module may import from, provided by the harness
// executable as C functions that sealed images link against.
//
//  - `spectest`: the host module every spec-test embedder provides (print
//    functions, four immutable globals, a table and a memory).
//  - Stand-ins for three registered modules whose exports are pure functions,
//    constant globals and fresh tables and memories: `a` (table_copy.wast and
//    table_init.wast), `M` (ref_func.wast) and `test` (imports.wast). Signet
//    SIPs share no code or state, so a `register`ed module cannot be linked as
//    the reference interpreter does; a stand-in is used only when the
//    registered module is byte for byte the one it was written for (its
//    SHA-256 is part of the stand-in), otherwise modules importing from it are
//    skipped.
//
// Imported functions receive the SIP (the `host` of SignetImage::instantiate)
// as their instance argument. Tables, memories and mutable globals belong to
// one SIP: the harness attaches a HostInstance to each SIP before it starts.
#pragma once

#include "base/ErrorOr.h"
#include "installer/ImportPolicy.h"
#include "tests/spec/ModuleInterface.h"

#include <string>
#include <vector>

extern "C" {
#include <wasm-rt.h>
}

namespace signet::spec {

struct HostExport {
    std::string field;
    ExternalKind kind { ExternalKind::Function };
    std::string signature; // functions "params->results", globals "i"/"mut I"…, in ImportPolicy's letters
    Limits limits;         // tables and memories
};

struct HostModule {
    std::string name;
    // Lower-case hex SHA-256 of the registered module this one stands in for; empty for spectest.
    std::string stands_for;
    std::vector<HostExport> exports;

    HostExport const* find(std::string const& field) const;
};

// spectest and the stand-ins.
std::vector<HostModule> const& host_modules();
HostModule const* find_host_module(std::string const& name);
// The stand-in for a module registered as `name`, if `module_sha256` is the module it was written for.
HostModule const* find_stand_in(std::string const& name, std::string const& module_sha256);

// Allows exactly the exports of `available`, with their signatures.
installer::ImportPolicy host_import_policy(std::vector<HostModule const*> const& available);

// What the installer's policy does not check: that each imported table or
// memory fits what the host provides (the spec's import subtyping on limits)
// and the element type of tables. Fails like the reference interpreter's
// "incompatible import type" / "unknown import".
ErrorOr<void> link_imports(ModuleInterface const&, std::vector<HostModule const*> const& available);

// Per-SIP state of the host modules. Attach before the SIP starts, detach after
// it finished; the storage must stay put in between.
struct HostInstance {
    wasm_rt_memory_t memory {};
    wasm_rt_funcref_table_t spectest_table {};
    wasm_rt_funcref_table_t test_table_10_inf {};
    wasm_rt_funcref_table_t test_table_10_20 {};
    uint64_t test_global_mut_i64 { 66 };
};

void attach_host_instance(void* host, HostInstance*);
void detach_host_instance(void* host);

} // namespace signet::spec
