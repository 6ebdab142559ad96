#include "kernel/Kernel.h"
#include "kernel/NetPoller.h"
#include "base/Hash.h"
#include "contracts/Descriptor.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/object/Child.h"
#include "kernel/object/Thread.h"

#include <signet/abi.h>

#include <chrono>
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace signet {

int ExitInfo::host_exit_status() const
{
    switch (how) {
    case How::Exited:
        return status >= 0 && status <= 255 ? status : 255;
    case How::Trapped:
        return 134;
    case How::Killed:
        return 137;
    }
    return 255;
}

Sip::Sip(Kernel& kernel, uint64_t id, std::string name, std::shared_ptr<Image> image)
    : m_kernel(kernel)
    , m_id(id)
    , m_name(std::move(name))
    , m_image(std::move(image))
{
}

Sip::~Sip()
{
    if (m_suspended.load(std::memory_order_relaxed))
        s_suspended_count.fetch_sub(1, std::memory_order_relaxed);
    m_runtime.release_resources();
    std::free(m_instance);
}

void Sip::record_exit(ExitInfo info)
{
    std::lock_guard guard(m_lock);
    if (m_exit_recorded)
        return;
    m_exit_recorded = true;
    m_exit = std::move(info);
}

void Sip::end_over_cpu_limit(char const* where)
{
    record_exit({ ExitInfo::How::Killed, 0, TrapKind::None,
        "exceeded its CPU time limit of " + std::to_string(limits().cpu_time_ns / 1'000'000) + " ms" + where });
    request_kill();
}

bool Sip::has_exit_record() const
{
    std::lock_guard guard(m_lock);
    return m_exit_recorded;
}

ExitInfo Sip::wait_from_host()
{
    std::unique_lock guard(m_lock);
    m_finished.wait(guard, [&] { return m_state == State::Finished; });
    return m_exit;
}

std::optional<ExitInfo> Sip::wait_from_host_for(std::chrono::steady_clock::duration timeout)
{
    std::unique_lock guard(m_lock);
    if (!m_finished.wait_for(guard, timeout, [&] { return m_state == State::Finished; }))
        return std::nullopt;
    return m_exit;
}

Sip::State Sip::state() const
{
    std::lock_guard guard(m_lock);
    return m_state;
}

ExitInfo Sip::exit_info() const
{
    std::lock_guard guard(m_lock);
    return m_exit;
}

struct Kernel::IoState {
    std::mutex lock;
    std::condition_variable ready;
    std::deque<std::shared_ptr<HostCall>> queue;
    std::shared_ptr<HostCall> running;
    bool stop { false };
};

struct Kernel::TimerState {
    std::mutex lock;
    std::condition_variable changed;
    std::multimap<std::chrono::steady_clock::time_point, std::shared_ptr<HostCall>> deadlines;
    bool stop { false };
    // When the timer thread looks at the deadlines next: the first of them, or, with
    // none, a moment from when it last looked (idle_look). Only a deadline before
    // it needs the thread woken (a host thread switch, and on a busy CPU a wait for
    // the lock): a SIP that waits with a timeout over and over (a driver's 250 ms
    // slices) arms its timers without waking anyone.
    static constexpr auto idle_look = std::chrono::milliseconds(50);
    std::chrono::steady_clock::time_point looks_by {};
    // Adds a deadline, and wakes the timer thread if it must look sooner.
    void add(std::chrono::steady_clock::time_point deadline, std::shared_ptr<HostCall> call)
    {
        bool sooner;
        {
            std::lock_guard guard(lock);
            sooner = deadline < looks_by;
            deadlines.emplace(deadline, std::move(call));
        }
        if (sooner)
            changed.notify_one();
    }
};

Kernel::Kernel(KernelConfig config)
    : m_config(std::move(config))
{
}

ErrorOr<std::unique_ptr<Kernel>> Kernel::create(KernelConfig config)
{
    if (!config.diagnostics)
        config.diagnostics = Stdio::host().err;
    unsigned workers = config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
    auto kernel = std::unique_ptr<Kernel>(new Kernel(std::move(config)));
    Kernel* raw = kernel.get();
    kernel->m_scheduler = std::make_unique<Scheduler>(workers, &Kernel::thread_entry, [raw](Thread& thread) { raw->reap(thread); });
    kernel->m_scheduler->start();
    if (kernel->m_config.quantum.count() > 0)
        kernel->m_preemption = std::make_unique<Preemption>(*kernel->m_scheduler, kernel->m_config.quantum);
    for (size_t lane = 0; lane < io_lane_count; ++lane) {
        kernel->m_io[lane] = std::make_shared<IoState>();
        kernel->m_io_thread[lane] = std::thread(&Kernel::io_loop, kernel->m_io[lane]);
    }
    kernel->m_timers = std::make_shared<TimerState>();
    kernel->m_timer_thread = std::thread(&Kernel::timer_loop, kernel->m_timers);
    return kernel;
}

Kernel::~Kernel()
{
    m_preemption.reset();
    m_scheduler->stop();
    for (size_t lane = 0; lane < io_lane_count; ++lane) {
        auto& io = *m_io[lane];
        bool io_busy = false;
        {
            std::lock_guard guard(io.lock);
            io.stop = true;
            io.queue.clear();
            if (io.running) {
                // A host read that may never return: let it finish on its own, waking nobody.
                std::lock_guard call_guard(io.running->lock);
                io.running->waiter = nullptr;
                io_busy = true;
            }
            io.ready.notify_all();
        }
        if (io_busy)
            m_io_thread[lane].detach();
        else
            m_io_thread[lane].join();
    }
    {
        std::lock_guard guard(m_timers->lock);
        m_timers->stop = true;
        m_timers->changed.notify_all();
    }
    m_timer_thread.join();
    {
        std::lock_guard guard(m_net_poller_lock);
        m_net_poller.reset();
    }
    // Threads of SIPs still alive are abandoned with their workers: free what they hold.
    std::lock_guard guard(m_lock);
    for (auto& [id, sip] : m_sips) {
        for (Thread* thread : sip->m_threads)
            delete thread;
        sip->m_threads.clear();
        sip->m_runtime.release_resources();
    }
    m_sips.clear();
}

ErrorOr<std::shared_ptr<Image>> Kernel::load_image(std::string const& path, std::string const& module_hash)
{
    std::lock_guard guard(m_lock);
    if (auto it = m_images.find(path); it != m_images.end())
        return it->second;
    auto image = TRY(Image::load(path, module_hash));
    m_images[path] = image;
    return image;
}

ErrorOr<std::shared_ptr<Sip>> Kernel::create_sip(SpawnRequest request)
{
    VERIFY(request.image);
    auto& image = *request.image;
    void* instance = std::calloc(1, image.entry().instance_size);
    if (!instance)
        return Error(ErrorKind::Limit, "out of host memory for a SIP instance");
    uint64_t id = m_next_sip_id.fetch_add(1, std::memory_order_relaxed);
    auto sip = std::make_shared<Sip>(*this, id, std::move(request.name), std::move(request.image));
    sip->m_instance = instance;
    sip->m_args = std::move(request.args);
    sip->m_environment = std::move(request.environment);
    sip->m_stdio = request.stdio.out ? std::move(request.stdio) : Stdio::host();
    sip->m_limits = request.limits;
    sip->m_channel_account = std::make_shared<ChannelAccount>(request.limits.channel_bytes);
    sip->m_host_entry = std::move(request.host_entry);
    sip->m_principal = std::move(request.principal);
    sip->m_may_create_children = request.may_create_children;
    sip->m_parameters = std::move(request.parameters);
    sip->m_disks = std::move(request.disks);
    sip->m_ports = std::move(request.ports);
    sip->m_directories = std::move(request.directories);
    sip->m_in_domain = request.in_domain;
    sip->m_runtime.memory_limit_bytes = request.limits.memory_bytes;
    sip->m_runtime.exchange_limit_bytes = request.limits.exchange_bytes;
    sip->m_runtime.text_low = sip->m_image->text_low();
    sip->m_runtime.text_high = sip->m_image->text_high();

    std::lock_guard guard(m_lock);
    m_sips.emplace(id, sip);
    if (request.on_finish)
        m_finish_hooks.emplace(id, std::move(request.on_finish));
    return sip;
}

ErrorOr<void> Kernel::start(Sip& sip)
{
    {
        std::lock_guard guard(sip.m_lock);
        if (sip.m_state != Sip::State::Created)
            return Error::invalid("SIP " + std::to_string(sip.id()) + " was already started");
    }
    auto stack = TRY(Stack::allocate(sip.m_limits.stack_bytes));
    Worker& worker = m_scheduler->pick_worker();
    sip.m_home_worker = &worker;
    auto* thread = new Thread(sip, worker, stack);
    m_scheduler->prepare(*thread);
    {
        std::lock_guard guard(sip.m_lock);
        sip.m_state = Sip::State::Running;
        sip.m_threads.push_back(thread);
        sip.m_thread_count.fetch_add(1, std::memory_order_relaxed);
    }
    worker.enqueue(*thread);
    return {};
}

ErrorOr<std::shared_ptr<Sip>> Kernel::spawn(SpawnRequest request)
{
    auto sip = TRY(create_sip(std::move(request)));
    if (auto started = start(*sip); started.is_error()) {
        sip->record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, started.error().message() });
        finish(*sip);
        return started.release_error();
    }
    return sip;
}

