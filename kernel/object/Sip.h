// A software-isolated process: one instance of a sealed image, its linear
// memory, its threads and (later) its handle table.
//
// Lifetime: the Kernel owns every live Sip through a shared_ptr; callers that
// wait on a SIP hold their own. A Sip's threads borrow it; they always end
// before the Sip finishes (the last thread's reaper finishes it).
#pragma once

#include "kernel/Stdio.h"
#include "kernel/object/Channel.h"
#include "kernel/object/ChannelAccount.h"
#include "kernel/object/Disk.h"
#include "kernel/object/HandleTable.h"
#include "runtime/Image.h"
#include "runtime/SipContext.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace signet {

class Kernel;
class Thread;
class WasiFileTable;
class Worker;

// A [[directory]] of a program's manifest: the WASI path at which a parent may
// give it a file system (child_bind_directory), and the directory of that file
// system it then sees there ("/": all of it).
struct DirectoryGrant {
    std::string guest;
    std::string path { "/" };
};

struct ExitInfo {
    enum class How : uint8_t {
        Exited,  // the program returned from its entry or called exit
        Trapped, // its code faulted
        Killed,  // the kernel or its parent ended it
    };
    How how { How::Exited };
    int32_t status { 0 };
    TrapKind trap { TrapKind::None };
    std::string detail; // what the report says beyond the trap kind

    // The process exit status the CLI gives for this end (documented in docs/cli.md).
    int host_exit_status() const;
};

struct SipLimits {
    uint32_t threads { 64 };                 // threads alive at once
    uint64_t cpu_time_ns { 0 };              // 0: no limit
    uint64_t memory_bytes { 256ull << 20 };
    uint64_t exchange_bytes { 64ull << 20 }; // blocks the SIP owns at once
    uint64_t channel_bytes { 64ull << 20 };  // what the channels it created cost the kernel (ChannelAccount)
    size_t stack_bytes { 1u << 20 };
};

class Sip {
public:
    enum class State : uint8_t { Created, Running, Finished };

    Sip(Kernel& kernel, uint64_t id, std::string name, std::shared_ptr<Image> image);
    ~Sip();

    uint64_t id() const { return m_id; }
    std::string const& name() const { return m_name; }
    Image& image() { return *m_image; }
    Kernel& kernel() { return m_kernel; }
    SipContext& runtime() { return m_runtime; }
    void* instance() { return m_instance; }

    std::vector<std::string> const& args() const { return m_args; }
    std::vector<std::string> const& environment() const { return m_environment; }
    // Before start (child_set_environment): the whole environment, replacing what it had.
    void set_environment(std::vector<std::string> environment) { m_environment = std::move(environment); }
    Stdio const& stdio() const { return m_stdio; }

    // Asks every thread to end: each leaves at its next suspension point, kernel
    // call or preemption. Callable from any host thread.
    void request_kill();

    // Records how the SIP ends. The first record wins: a trap after exit() changes nothing.
    void record_exit(ExitInfo);
    bool has_exit_record() const;
    // Ends the SIP for passing its CPU-time limit: records it ("exceeded its CPU
    // time limit of N ms", then `where`, e.g. " (in its domain)") and asks every
    // thread to end. Callable from any host thread.
    void end_over_cpu_limit(char const* where = "");

