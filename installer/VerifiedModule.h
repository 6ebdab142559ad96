// VerifiedModule: a module that passed every check the installer makes.
//
// Verification is the only stage that sees untrusted bytes, and it uses only
// libwabt, whose reader and validator report errors as values. Later stages
// (binaryen, wasm2c) are handed only modules that passed here.
#pragma once

#include "base/ErrorOr.h"
#include "installer/ImportPolicy.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace wabt {
struct Module;
}

namespace signet::installer {

class VerifiedModule {
public:
    // Checks, in this order, stopping at the first problem:
    //  1. size and header (empty, not wasm, truncated, wrong version, a component);
    //  2. a scan with every feature wabt can parse, to name refused features precisely
    //     (atomics, SIMD, tail calls, exceptions, shared/64-bit/multiple memories);
    //  3. wabt's reader and validator with exactly Signet's features;
    //  4. Signet's rules: imports against the policy, `_start` is ()->(), memory size.
    // Every error is InvalidInput, one line, beginning with display_name.
    static ErrorOr<VerifiedModule> verify(std::span<uint8_t const> bytes, std::string const& display_name, ImportPolicy const&);

    VerifiedModule(VerifiedModule&&) noexcept;
    VerifiedModule& operator=(VerifiedModule&&) noexcept;
    ~VerifiedModule();

    wabt::Module& module() { return *m_module; }
    wabt::Module const& module() const { return *m_module; }

    // "module.name" of every imported function, in import order, without duplicates.
    std::vector<std::string> const& imported_functions() const { return m_imported_functions; }
    std::vector<std::string> const& export_names() const { return m_export_names; }
    Personality personality() const { return m_personality; }
    bool has_start() const { return m_has_start; }
    uint32_t memory_count() const { return m_memory_count; }
    // Some block, loop or if takes parameters (multi-value). binaryen 108 cannot read those.
    bool has_block_parameters() const { return m_has_block_parameters; }

    // The module re-encoded by wabt: canonical LEBs, no custom sections, no names.
    ErrorOr<std::vector<uint8_t>> encode() const;

private:
    explicit VerifiedModule(std::unique_ptr<wabt::Module>);

    std::unique_ptr<wabt::Module> m_module;
    std::vector<std::string> m_imported_functions;
    std::vector<std::string> m_export_names;
    Personality m_personality { Personality::Native };
    bool m_has_start { false };
    uint32_t m_memory_count { 0 };
    bool m_has_block_parameters { false };
};

// wabt's C writer and IR destructors recurse once per nested block, loop or if:
// about 1 KiB of stack per level when translating. Deeper nesting is refused, and
// the installer runs its pipeline on a thread with a stack big enough for this
// depth (see Installer.cpp).
inline constexpr uint32_t max_block_nesting = 50000;

// Signet caps a linear memory at 65535 pages: wasm_rt_memory_t.size is a uint32_t,
// so a full 4 GiB memory (65536 pages) cannot be represented.
inline constexpr uint64_t max_memory_pages = 65535;

} // namespace signet::installer