void Sip::request_kill()
{
    std::lock_guard guard(m_lock);
    for (Thread* thread : m_threads) {
        thread->m_kill_requested.store(true, std::memory_order_release);
        Worker::wake(*thread);
    }
}

void Kernel::release_child(Sip& child)
{
    if (child.state() == Sip::State::Created)
        kill(child);
    else if (child.suspended())
        child.resume();
}

void Sip::suspend()
{
    std::lock_guard guard(m_lock);
    if (!m_suspended.exchange(true, std::memory_order_acq_rel))
        s_suspended_count.fetch_add(1, std::memory_order_relaxed);
}

void Sip::resume()
{
    std::lock_guard guard(m_lock);
    if (m_suspended.exchange(false, std::memory_order_acq_rel))
        s_suspended_count.fetch_sub(1, std::memory_order_relaxed);
    for (Thread* thread : m_suspended_threads)
        Worker::wake(*thread);
    m_suspended_threads.clear();
}

void Sip::hold_while_suspended(Thread& self)
{
    for (;;) {
        {
            std::lock_guard guard(m_lock);
            if (!suspended() || self.kill_requested()) {
                std::erase(m_suspended_threads, &self);
                return;
            }
            if (std::find(m_suspended_threads.begin(), m_suspended_threads.end(), &self) == m_suspended_threads.end())
                m_suspended_threads.push_back(&self);
        }
        // resume() and a kill wake it; a wake-up for anything else finds it still suspended.
        Worker::block_current();
    }
}