    HandleTable& handles() { return m_handles; }
    // Handles the SIP was created with, in the order its creator gave them.
    std::vector<uint32_t> const& startup_handles() const { return m_startup_handles; }
    // Before start: puts an object in the SIP's table as its next startup handle.
    void adopt_startup_handle(std::shared_ptr<KernelObject> object)
    {
        if (object->type() == ObjectType::Endpoint)
            static_cast<Endpoint&>(*object).set_holder(holder_identity());
        uint32_t handle = m_handles.insert(std::move(object));
        VERIFY(handle);
        m_startup_handles.push_back(handle);
    }
    // This SIP as the holder of an endpoint (what the endpoint's peer may learn).
    std::shared_ptr<EndpointHolder const> holder_identity() const
    {
        return std::make_shared<EndpointHolder const>(EndpointHolder { m_id, m_principal });
    }
    SipLimits const& limits() const { return m_limits; }
    // What the channels this SIP created cost, held to limits().channel_bytes.
    std::shared_ptr<ChannelAccount> const& channel_account() const { return m_channel_account; }
    // Who this SIP is: its manifest's publisher/program, then the chain of its creators.
    std::string const& principal() const { return m_principal; }
    bool may_create_children() const { return m_may_create_children; }
    std::vector<std::pair<std::string, std::string>> const& parameters() const { return m_parameters; }
    // Before start (child_set_param): gives a parameter its value, replacing the default.
    void set_parameter(std::string const& name, std::string value)
    {
        std::erase_if(m_parameters, [&](auto const& parameter) { return parameter.first == name; });
        m_parameters.emplace_back(name, std::move(value));
    }
    // The disks this SIP's manifest declares (disk_open checks against these).
    std::vector<DiskGrant> const& disks() const { return m_disks; }
    // The TCP ports this SIP's manifest declares (net_listen checks against these).
    std::vector<std::string> const& ports() const { return m_ports; }
    // The WASI paths its manifest grants a file system at; absent: any path.
    std::optional<std::vector<DirectoryGrant>> const& directories() const { return m_directories; }
    // CPU time its threads used on the kernel's workers (counted in TSC ticks at
    // each switch). Readable from any thread.
    uint64_t cpu_time_ns() const;
    // For a SIP in a protection domain: the CPU time its code has used there, as
    // last known (kernel/domain/DomainSip.cpp notes each report or sample). Its
    // CPU-time limit holds this and cpu_time_ns() together: what it computes in
    // its domain and what its calls cost the kernel on its proxy threads.
    void note_cpu_in_domain(uint64_t ns) { m_cpu_in_domain_ns.store(ns, std::memory_order_relaxed); }
    uint64_t cpu_in_domain_ns() const { return m_cpu_in_domain_ns.load(std::memory_order_relaxed); }
    // Whether the two together are past its limit (none: never).
    bool over_cpu_limit() const
    {
        uint64_t limit = limits().cpu_time_ns;
        return limit && cpu_time_ns() + cpu_in_domain_ns() > limit;
    }
    // What the SIP's CPU-time clock says (signet_time_now's SIGNET_CLOCK_SIP_CPUTIME,
    // WASI's CLOCK_PROCESS_CPUTIME_ID). Read from one of its own threads, it
    // includes the slice that thread is running now, so it advances while the SIP
    // computes; it never goes back. For a SIP in a protection domain, it is what
    // domain_cpu_time says instead.
    uint64_t cpu_clock_ns() const;
    // For a SIP whose code runs in a protection domain: the CPU time that code has
    // used there, as the kernel knows it (kernel/domain/DomainSip.cpp sets it
    // before the SIP's code starts). Empty for a SIP in the kernel.
    std::function<uint64_t()> domain_cpu_time;
    // Threads alive. From one of them, 1 means no other code of this SIP can run
    // until the caller returns to its own.
    uint32_t thread_count() const { return m_thread_count.load(std::memory_order_relaxed); }
    // Whether it ever had a thread besides its first: until then, all its CPU
    // time is its first thread's (the thread CPU-time clock answers only then).
    bool had_second_thread() const { return m_had_second_thread.load(std::memory_order_relaxed); }

    // Suspension (child_suspend, child_resume). While a SIP is suspended none of
    // its threads runs its code: one that blocks, or is woken, or is preempted
    // stays blocked until resume(), so one running or runnable when suspend() is
    // called stops within its quantum. A kill ends it all the same.
    bool suspended() const { return m_suspended.load(std::memory_order_acquire); }
    void suspend();
    void resume();
    // Whether any SIP of the process is suspended: until one is, a switch reads
    // only this (Worker::switch_to), not the flag of the SIP it returns to.
    static bool any_suspended() { return s_suspended_count.load(std::memory_order_relaxed) != 0; }
    // On one of its threads' fibers: blocks while the SIP is suspended and the
    // thread not killed (through Worker::hold_suspended, which keeps it from nesting).
    void hold_while_suspended(Thread& self);
    // Whether its code runs in a protection domain (kernel/domain): it cannot be suspended.
    bool in_domain() const { return m_in_domain; }

