// The subcommands of the `signet` CLI. Each registers itself on the app and
// returns the process exit status when it runs.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <utility>

#include "kernel/Kernel.h"
#include "runtime/seal/Seal.h"

namespace signet {
class SystemDirectory;
}

namespace signet::installer {
struct InstalledProgram;
}

namespace signet::cli {

void print_program(installer::InstalledProgram const&);
// What the kernel needs to start an installed program: its image, principal,
// privileges, limits, parameters (defaults and types), disks and endpoints.
Kernel::ProgramInfo program_info(installer::InstalledProgram const&, std::shared_ptr<Image>);
// A request to start the program `name` as its manifest says (`info`), with
// `name` as its only argument and the streams `stdio`.
SpawnRequest program_request(std::string const& name, Kernel::ProgramInfo const& info, Stdio stdio);

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

// Services connected to the directory (tools/signet/Services.cpp).
//
// How long `signet run --service` and `signet boot --service` wait for a service to
// register the paths its manifest declares before they give up.
constexpr auto service_registration_timeout = std::chrono::seconds(20);
// Whether a required endpoint is a connection to the directory (Directory.Imp).
bool is_directory_connection(Kernel::RequiredEndpoint const&);
// "endpoint NAME (Contract.End:State)", for messages.
std::string describe_endpoint(Kernel::RequiredEndpoint const&);
// Gives `sip` (not started yet) `count` new connections to the directory, in order.
ErrorOr<void> connect_to_directory(SystemDirectory&, Sip&, size_t count);
// Starts the installed program `name` as a service: with a Directory connection for
// each endpoint its manifest requires (all must be Directory connections), the
// streams `stdio`, and added to `started` once it runs. Then waits until it has
// registered each path its manifest declares in a [[service]] entry
// (SystemDirectory::await_registration, at most service_registration_timeout), so
// that whatever starts after it finds them. Returns Success, or prints why not after
// `context` (naming the service; for a registration, the path and why) and returns
// the exit status.
int start_service(Kernel&, SystemDirectory&, std::string const& name, Stdio, std::string const& context, std::vector<std::shared_ptr<Sip>>& started);

// NAME and VALUE of an option's "NAME=VALUE", or nothing if it has no '=' or no
// name (or, when `value_required`, no value).
std::optional<std::pair<std::string, std::string>> split_assignment(std::string const& entry, bool value_required);

// --listen NAME=ADDRESS:PORT, for `signet run` and `signet boot`: binds each port
// now, before the kernel seals itself (a sealed kernel may not bind), and prints
// "<context>listening for 'NAME' on ADDRESS:PORT" for each (the port it got, when
// asked for port 0). Empty, with the reason printed after `context`, on an error.
std::optional<std::vector<BoundPort>> bind_ports(std::vector<std::string> const& entries, std::string const& context);
// Hands the bound ports to the kernel, for the SIPs whose manifests declare them.
ErrorOr<void> give_ports(Kernel&, std::vector<BoundPort>&);

// Prints "signet: <message>" to stderr.
void print_error(std::string const& message);

} // namespace signet::cli