void Kernel::kill(Sip& sip)
{
    bool never_started = false;
    {
        std::lock_guard guard(sip.m_lock);
        if (sip.m_state == Sip::State::Finished)
            return;
        never_started = sip.m_state == Sip::State::Created;
    }
    sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, "killed" });
    if (never_started) {
        finish(sip);
        return;
    }
    sip.request_kill();
}

size_t Kernel::live_sip_count() const
{
    std::lock_guard guard(m_lock);
    return m_sips.size();
}

void Kernel::wait_until_idle()
{
    {
        std::unique_lock guard(m_lock);
        m_idle.wait(guard, [&] { return m_sips.empty(); });
    }
    // The processes of the domains they ran in end off the workers (DomainProcess::kill).
    DomainProcess::await_reaped();
}

// Runs on the new fiber. Everything the SIP's code does happens below the
// _setjmp; a trap, exit or kill comes back to it through _longjmp.
void Kernel::thread_entry(Thread& thread)
{
    Sip& sip = thread.sip();
    int code = _setjmp(thread.trap_target().jump_buffer);
    if (code == 0) {
        if (thread.kill_requested())
            unwind_current(static_cast<int>(Unwind::Killed));
        if (thread.is_main()) {
            auto const& entry = sip.image().entry();
            // Instantiation runs here, on the fiber: a data segment out of range traps.
            entry.instantiate(sip.instance(), &sip);
            if (sip.m_host_entry)
                sip.m_host_entry(sip);
            else if (entry.start)
                entry.start(sip.instance());
            // Returning from `_start` ends the program, as returning from main does.
            sip.record_exit({ ExitInfo::How::Exited, 0, TrapKind::None, {} });
            sip.request_kill();
        } else {
            thread.entry().function(thread.entry().instance, thread.entry().argument);
        }
    } else if (code == static_cast<int>(Unwind::Exit)) {
        // The SIP called exit: its status is recorded; its other threads end too.
        sip.request_kill();
    } else if (code == static_cast<int>(Unwind::ThreadExit)) {
        // Only this thread ends; its status is in its handle.
    } else if (code == static_cast<int>(Unwind::Killed)) {
        sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, "killed" });
    } else {
        // A trap in any thread ends the whole SIP: its memory may be half-updated.
        auto kind = static_cast<TrapKind>(code);
        std::string detail;
        if (thread.trap_target().fault_address) {
            char text[96];
            std::snprintf(text, sizeof text, " (fault address %p)", thread.trap_target().fault_address);
            detail = text;
        }
        sip.record_exit({ ExitInfo::How::Trapped, 0, kind, detail });
        sip.request_kill();
    }
    if (auto const& handle = thread.handle()) {
        std::lock_guard guard(sip.m_lock);
        handle->done = true;
        for (Thread* joiner : handle->joiners)
            Worker::wake(*joiner);
    }
    Worker::exit_current();
}

