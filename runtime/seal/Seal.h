// Sealing a Linux process: the second wall around SIP code.
//
// Software isolation (verified WebAssembly compiled by wasm2c and cc, run by
// our runtime) is Signet's first wall. A process seals itself with two Linux
// mechanisms so that a bug in that trusted base cannot reach the rest of the
// machine (docs/protection-domains.md):
//
// - a seccomp filter (libseccomp) on the system calls the process may make and
//   on their arguments (no executable mappings, no mprotect to executable);
// - a Landlock ruleset on what it may open and connect to.
//
// Both are irreversible for the process and everything it starts. There are
// two policies: a *domain* process (which hosts SIPs away from the kernel)
// keeps only the system calls its runtime needs and reaches no file and no
// network at all; the *kernel* process keeps its system calls but can map
// code only from files, read-only, and open only the system image, the store
// and the host paths it was granted.
#pragma once

#include "base/ErrorOr.h"

#include <string>
#include <vector>

namespace signet::seal {

// What Landlock this kernel offers: 0 when it has none (not built in, or
// disabled at boot), else the ABI version (1 files, 2 refer, 3 truncate,
// 4 network, 5 device ioctls, 6 signal and abstract-socket scoping).
int landlock_abi_version();

// What sealing did, for the log. Sealing never silently does less than asked:
// when the running Linux lacks Landlock, `landlock_abi` is 0 and `notes` says
// which restrictions are missing.
struct SealReport {
    int landlock_abi { 0 };
    bool filesystem_restricted { false };
    bool network_restricted { false };
    bool signals_scoped { false };
    std::vector<std::string> notes;
};

// One host path the kernel keeps access to after sealing.
struct PathGrant {
    enum class Access : uint8_t {
        Read,        // read files and list directories beneath it
        ReadExecute, // the same, and execute files (the system image: loader, libraries)
        ReadWrite,   // read, write, create and remove beneath it (a granted host directory)
        File,        // read and write this one file (a disk's backing file)
    };
    std::string path;
    Access access { Access::Read };
};

struct KernelSealOptions {
    std::vector<PathGrant> paths;
    // Landlock applies only to the calling thread and the threads it starts
    // afterwards; a process that seals after starting its threads can restrict
    // its system calls (seccomp synchronises every thread) but not its files.
    enum class Files : uint8_t { Restrict, Leave };
    Files files { Files::Restrict };
};

// Seals a domain process. Call it after the process mapped everything it will
// ever execute and every shared memory file it will use, and before any SIP
// code runs. Afterwards:
// - refused with EPERM: execve/execveat, open/openat/openat2/creat, sockets,
//   memfd_create/shmget/shmat, fork/vfork, any mapping or mprotect asking for
//   PROT_EXEC, ptrace and process_vm_*;
// - any other system call not on the allow-list kills the process (SIGSYS);
// - Landlock (when present): no file access and no network, no signals to
//   processes outside the domain.
// Applies to the calling thread and (TSYNC) every other thread of the process.
ErrorOr<SealReport> seal_domain();

// Compiles seal_domain's filter once, for every process this one forks later
// (the domain zygote): seal_domain then only puts its pid in and loads it,
// instead of compiling it again (a fifth of a domain's start). The same filter.
// It also compiles the filter's two stages for seal_domain_ahead.
ErrorOr<void> prepare_domain_filter();

// In a process forked after prepare_domain_filter that will become a domain
// (the zygote's spare), while it waits for its request: loads the domain
// filter's first stage, which is the whole filter plus what the process still
// does before seal_domain (take and answer its request, set itself up, open its
// images and map them privately, seal). seal_domain then loads only the second
// stage, which takes exactly that back: together they refuse and kill what the
// whole filter does, and the start pays for a short filter instead of the whole
// one. An error (nothing prepared, loaded already) leaves seal_domain loading the
// whole filter.
ErrorOr<void> seal_domain_ahead();

// Seals the kernel process. Landlock applies only to the calling thread and
// the threads it starts afterwards, so call it before the kernel starts its
// workers: with Files::Restrict it refuses (an error, nothing sealed) in a
// process that already runs more than one thread. It also refuses grants in
// which a writable path lies at or beneath an executable one (check_grants).
// Afterwards:
// - refused with EPERM: anonymous, shared or writable executable mappings,
//   mprotect to executable, personality changes, System V shared memory,
//   memfd_secret, ptrace, process_vm_writev, io_uring, userfaultfd, bpf;
// - Landlock (when present): files only under `options.paths`, with the
//   access each grant names; no network.
ErrorOr<SealReport> seal_kernel(KernelSealOptions const& options);

// The kernel's second seccomp filter, loaded on top of seal_kernel's once the
// domain zygote runs (docs/protection-domains.md, "The kernel policy"): from
// then on every domain is forked by the zygote, and nothing is mapped into the
// kernel, so it needs neither to execute a program nor to map code. Afterwards:
// - refused with EPERM: execve and execveat, and every mmap, mprotect or
//   pkey_mprotect asking for PROT_EXEC, whatever it maps (a file, private or
//   not, one of the kernel's own memory files, or anonymous memory).
// Everything seal_kernel left stays as it was. Irreversible, and inherited by
// every process the kernel starts afterwards (it starts none: the zygote does).
ErrorOr<void> seal_kernel_against_new_code();

// The system image as a sealed kernel needs it after boot, to start domain
// processes (docs/protection-domains.md):
// - read and execute: the domain host executable `domain_host` and its ELF
//   interpreter (the only files the kernel can ever execute);
// - read: the system library directories and the loader's cache (the loader
//   in a starting domain, and libraries the C library loads late);
// - read and write: /dev/null (a domain's standard streams).
// Paths that do not exist on this host are left out.
std::vector<PathGrant> system_image_grants(std::string const& domain_host);

// Refuses host paths the kernel would write that overlap the system image:
// a path in `writable` at, beneath or above one of `system` would let the
// sealed kernel change what it or a starting domain executes or loads. The
// error names both paths.
ErrorOr<void> check_grants(std::vector<PathGrant> const& system, std::vector<PathGrant> const& writable);

// Threads of the calling process (from /proc/self/task), or 0 if unknown.
unsigned thread_count();

// The pieces, for tests and for processes that need only one of them.
// Landlock with exactly `grants` (none: no file access at all) and no network.
ErrorOr<SealReport> restrict_with_landlock(std::vector<PathGrant> const& grants);

// Seals the domain zygote (docs/protection-domains.md), the process that forks
// domain processes for the kernel. Every domain it forks inherits this seal
// and adds seal_domain's on top before any SIP code runs, so it refuses what
// no domain needs even before it seals, and allows what a domain does while it
// starts (open and map its images, seal itself). Afterwards:
// - refused with EPERM: execve/execveat, sockets (it keeps the one it has),
//   memfd_create, fork/vfork and clone except with CLONE_PARENT (a domain for
//   the kernel) or CLONE_THREAD, kill, and everything seal_kernel refuses
//   (anonymous, shared or writable executable mappings, mprotect to executable);
// - Landlock (when present): read only beneath `read_paths` (the store), read
//   and write /dev/null, nothing else; no network.
ErrorOr<SealReport> seal_zygote(std::vector<std::string> const& read_paths);

} // namespace signet::seal
