// The kernel: owns the scheduler, the live SIPs and the mapped images.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/object/Channel.h"
#include "kernel/object/Disk.h"
#include "kernel/object/Net.h"
#include "kernel/object/Sip.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Preemption.h"
#include "kernel/sched/Scheduler.h"
#include "runtime/Quantum.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace signet {

class NetPoller;

struct KernelConfig {
    unsigned workers { 0 }; // 0 = one per core
    // Where reports of traps and kills go (stderr by default).
    std::shared_ptr<OutputStream> diagnostics;
    // How long SIP code may compute before it is preempted; 0 turns preemption off.
    std::chrono::microseconds quantum { default_quantum };
};

struct SpawnRequest {
    std::shared_ptr<Image> image;
    std::string name; // program name for reports, e.g. "hello.wasm"
    std::vector<std::string> args; // args[0] is the program name
    std::vector<std::string> environment; // "KEY=VALUE"
    Stdio stdio;
    SipLimits limits;
    std::string principal; // publisher/program, and the chain of its creators
    // Whether it may start SIPs of its own (child_create). The manifest's
    // privileges.create_children; true for SIPs the host starts from bare modules.
    bool may_create_children { true };
    std::vector<std::pair<std::string, std::string>> parameters; // typed by the manifest, as text
    // Host-driven SIPs (test harnesses, benchmarks): runs on the SIP's fiber
    // after instantiation instead of the module's `_start`. A trap inside it
    // ends the SIP like any other trap.
    std::function<void(Sip&)> host_entry;
    // Disks its manifest declares: it may open these (and only these) with disk_open.
    std::vector<DiskGrant> disks;
    // TCP ports its manifest declares ([[resource]] kind = "tcp-listen"): net_listen's names.
    std::vector<std::string> ports;
    // Its manifest's [[directory]] grants: where a parent may give it a file system
    // (child_bind_directory), and which directory of it. Absent: any guest path, the
    // whole file system (SIPs started from bare modules).
    std::optional<std::vector<DirectoryGrant>> directories;
    // Its code runs in a protection domain (kernel/domain/DomainSip.h sets it).
    bool in_domain { false };
    // Runs once when the SIP finishes, before its endpoints close and its end is
    // reported: a SIP in a protection domain ends its domain process here.
    std::function<void()> on_finish;
};

class Kernel {
public:
    static ErrorOr<std::unique_ptr<Kernel>> create(KernelConfig);
    ~Kernel();

    // Maps an image from the store (the caller verified it). Cached by module hash.
    ErrorOr<std::shared_ptr<Image>> load_image(std::string const& path, std::string const& module_hash);

    // Creates a SIP in the Created state: nothing of it runs until start().
    ErrorOr<std::shared_ptr<Sip>> create_sip(SpawnRequest);
    ErrorOr<void> start(Sip&);
    // Starts another thread of a running SIP on its home worker: `entry` runs with its
    // own native stack and, in linear memory, the shadow stack at `stack_pointer`.
    ErrorOr<std::shared_ptr<ThreadHandle>> start_thread(Sip&, Thread::Entry, uint32_t stack_pointer);
    // On a SIP fiber: waits for a thread of the same SIP to end; false on timeout.
    bool join_thread(Sip&, ThreadHandle&, uint64_t deadline_ns);
    // On a SIP fiber: the futex of the SIP's own memory at `offset` (4-byte aligned, valid).
    int32_t futex_wait(Sip&, uint32_t offset, uint32_t expected, uint64_t deadline_ns);
    uint32_t futex_wake(Sip&, uint32_t offset, uint32_t count);

    // Convenience: create + start.
    ErrorOr<std::shared_ptr<Sip>> spawn(SpawnRequest);
    // Ends the SIP: a blocked or runnable thread unwinds when it next runs; a
    // thread computing in wasm code, at its next preemption (docs/scheduler.md).
    void kill(Sip&);
    // A parent let go of `child` (closed its handle, or ended): only that handle could
    // start or resume it, so one never started is ended and a suspended one resumed.
    void release_child(Sip& child);

    // Programs children may be created from, by name (until manifests and the
    // installed-program registry exist, the launcher registers them).
    void register_program(std::string const& name, std::shared_ptr<Image>);
    std::shared_ptr<Image> find_program(std::string const& name) const;

    // A program installed from a manifest: what the kernel needs to start it.
    struct RequiredEndpoint {
        std::string name;
        std::string contract;
        contracts::End end { contracts::End::Imp };
        std::string state;
        uint16_t state_index { 0 };
        std::string descriptor_sha256;
    };
    struct ProgramInfo {
        std::shared_ptr<Image> image;
        SipLimits limits;
        std::vector<RequiredEndpoint> endpoints; // bound, in order, when the SIP is created
        std::string principal;                   // publisher/program
        // The manifest's privileges.create_children; programs registered from a
        // bare module (register_program(name, image)) have every privilege.
        bool may_create_children { true };
        std::vector<std::pair<std::string, std::string>> parameters; // defaults
        // Every parameter the manifest declares and its type ("string", "integer",
        // "boolean"): what a parent may set with child_set_param.
        std::vector<std::pair<std::string, std::string>> parameter_types;
        std::vector<DiskGrant> disks; // the manifest's [[resource]] kind = "disk"
        std::vector<std::string> ports; // the manifest's [[resource]] kind = "tcp-listen"
        std::string domain { "kernel" }; // the manifest's program.domain: where children of it run
        // The manifest's [[directory]] grants; absent for bare modules (any path).
        std::optional<std::vector<DirectoryGrant>> directories;
        std::vector<std::string> services; // the manifest's [[service]] paths
    };
    void register_program(std::string const& name, ProgramInfo);
    std::optional<ProgramInfo> find_program_info(std::string const& name) const;
    // Every registered program's name (a named domain maps the images of those that name it).
    std::vector<std::string> program_names() const;
    // Whether `endpoint` can bind `required`: same contract, end and protocol state.
    static bool binds(Endpoint&, RequiredEndpoint const&);