ErrorOr<std::shared_ptr<ThreadHandle>> Kernel::start_thread(Sip& sip, Thread::Entry entry, uint32_t stack_pointer)
{
    VERIFY(sip.m_home_worker);
    {
        std::lock_guard guard(sip.m_lock);
        if (sip.m_threads.size() >= sip.m_limits.threads)
            return Error(ErrorKind::Limit, "thread limit");
    }
    auto stack = TRY(Stack::allocate(sip.m_limits.stack_bytes));
    auto handle = std::make_shared<ThreadHandle>();
    auto* thread = new Thread(sip, *sip.m_home_worker, stack);
    thread->make_secondary(entry, handle, stack_pointer);
    m_scheduler->prepare(*thread);
    {
        std::lock_guard guard(sip.m_lock);
        sip.m_threads.push_back(thread);
        sip.m_thread_count.fetch_add(1, std::memory_order_relaxed);
        sip.m_had_second_thread.store(true, std::memory_order_relaxed);
    }
    sip.m_home_worker->enqueue(*thread);
    return handle;
}

bool Kernel::join_thread(Sip& sip, ThreadHandle& handle, uint64_t deadline_ns)
{
    Thread* self = Worker::current_thread();
    std::shared_ptr<HostCall> timer;
    if (deadline_ns != UINT64_MAX)
        timer = arm_timer(*self, deadline_ns);
    bool done = false;
    for (;;) {
        {
            std::lock_guard guard(sip.m_lock);
            done = handle.done;
            bool timed_out = false;
            if (timer) {
                std::lock_guard timer_guard(timer->lock);
                timed_out = timer->done;
            }
            if (done || timed_out || self->kill_requested()) {
                std::erase(handle.joiners, self);
                break;
            }
            if (std::find(handle.joiners.begin(), handle.joiners.end(), self) == handle.joiners.end())
                handle.joiners.push_back(self);
        }
        Worker::block_current();
    }
    if (timer)
        cancel_timer(timer);
    return done;
}

