// The subcommands of the `signet` CLI. Each registers itself on the app and
// returns the process exit status when it runs.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "kernel/Kernel.h"
#include "runtime/seal/Seal.h"

namespace signet::installer {
struct InstalledProgram;
}

namespace signet::cli {

void print_program(installer::InstalledProgram const&);
// What the kernel needs to start an installed program: its image, principal,
// privileges, limits, parameters (defaults and types), disks and endpoints.
Kernel::ProgramInfo program_info(installer::InstalledProgram const&, std::shared_ptr<Image>);

// Exit statuses of the CLI itself (a program's own status passes through `run`).
enum ExitStatus : int {
    Success = 0,
    Failure = 1,   // a host or toolchain problem, or a diagnostic (contract check)
    BadInput = 2,  // usage errors, and modules the installer refuses
};

using Action = std::function<int()>;

Action add_run_command(CLI::App&);
Action add_install_command(CLI::App&);
Action add_program_commands(CLI::App&); // uninstall, list, show
#ifdef SIGNET_HAS_BENCH
Action add_bench_command(CLI::App&);   // only in builds with the benchmarks
#endif
Action add_boot_command(CLI::App&);

// Seals the kernel process (tools/signet/KernelSeal.cpp): seccomp, and Landlock
// with the system image, the store (read) and `host_grants`. Call it after
// everything that needs broad file access and before Kernel::create. Returns
// Success, or prints why not and returns the exit status.
int seal_kernel_process(std::string const& store, std::vector<seal::PathGrant> const& host_grants);

// Prints "signet: <message>" to stderr.
void print_error(std::string const& message);

} // namespace signet::cli