    // On a SIP fiber: blocks until this SIP finished or `deadline_ns` (monotonic,
    // UINT64_MAX for none) passed. Returns whether it finished.
    bool wait_from_fiber(uint64_t deadline_ns);
    // For a select on a SIP fiber (channel_select over a child): true if this
    // SIP finished; else `waiter` is woken when it does (until unwatch_end).
    bool watch_end(Thread& waiter);
    void unwatch_end(Thread& waiter);

    // WASI personality state: which standard streams the program closed.
    uint32_t wasi_closed_stdio { 0 };
    // WASI personality state: descriptors from 3 up (kernel/abi/WasiFiles.h). Set before start.
    std::shared_ptr<WasiFileTable> wasi_files;
    // Standard streams bound to Stream endpoints (kernel/abi/Streams.h): the
    // endpoint's handle in this SIP's table, or 0 for the host stream in stdio().
    uint32_t stream_handles[3] {};
    // Bit N: bound stream N leads to a terminal (SIGNET_STREAM_TERMINAL), so
    // WASI reports it as a character device.
    uint32_t stream_terminals { 0 };

    // Blocks the calling host thread (not a fiber) until the SIP finished.
    ExitInfo wait_from_host();
    // The same, for at most `timeout`: nothing if the SIP is still running then.
    std::optional<ExitInfo> wait_from_host_for(std::chrono::steady_clock::duration timeout);
    State state() const;
    ExitInfo exit_info() const;

private:
    friend class Kernel;
    friend class Worker;

    Kernel& m_kernel;
    uint64_t m_id;
    std::string m_name;
    std::shared_ptr<Image> m_image;
    SipContext m_runtime;
    void* m_instance { nullptr };

    std::vector<std::string> m_args;
    std::vector<std::string> m_environment; // "KEY=VALUE"
    Stdio m_stdio;
    SipLimits m_limits;
    std::shared_ptr<ChannelAccount> m_channel_account;
    std::function<void(Sip&)> m_host_entry;
    std::string m_principal;
    bool m_may_create_children { true };
    std::vector<std::pair<std::string, std::string>> m_parameters;
    std::vector<DiskGrant> m_disks;
    std::optional<std::vector<DirectoryGrant>> m_directories;

    std::vector<Thread*> m_threads; // guarded by m_lock
    std::vector<Thread*> m_fiber_waiters; // guarded by m_lock: SIP threads in wait_from_fiber
    std::multimap<uint32_t, Thread*> m_futex_waiters; // guarded by m_lock: address -> waiting thread

    // Scheduling, touched only by the SIP's home worker (all its threads run there).
    Worker* m_home_worker { nullptr };
    // The thread that holds the SIP's turn: set while one runs, kept while it is
    // preempted, so a sibling never runs in the middle of it.
    Thread* m_turn { nullptr };
    // Written by the worker that runs the SIP (one at a time), read by any thread.
    std::atomic<uint64_t> m_cpu_ticks { 0 };
    // Threads alive, readable without m_lock: only single-threaded SIPs are stolen.
    std::atomic<uint32_t> m_thread_count { 0 };
    std::atomic<bool> m_had_second_thread { false }; // set once, by Kernel::start_thread

    HandleTable m_handles;
    std::vector<uint32_t> m_startup_handles;

    mutable std::mutex m_lock;
    std::condition_variable m_finished;
    State m_state { State::Created };
    bool m_exit_recorded { false };
    ExitInfo m_exit;
    // Last: the hot fields above keep their places (what a SIP in a domain used there).
    std::atomic<uint64_t> m_cpu_in_domain_ns { 0 };
    std::atomic<bool> m_suspended { false };
    std::vector<Thread*> m_suspended_threads; // guarded by m_lock: threads held by hold_while_suspended
    bool m_in_domain { false };
    std::vector<std::string> m_ports; // the manifest's tcp-listen names
    static inline std::atomic<uint32_t> s_suspended_count { 0 }; // SIPs whose m_suspended is set
};

} // namespace signet