int32_t Kernel::futex_wait(Sip& sip, uint32_t offset, uint32_t expected, uint64_t deadline_ns)
{
    Thread* self = Worker::current_thread();
    {
        std::lock_guard guard(sip.m_lock);
        uint32_t value = 0;
        std::memcpy(&value, sip.runtime().wasm_memory->data + offset, 4);
        if (value != expected)
            return SIGNET_WOULD_BLOCK;
        sip.m_futex_waiters.emplace(offset, self);
    }
    std::shared_ptr<HostCall> timer;
    if (deadline_ns != UINT64_MAX)
        timer = arm_timer(*self, deadline_ns);
    int32_t status = SIGNET_OK;
    for (;;) {
        Worker::block_current();
        std::lock_guard guard(sip.m_lock);
        // A waker removes us from the map before waking us.
        bool still_waiting = false;
        auto [first, last] = sip.m_futex_waiters.equal_range(offset);
        for (auto it = first; it != last; ++it) {
            if (it->second == self) {
                still_waiting = true;
                if (timer || self->kill_requested()) {
                    bool timed_out = false;
                    if (timer) {
                        std::lock_guard timer_guard(timer->lock);
                        timed_out = timer->done;
                    }
                    if (timed_out || self->kill_requested()) {
                        sip.m_futex_waiters.erase(it);
                        still_waiting = false;
                        status = SIGNET_TIMED_OUT;
                    }
                }
                break;
            }
        }
        if (!still_waiting)
            break;
    }
    if (timer)
        cancel_timer(timer);
    return status;
}

uint32_t Kernel::futex_wake(Sip& sip, uint32_t offset, uint32_t count)
{
    std::lock_guard guard(sip.m_lock);
    uint32_t woken = 0;
    auto it = sip.m_futex_waiters.lower_bound(offset);
    while (it != sip.m_futex_waiters.end() && it->first == offset && woken < count) {
        Thread* waiter = it->second;
        it = sip.m_futex_waiters.erase(it);
        Worker::wake(*waiter);
        ++woken;
    }
    return woken;
}

void Kernel::reap(Thread& thread)
{
    Sip& sip = thread.sip();
    bool last = false;
    {
        std::lock_guard guard(sip.m_lock);
        std::erase(sip.m_threads, &thread);
        sip.m_thread_count.fetch_sub(1, std::memory_order_relaxed);
        last = sip.m_threads.empty();
    }
    delete &thread;
    if (last)
        finish(sip);
}

void Kernel::report(Sip& sip, ExitInfo const& info)
{
    char text[512];
    switch (info.how) {
    case ExitInfo::How::Exited:
        return;
    case ExitInfo::How::Trapped:
        std::snprintf(text, sizeof text, "signet: SIP %" PRIu64 " (%s) trapped: %s [%s]%s\n", sip.id(), sip.name().c_str(),
            trap_kind_description(info.trap), trap_kind_name(info.trap), info.detail.c_str());
        break;
    case ExitInfo::How::Killed:
        std::snprintf(text, sizeof text, "signet: SIP %" PRIu64 " (%s) was killed: %s\n", sip.id(), sip.name().c_str(), info.detail.c_str());
        break;
    }
    (void)diagnostics().write(std::string(text));
}