    // Decodes and validates a contract descriptor a SIP presents; cached by content
    // while in use: an entry lives as long as some channel, program or caller holds
    // its type, so the same descriptor gives the same type until nobody does.
    ErrorOr<std::shared_ptr<ContractType const>> contract_type(std::span<uint8_t const> descriptor);
    // Whether contract_type decoded a descriptor with this hash (so it is valid) and
    // the cache still has its entry: in use, or not swept yet. A lookup, no decoding.
    bool contract_known(std::string const& descriptor_hash) const;
    // Entries in the contract cache, those no longer in use included until the
    // next sweep: at most twice the types in use, plus contract_cache_slack.
    size_t contract_cache_size() const;
    static constexpr size_t contract_cache_slack = 64;

    size_t live_sip_count() const;
    // Blocks the host thread until no SIP is alive, and the processes of the
    // domains they ran in are gone too.
    void wait_until_idle();

    // On a SIP fiber: runs `job` on one of the kernel's I/O threads and blocks
    // the fiber (not the worker) until it finished. Returns false if the thread
    // was killed while waiting; the job then still completes but its result is
    // dropped. Each lane has its own thread, so that a read of the host's stdin,
    // which may wait for ever, never holds up a disk flush.
    struct HostCall;
    enum class IoLane : uint8_t { Stdio, Disk };
    static constexpr size_t io_lane_count = 2;
    bool run_on_io_thread(std::shared_ptr<HostCall>, IoLane = IoLane::Stdio);
    // On a SIP fiber: blocks the fiber for at least `nanoseconds`. A kill ends the sleep early.
    void sleep_current(uint64_t nanoseconds);
    // Wakes `thread` at the monotonic deadline unless cancelled first. The
    // returned call is done once the deadline passed.
    std::shared_ptr<HostCall> arm_timer(Thread&, uint64_t deadline_ns);
    void cancel_timer(std::shared_ptr<HostCall> const&);

    // Which host file backs each disk (docs/filesystem.md).
    DiskRegistry& disks() { return m_disks; }
    // Which host socket listens for each port (docs/network.md).
    NetRegistry& ports() { return m_ports; }
    // The network poller (kernel/NetPoller.h), started on first use; null if the host refused it.
    NetPoller* net_poller();

    OutputStream& diagnostics() { return *m_config.diagnostics; }
    // How long SIP code may compute before it is preempted (0: never); domains take it too.
    std::chrono::microseconds quantum() const { return m_config.quantum; }
    Scheduler& scheduler() { return *m_scheduler; }

private:
    explicit Kernel(KernelConfig);
    static void thread_entry(Thread&);
    void reap(Thread&);
    void finish(Sip&);
    void report(Sip&, ExitInfo const&);

    KernelConfig m_config;
    std::unique_ptr<Scheduler> m_scheduler;
    std::unique_ptr<Preemption> m_preemption;
    std::atomic<uint64_t> m_next_sip_id { 1 };

    mutable std::mutex m_lock;
    std::condition_variable m_idle;
    std::unordered_map<uint64_t, std::shared_ptr<Sip>> m_sips;
    std::map<std::string, std::shared_ptr<Image>> m_images; // by image path
    std::map<std::string, ProgramInfo> m_programs; // by program name
    // By descriptor hash, held weakly (contract_type). Entries whose type is gone are
    // swept when the map reaches twice its size after the last sweep (plus the slack).
    std::map<std::string, std::weak_ptr<ContractType const>> m_contracts;
    size_t m_contracts_after_sweep { 0 };
    std::map<uint64_t, std::function<void()>> m_finish_hooks; // by SIP id: SpawnRequest::on_finish
    DiskRegistry m_disks;
    NetRegistry m_ports;
    std::mutex m_net_poller_lock;
    std::unique_ptr<NetPoller> m_net_poller;

    // An I/O thread may outlive the kernel (a host read that never returns),
    // so everything it touches is in IoState, shared with it. One per IoLane.
    struct IoState;
    static void io_loop(std::shared_ptr<IoState>);
    std::shared_ptr<IoState> m_io[io_lane_count];
    std::thread m_io_thread[io_lane_count];
    // Sleeping fibers, woken by the timer thread at their deadline.
    struct TimerState;
    std::shared_ptr<TimerState> m_timers;
    std::thread m_timer_thread;
    static void timer_loop(std::shared_ptr<TimerState>);
    // Blocks the calling fiber until `call` is done; false if killed first.
    static bool wait_for(HostCall&);
};

// A blocking host operation done on behalf of a SIP thread.
struct Kernel::HostCall {
    std::function<void()> job;
    // Guarded by `lock`: the waiting thread, cleared if it abandons the call.
    std::mutex lock;
    Thread* waiter { nullptr };
    bool done { false };
};

} // namespace signet
