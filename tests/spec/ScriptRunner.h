// Runs one parsed .wast script through Signet's real install pipeline and
// kernel, and counts what passed, failed and was skipped.
//
// How modules run:
//  1. Every module is installed from its binary bytes with a generated
//     dispatcher (ModuleInterface.h) in InstallOptions::extra_c_source, loaded
//     with Kernel::load_image, and its dispatcher found with dlsym.
//  2. Consecutive commands on one module form a batch. A batch runs in a fresh
//     SIP through SpawnRequest::host_entry: the SIP instantiates the module
//     (a trap there is an instantiation failure), then calls the exports one
//     after another on its own fiber. Traps and stack exhaustion are therefore
//     real traps of that SIP, and a trap ends it.
//  3. Module state persists between commands in the spec. Each new SIP first
//     replays, in order, every call on that module that completed before
//     (their results are ignored), so it starts in the state the previous SIP
//     had just before the trap. A call that trapped is not replayed: its
//     partial effects (none of the spec's scripts depend on them) are lost.
#pragma once

#include "installer/Installer.h"
#include "kernel/Kernel.h"
#include "tests/spec/WastScript.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace signet::spec {

struct RunnerOptions {
    // store_dir, optimization and tree_shake are used; policy and extra_c_source are set per module.
    installer::InstallOptions install;
    // Installs modules on this many threads before running (the C compiler dominates).
    unsigned jobs { 1 };
    // "file.wast:line" of failures that are known and documented in docs/conformance.md.
    std::set<std::string> known_failures;
    // A SIP that runs longer is killed and its current call fails.
    unsigned sip_time_limit_seconds { 60 };
    bool verbose { false };
};

struct FileReport {
    std::string name; // "address.wast"
    uint32_t passed { 0 };
    uint32_t failed { 0 };
    uint32_t skipped { 0 };
    uint32_t known_failures { 0 };    // failures listed in known_failures (included in `failed`)
    std::vector<std::string> failures; // "address.wast:104: assert_return: ...", in script order
    std::vector<std::string> stale_known_failures; // "file.wast:line" listed as known, but did not fail
    std::map<std::string, uint32_t> skip_reasons;

    bool ok() const { return failed == known_failures && stale_known_failures.empty(); }
};

// A sink for the kernel's trap reports: the harness judges every trap itself.
std::shared_ptr<OutputStream> quiet_diagnostics();

class ScriptRunner {
public:
    ScriptRunner(Kernel&, RunnerOptions);

    FileReport run(WastScript const&, std::string const& name);

private:
    Kernel& m_kernel;
    RunnerOptions m_options;
};

} // namespace signet::spec