void Kernel::finish(Sip& sip)
{
    // 0. What its spawner asked to run at the end (a domain SIP's process ends here).
    std::function<void()> on_finish;
    {
        std::lock_guard guard(m_lock);
        if (auto it = m_finish_hooks.find(sip.id()); it != m_finish_hooks.end()) {
            on_finish = std::move(it->second);
            m_finish_hooks.erase(it);
        }
    }
    if (on_finish) {
        on_finish();
        on_finish = nullptr; // what it holds goes now, before the SIP is gone (step 4)
    }
    // 1. Close its endpoints, so peers drain and then see the channel closed, and
    //    drop its other handles. Its blocks go with its memory. A child it never
    //    started never will: end it (as handle_close does), so that the endpoints
    //    it was given close and it leaves the kernel; one it suspended goes on.
    //    This runs on a worker or the caller of kill(), never under m_lock
    //    (~Kernel holds it while it drops what is left, and ends nothing).
    for (auto& object : sip.m_handles.take_all()) {
        if (object->type() == ObjectType::Endpoint) {
            static_cast<Endpoint&>(*object).close();
        } else if (object->type() == ObjectType::Child) {
            release_child(static_cast<Child&>(*object).sip());
        }
    }
    // Its WASI directories and files (kernel/abi/WasiFiles.h): their channels close too.
    sip.wasi_files.reset();
    // 2. Report an abnormal end, then let waiters see the exit. Nothing of the
    //    SIP runs any more, so they need not wait for the scrub below.
    ExitInfo info;
    {
        std::lock_guard guard(sip.m_lock);
        info = sip.m_exit;
    }
    report(sip, info);
    std::shared_ptr<Sip> keep_alive;
    {
        std::lock_guard guard(m_lock);
        if (auto it = m_sips.find(sip.id()); it != m_sips.end())
            keep_alive = it->second;
    }
    {
        std::lock_guard guard(sip.m_lock);
        sip.m_state = Sip::State::Finished;
        for (Thread* waiter : sip.m_fiber_waiters)
            Worker::wake(*waiter);
    }
    sip.m_finished.notify_all();
    // 3. Scrub and free its memory and tables: its code can never run again.
    sip.m_runtime.release_resources();
    // 4. Only now is it gone from the kernel: "idle" means every resource is back.
    std::lock_guard guard(m_lock);
    m_sips.erase(sip.id());
    if (m_sips.empty())
        m_idle.notify_all();
}

bool Sip::watch_end(Thread& waiter)
{
    std::lock_guard guard(m_lock);
    if (m_state == State::Finished)
        return true;
    if (std::find(m_fiber_waiters.begin(), m_fiber_waiters.end(), &waiter) == m_fiber_waiters.end())
        m_fiber_waiters.push_back(&waiter);
    return false;
}

void Sip::unwatch_end(Thread& waiter)
{
    std::lock_guard guard(m_lock);
    std::erase(m_fiber_waiters, &waiter);
}

bool Sip::wait_from_fiber(uint64_t deadline_ns)
{
    Thread* self = Worker::current_thread();
    VERIFY(self);
    std::shared_ptr<Kernel::HostCall> timer;
    if (deadline_ns != UINT64_MAX)
        timer = m_kernel.arm_timer(*self, deadline_ns);
    bool finished = false;
    for (;;) {
        // Registered before the timer and the kill are looked at: what comes after wakes us.
        finished = watch_end(*self);
        bool timed_out = false;
        if (timer) {
            std::lock_guard timer_guard(timer->lock);
            timed_out = timer->done;
        }
        if (finished || timed_out || self->kill_requested()) {
            unwatch_end(*self);
            break;
        }
        Worker::block_current();
    }
    if (timer)
        m_kernel.cancel_timer(timer);
    return finished;
}

void Kernel::register_program(std::string const& name, std::shared_ptr<Image> image)
{
    ProgramInfo info;
    info.image = std::move(image);
    info.principal = "unsigned/" + name;
    register_program(name, std::move(info));
}

void Kernel::register_program(std::string const& name, ProgramInfo info)
{
    std::lock_guard guard(m_lock);
    m_programs[name] = std::move(info);
}

std::shared_ptr<Image> Kernel::find_program(std::string const& name) const
{
    std::lock_guard guard(m_lock);
    auto it = m_programs.find(name);
    return it == m_programs.end() ? nullptr : it->second.image;
}

std::optional<Kernel::ProgramInfo> Kernel::find_program_info(std::string const& name) const
{
    std::lock_guard guard(m_lock);
    auto it = m_programs.find(name);
    if (it == m_programs.end())
        return std::nullopt;
    return it->second;
}

std::vector<std::string> Kernel::program_names() const
{
    std::lock_guard guard(m_lock);
    std::vector<std::string> names;
    for (auto const& [name, info] : m_programs)
        names.push_back(name);
    return names;
}

bool Kernel::binds(Endpoint& endpoint, RequiredEndpoint const& required)
{
    auto const& type = endpoint.contract_type();
    if (type.contract.name != required.contract || endpoint.end() != required.end)
        return false;
    if (!required.descriptor_sha256.empty() && type.descriptor_hash != required.descriptor_sha256)
        return false;
    std::lock_guard guard(endpoint.channel().lock());
    return endpoint.channel().state() == required.state_index;
}

ErrorOr<std::shared_ptr<ContractType const>> Kernel::contract_type(std::span<uint8_t const> descriptor)
{
    std::string hash = sha256_hex(descriptor);
    {
        std::lock_guard guard(m_lock);
        if (auto it = m_contracts.find(hash); it != m_contracts.end()) {
            if (auto type = it->second.lock())
                return type;
        }
    }
    auto contract = TRY(contracts::decode_descriptor(descriptor));
    auto type = std::make_shared<ContractType>();
    type->descriptor_hash = hash;
    type->descriptor_bytes = uint32_t(descriptor.size());
    for (auto const& message : contract.messages) {
        type->largest_message = std::max(type->largest_message, message.size);
        auto& hashes = type->endpoint_hashes.emplace_back(message.arguments.size());
        for (size_t i = 0; i < message.arguments.size(); ++i) {
            auto const& named = message.arguments[i].type.endpoint.contract;
            if (message.arguments[i].type.kind != contracts::TypeKind::Endpoint || named.empty())
                continue;
            // The decoder checked that the closure holds every contract an endpoint type names.
            hashes[i] = named == contract.name ? hash : sha256_hex(contracts::encode_descriptor(*contracts::as_root(contract, named)));
        }
    }
    type->contract = std::move(contract);
    std::lock_guard guard(m_lock);
    // Another thread may have decoded the same descriptor meanwhile: one type per content.
    auto& entry = m_contracts[hash];
    if (auto existing = entry.lock())
        return existing;
    entry = type;
    // The cache holds only what is in use, so what SIPs make it hold is bounded by
    // what they hold: channels, whose creators are charged for their contracts
    // (ChannelAccount::cost). A stream of contracts used once is swept away.
    if (m_contracts.size() >= 2 * m_contracts_after_sweep + contract_cache_slack) {
        std::erase_if(m_contracts, [](auto const& cached) { return cached.second.expired(); });
        m_contracts_after_sweep = m_contracts.size();
    }
    return std::shared_ptr<ContractType const>(type);
}

bool Kernel::contract_known(std::string const& descriptor_hash) const
{
    std::lock_guard guard(m_lock);
    return m_contracts.contains(descriptor_hash);
}

size_t Kernel::contract_cache_size() const
{
    std::lock_guard guard(m_lock);
    return m_contracts.size();
}

NetPoller* Kernel::net_poller()
{
    std::lock_guard guard(m_net_poller_lock);
    if (!m_net_poller) {
        auto created = NetPoller::create(*this);
        if (created.is_error()) {
            (void)diagnostics().write("signet: " + created.error().message() + "\n");
            return nullptr;
        }
        m_net_poller = created.release_value();
    }
    return m_net_poller.get();
}

bool Kernel::run_on_io_thread(std::shared_ptr<HostCall> call, IoLane lane)
{
    Thread* self = Worker::current_thread();
    VERIFY(self);
    call->waiter = self;
    {
        auto& io = *m_io[static_cast<size_t>(lane)];
        std::lock_guard guard(io.lock);
        io.queue.push_back(call);
        io.ready.notify_one();
    }
    return wait_for(*call);
}

bool Kernel::wait_for(HostCall& call)
{
    Thread* self = Worker::current_thread();
    for (;;) {
        {
            std::lock_guard guard(call.lock);
            if (call.done)
                return true;
            if (self->kill_requested()) {
                call.waiter = nullptr;
                return false;
            }
        }
        Worker::block_current();
    }
}

void Kernel::sleep_current(uint64_t nanoseconds)
{
    Thread* self = Worker::current_thread();
    VERIFY(self);
    auto call = std::make_shared<HostCall>();
    call->waiter = self;
    // Cap at about 100 years so the deadline arithmetic cannot overflow.
    nanoseconds = std::min<uint64_t>(nanoseconds, 3'000'000'000'000'000'000ull);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(nanoseconds);
    m_timers->add(deadline, call);
    if (!wait_for(*call)) {
        std::lock_guard guard(m_timers->lock);
        for (auto it = m_timers->deadlines.begin(); it != m_timers->deadlines.end(); ++it) {
            if (it->second == call) {
                m_timers->deadlines.erase(it);
                break;
            }
        }
    }
}

std::shared_ptr<Kernel::HostCall> Kernel::arm_timer(Thread& thread, uint64_t deadline_ns)
{
    auto call = std::make_shared<HostCall>();
    call->waiter = &thread;
    timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_ns = uint64_t(now.tv_sec) * 1'000'000'000ull + uint64_t(now.tv_nsec);
    uint64_t relative = deadline_ns > now_ns ? std::min<uint64_t>(deadline_ns - now_ns, 3'000'000'000'000'000'000ull) : 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(relative);
    m_timers->add(deadline, call);
    return call;
}

void Kernel::cancel_timer(std::shared_ptr<HostCall> const& call)
{
    {
        std::lock_guard call_guard(call->lock);
        call->waiter = nullptr;
    }
    std::lock_guard guard(m_timers->lock);
    for (auto it = m_timers->deadlines.begin(); it != m_timers->deadlines.end(); ++it) {
        if (it->second == call) {
            m_timers->deadlines.erase(it);
            break;
        }
    }
}

void Kernel::timer_loop(std::shared_ptr<TimerState> timers)
{
    std::unique_lock guard(timers->lock);
    while (!timers->stop) {
        auto now = std::chrono::steady_clock::now();
        if (timers->deadlines.empty()) {
            timers->looks_by = now + TimerState::idle_look;
            timers->changed.wait_until(guard, timers->looks_by);
            continue;
        }
        auto first = timers->deadlines.begin();
        if (auto deadline = first->first; now < deadline) {
            // A copy: wait_until reads the deadline again after the wait, when a
            // cancel_timer may have erased the entry it was read from.
            timers->looks_by = deadline;
            timers->changed.wait_until(guard, deadline);
            continue;
        }
        timers->looks_by = {}; // looking now: a deadline added meanwhile is seen without a wake-up
        auto call = std::move(first->second);
        timers->deadlines.erase(first);
        // Woken without the timers' lock: the thread, run at once on this CPU, cancels
        // its timer (and arms the next) under it.
        guard.unlock();
        {
            std::lock_guard call_guard(call->lock);
            call->done = true;
            if (call->waiter)
                Worker::wake(*call->waiter);
        }
        guard.lock();
    }
}

void Kernel::io_loop(std::shared_ptr<IoState> io)
{
    for (;;) {
        std::shared_ptr<HostCall> call;
        {
            std::unique_lock guard(io->lock);
            io->ready.wait(guard, [&] { return io->stop || !io->queue.empty(); });
            if (io->stop)
                return;
            call = std::move(io->queue.front());
            io->queue.pop_front();
            io->running = call;
        }
        call->job();
        std::lock_guard guard(io->lock);
        io->running = nullptr;
        std::lock_guard call_guard(call->lock);
        call->done = true;
        if (call->waiter)
            Worker::wake(*call->waiter);
    }
}

} // namespace signet
