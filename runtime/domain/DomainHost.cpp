// The domain host (DomainHost.h): SIPs, sealed, talking only to their ring.
//
// One host thread runs everything. Each SIP thread is a fiber (Boost.Context,
// as in the kernel) on its own guarded stack; the host's own context is the
// scheduler. A fiber runs until it makes an ABI call: it sends the Call and
// switches back to the scheduler, which runs the next runnable fiber or waits
// for the kernel's doorbell, and makes the caller runnable again when its
// Result arrives. So a SIP thread blocked in a call never blocks the others.
// A fiber that computes without calling is preempted at the end of its
// quantum as on the kernel's workers (runtime/Preempt.h: the same handler and
// trampoline, driven by a timer on this thread's CPU time instead of a
// watchdog thread) and goes to the back of the queue, keeping its
// SIP's turn: like a SIP's threads in the kernel, a SIP's fibers never run at
// the same instant and never preempt each other.
//
// CPU time, in a shared domain: the host reads the TSC around each fiber's run and adds the ticks
// to its SIP (and at every report_check_runs-th ABI call, for the fiber
// making it); every report_interval (at most) it reads its own thread's CPU
// clock and shares what the thread used since the last report among the SIPs
// in proportion to their ticks, and sends each SIP's total (CpuUsed). So the
// reports never add up to more than this thread used, which the kernel checks
// against the process's CPU clock.
#include "runtime/domain/DomainHost.h"

#include "runtime/FaultHandler.h"
#include "runtime/Image.h"
#include "runtime/LinearMemory.h"
#include "runtime/Preempt.h"
#include "runtime/SipContext.h"
#include "runtime/SwitchContext.h"
#include "runtime/domain/DomainCall.h"
#include "runtime/domain/DomainLaunch.h"
#include "runtime/ring/Protocol.h"
#include "runtime/seal/Seal.h"

#include <signet/abi.h>

#include <boost/context/detail/fcontext.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <memory>
#include <optional>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

namespace signet::domain {

namespace fctx = boost::context::detail;

namespace {

// The longjmp code that ends a fiber the kernel ended (Unwind): nothing to report.
constexpr int unwound = 0x200;
// CPU time is reported at most this often, and only after some SIP code ran.
constexpr uint64_t report_interval_ns = 10'000'000;
// The clock is looked at for a report every this many fiber runs (and at every preemption).
constexpr uint32_t report_check_runs = 64;

struct HostedSip;

// One SIP thread.
struct Fiber {
    HostedSip* sip { nullptr };
    uint32_t thread { 0 };
    uint8_t* mapping { nullptr }; // guard, then stack
    size_t mapping_bytes { 0 };
    StackRange stack;
    TrapTarget target;
    fctx::fcontext_t context { nullptr };
    // Its value of the module's shadow-stack pointer while it is switched out.
    uint32_t shadow_stack_pointer { 0 };
    bool shadow_stack_pointer_valid { false };
    // A thread other than the first: what it runs.
    ring::StartThread start;
    // Waiting for the kernel's answer to `waiting_for`; the answer lands in `answer`.
    bool waiting { false };
    uint32_t waiting_for { 0 };
    std::optional<ring::ToDomain> answer;
    // The SIP memory its waiting call writes (the first line of each output):
    // what its code reads first once the answer comes.
    static constexpr unsigned max_outputs = 4;
    uint8_t const* outputs[max_outputs] {};
    unsigned output_count { 0 };
    bool finished { false };
    // Preempted: it waits in the queue with its SIP's turn.
    bool preempted { false };
    ~Fiber()
    {
        if (mapping)
            ::munmap(mapping, mapping_bytes);
    }
};

struct HostedSip {
    uint32_t id { 0 };
    std::shared_ptr<Image> image;
    unsigned slot { 0 };
    void* instance { nullptr };
    SipContext context;
    std::map<uint32_t, std::unique_ptr<Fiber>> threads;
    // Its first thread returned or one of its threads trapped: the kernel ends
    // it; none of its code runs again (its memory may be half-updated).
    bool over { false };
    // The thread that holds the SIP's turn while it is preempted: no sibling runs
    // until it has run again (docs/scheduler.md, "Threads inside a SIP").
    Fiber* turn { nullptr };
    // TSC ticks its fibers ran since the last report, and the CPU time reported so far.
    uint64_t unreported_ticks { 0 };
    uint64_t reported_ns { 0 };
    ~HostedSip()
    {
        threads.clear();
        context.release_resources();
        std::free(instance);
    }
};

struct Host {
    HostOptions options;
    std::optional<ring::Ring> ring;
    ring::Doorbell to_kernel { to_kernel_fd };
    ring::Doorbell to_domain { to_domain_fd };
    uint32_t next_sequence { 1 };
    std::vector<std::shared_ptr<Image>> images;
    std::map<uint32_t, std::unique_ptr<HostedSip>> sips;
    std::deque<Fiber*> runnable;
    Fiber* current { nullptr };
    fctx::fcontext_t scheduler { nullptr };
    // What the preemption timer's ticks look at (PreemptTimer).
    std::atomic<uint64_t> switches { 0 };
    std::atomic<bool> running_fiber { false };
    // CPU-time reports: when the last was made, by the monotonic clock, the TSC
    // and this thread's CPU clock; fiber runs since the clock was looked at.
    uint64_t reported_at_ns { 0 };
    uint64_t reported_at_ticks { 0 };
    uint64_t reported_thread_ns { 0 };
    uint32_t runs_since_check { 0 }; // fiber runs and ABI calls
    // The TSC when the running fiber was resumed, or last had its ticks added to its SIP's.
    uint64_t run_began_ticks { 0 };
    // The frame a fiber watching the ring for its answer received (its payload
    // keeps its capacity), and whether it holds one the scheduler must deliver.
    ring::Frame watched;
    bool watched_pending { false };
    // What the last frame decoded to (decode()): kept, so that no message is built and moved per frame.
    ring::FromKernel decoded;
};
Host s_host;

[[noreturn]] void broken(char const* what)
{
    // The standard streams lead nowhere once sealed: the kernel sees the exit status.
    (void)what;
    ::_exit(int(HostExit::RingBroken));
}

void send(uint16_t type, uint32_t sequence, std::span<uint8_t const> payload)
{
    for (;;) {
        auto sent = s_host.ring->try_send(type, sequence, payload);
        if (sent.is_error())
            broken("send");
        if (sent.value())
            break;
        // Full: the kernel has not consumed yet; it rings us when it replies.
        s_host.to_domain.wait(10);
    }
    s_host.ring->notify(s_host.to_kernel); // rings only if the kernel sleeps (Ring.h)
}

ring::Route route_of(Fiber const& fiber) { return { fiber.sip->id, fiber.thread }; }

void deliver(ring::FromKernel&&, uint32_t sequence);
bool shared_domain();
void report_cpu();
// The kernel's next frame into `frame`, if it published one.
bool receive(ring::Frame& frame)
{
    auto got = s_host.ring->receive(frame);
    if (got.is_error())
        broken("receive");
    return got.value();
}

// The frame decoded into the message the host keeps for it (valid until the next decode).
ring::FromKernel& decode(ring::Frame const& frame)
{
    if (ring::decode_to_domain(frame, s_host.decoded).is_error())
        broken("decode");
    return s_host.decoded;
}

// For the preemption timer, as when the scheduler resumes a fiber: an
// answered call counts as a switch (the fiber left its SIP's code).
void count_switch() { s_host.switches.store(s_host.switches.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

// The fast path of an ABI call, on the fiber, while nothing else in the domain
// may run: it watches the ring for its answer itself (for spin_alone_ns after
// the last frame, yielding the CPU only as Ring::Yield::WhenPeerBlocked says),
// with no switch to the scheduler and back and no run queue. Frames for its
// own thread (the answer, an Unwind) and its SIP's memory changes are
// delivered here; any other frame is left for the scheduler (an EndSip must
// not drop this fiber while it runs on its stack), and so is the wait once the
// kernel takes longer.
void watch_for_answer(Fiber& fiber)
{
    ring::Frame& frame = s_host.watched;
    while (fiber.waiting && s_host.runnable.empty()) {
        if (!s_host.ring->spin_for_peer(ring::spin_alone_ns, [] { return true; }, ring::Ring::Yield::WhenPeerBlocked))
            return;
        // Something came, most likely the answer: ask for the memory the call
        // wrote now, so that its transfer from the kernel's CPU overlaps reading
        // the answer instead of following it.
        for (unsigned i = 0; i < fiber.output_count; ++i)
            __builtin_prefetch(fiber.outputs[i]);
        while (receive(frame)) {
            auto& message = decode(frame);
            bool const own_sip = message.route.sip == fiber.sip->id;
            bool const own_thread = own_sip && message.route.thread == fiber.thread;
            if (own_thread && frame.sequence == fiber.waiting_for && std::holds_alternative<ring::Result>(message.message)) {
                // The answer (the common case, without deliver's look-ups and queue).
                fiber.waiting = false;
                fiber.answer = std::move(message.message);
                count_switch();
                return;
            }
            bool const mine = (own_thread && (std::holds_alternative<ring::Result>(message.message) || std::holds_alternative<ring::Unwind>(message.message)))
                || (own_sip && std::holds_alternative<ring::MemoryChanges>(message.message));
            if (!mine) {
                s_host.watched_pending = true;
                return;
            }
            deliver(std::move(message), frame.sequence);
            if (!fiber.waiting) {
                // Answered (an Unwind): deliver queued it, but it goes on from here.
                std::erase(s_host.runnable, &fiber);
                count_switch();
                return;
            }
        }
    }
}

// On a fiber whose request went out (fiber.waiting, waiting_for set first):
// waits until the kernel answers it, watching the ring itself for a while,
// then back in the scheduler, and returns its Result's value (an Unwind ends
// the fiber instead). Nothing that owns heap memory may live on a fiber's
// stack across the switch: a fiber whose SIP ends is dropped without being
// resumed.
uint64_t wait_for(Fiber& fiber)
{
    if (s_host.runnable.empty())
        watch_for_answer(fiber);
    if (fiber.waiting) {
        auto back = signet_switch_context(s_host.scheduler, nullptr);
        s_host.scheduler = back.fctx;
    }
    if (!fiber.answer)
        broken("resumed without an answer");
    if (std::holds_alternative<ring::Unwind>(*fiber.answer))
        _longjmp(fiber.target.jump_buffer, unwound);
    auto const* result = std::get_if<ring::Result>(&*fiber.answer);
    if (!result)
        broken("answer");
    return result->value;
}

uint64_t call(Fiber& fiber, ring::ToKernelType type, std::span<uint8_t const> payload)
{
    // A fiber whose calls are answered on its own stack (watch_for_answer) may
    // compute for long without coming back to the scheduler, which looks for a
    // report after each run: its calls look too, every report_check_runs. A
    // report goes before the call, so the kernel has it when it serves the call
    // (the SIP's CPU-time clock, docs/abi.md).
    if (shared_domain() && ++s_host.runs_since_check == report_check_runs) {
        uint64_t now = __builtin_ia32_rdtsc();
        fiber.sip->unreported_ticks += now - s_host.run_began_ticks;
        s_host.run_began_ticks = now;
        report_cpu();
    }
    uint32_t sequence = s_host.next_sequence++;
    fiber.waiting = true;
    fiber.waiting_for = sequence;
    fiber.answer.reset();
    send(uint16_t(type), sequence, payload);
    return wait_for(fiber);
}

bool resize_memory(uint32_t pages)
{
    Fiber& fiber = *s_host.current;
    ring::GrowMemory grow { pages, fiber.sip->context.memory_maximum_pages };
    bool accepted = call(fiber, ring::ToKernelType::GrowMemory, ring::encode(route_of(fiber), grow)) == 1;
    // Other SIPs ran meanwhile and pointed the backing at their slots: point it back.
    LinearMemory::set_shared_backing({ memory_slot_fd(fiber.sip->slot), s_host.options.memory_bytes, resize_memory });
    return accepted;
}

// The function a thread of `sip` starts with, if its table has it with type (i32) -> ().
void (*thread_function(HostedSip& sip, uint32_t function))(void*, uint32_t)
{
    auto const& tables = sip.context.funcref_tables;
    if (tables.empty() || function >= tables[0]->size)
        return nullptr;
    wasm_rt_funcref_t const& target = tables[0]->data[function];
    static uint32_t const entry_type = wasm_rt_register_func_type(1, 0, WASM_RT_I32);
    if (!target.func || target.func_type != entry_type || target.module_instance != sip.instance)
        return nullptr;
    return reinterpret_cast<void (*)(void*, uint32_t)>(target.func);
}

void report_end(Fiber& fiber, ring::Ended ended)
{
    send(uint16_t(ring::ToKernelType::Ended), s_host.next_sequence++, ring::encode(route_of(fiber), ended));
}

void fiber_main(fctx::transfer_t transfer)
{
    s_host.scheduler = transfer.fctx;
    Fiber& fiber = *static_cast<Fiber*>(transfer.data);
    HostedSip& sip = *fiber.sip;
    int code = _setjmp(fiber.target.jump_buffer);
    if (code == 0) {
        if (fiber.thread == ring::first_thread) {
            auto const& entry = sip.image->entry();
            entry.instantiate(sip.instance, nullptr);
            if (entry.start)
                entry.start(sip.instance);
            // Returning from `_start` ends the program, as in the kernel.
            sip.over = true;
        } else {
            auto function = thread_function(sip, fiber.start.function);
            if (!function)
                unwind_current(int(TrapKind::BadIndirectCall));
            function(sip.instance, fiber.start.argument);
        }
        report_end(fiber, { ring::Ended::How::Returned, 0, {} });
    } else if (code != unwound) {
        std::string detail;
        if (fiber.target.fault_address) {
            char text[96];
            std::snprintf(text, sizeof text, " (fault address %p in the domain)", fiber.target.fault_address);
            detail = text;
        }
        sip.over = true;
        report_end(fiber, { ring::Ended::How::Trapped, uint32_t(code), detail });
    }
    fiber.finished = true;
    signet_switch_context(s_host.scheduler, nullptr);
    broken("a finished fiber was resumed");
}

Fiber& new_fiber(HostedSip& sip, uint32_t thread)
{
    if (sip.threads.count(thread))
        broken("thread exists");
    auto fiber = std::make_unique<Fiber>();
    fiber->sip = &sip;
    fiber->thread = thread;
    size_t const guard = 64 * 1024;
    size_t stack_bytes = (s_host.options.stack_bytes + 4095) / 4096 * 4096;
    fiber->mapping_bytes = guard + stack_bytes;
    void* mapping = ::mmap(nullptr, fiber->mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED)
        broken("stack");
    fiber->mapping = static_cast<uint8_t*>(mapping);
    if (::mprotect(fiber->mapping, guard, PROT_NONE) != 0)
        broken("stack guard");
    fiber->stack = { uintptr_t(fiber->mapping), uintptr_t(fiber->mapping + guard), uintptr_t(fiber->mapping + guard + stack_bytes) };
    fiber->context = fctx::make_fcontext(fiber->mapping + guard + stack_bytes, stack_bytes, fiber_main);
    Fiber& made = *fiber;
    sip.threads.emplace(thread, std::move(fiber));
    s_host.runnable.push_back(&made);
    return made;
}

// A domain that can host more than one SIP (a named one): it reports each SIP's CPU time.
bool shared_domain() { return s_host.options.slots > 1; }

uint64_t clock_ns(clockid_t clock)
{
    timespec now {};
    ::clock_gettime(clock, &now);
    return uint64_t(now.tv_sec) * 1'000'000'000ull + uint64_t(now.tv_nsec);
}

// Sends each SIP's CPU time, if report_interval_ns passed since the last
// report: what this thread used since then (its CPU clock), shared among the
// SIPs by the TSC ticks their fibers ran. The shares add up to at most what
// the thread used, and the thread to at most what the process used, which is
// what the kernel holds the reports to.
void report_cpu()
{
    s_host.runs_since_check = 0;
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now - s_host.reported_at_ns < report_interval_ns)
        return;
    uint64_t ticks = __builtin_ia32_rdtsc();
    uint64_t thread_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t wall_ticks = ticks - s_host.reported_at_ticks;
    uint64_t used_ns = thread_ns - s_host.reported_thread_ns;
    s_host.reported_at_ns = now;
    s_host.reported_at_ticks = ticks;
    s_host.reported_thread_ns = thread_ns;
    uint64_t run_ticks = 0;
    for (auto const& [id, sip] : s_host.sips)
        run_ticks += sip->unreported_ticks;
    if (run_ticks == 0)
        return;
    uint64_t whole = std::max(wall_ticks, run_ticks);
    for (auto const& [id, sip] : s_host.sips) {
        if (!sip->unreported_ticks)
            continue;
        sip->reported_ns += uint64_t((unsigned __int128)used_ns * sip->unreported_ticks / whole);
        sip->unreported_ticks = 0;
        send(uint16_t(ring::ToKernelType::CpuUsed), 0, ring::encode(ring::Route { id, 0 }, ring::CpuUsed { sip->reported_ns }));
    }
}

// Where a fiber preempted in its SIP's code goes (the runtime's trampoline calls
// it in ordinary context, on the fiber's stack): to the back of the queue, with
// its SIP's turn, and back to the scheduler. Like wait_for, it keeps nothing that
// owns memory on the stack: the SIP may end before the fiber runs again.
void preempt_point()
{
    Fiber* fiber = s_host.current;
    if (!fiber)
        return;
    fiber->preempted = true;
    fiber->sip->turn = fiber;
    s_host.runnable.push_back(fiber);
    auto back = signet_switch_context(s_host.scheduler, nullptr);
    s_host.scheduler = back.fctx;
}

// The next fiber to run: the first queued whose SIP's turn is free or its own.
Fiber* take_runnable()
{
    auto found = std::find_if(s_host.runnable.begin(), s_host.runnable.end(), [](Fiber* fiber) { return !fiber->sip->turn || fiber->sip->turn == fiber; });
    if (found == s_host.runnable.end()) {
        // The holder of a turn is always queued: it left the queue only by running.
        if (!s_host.runnable.empty())
            broken("a SIP's turn is held by a fiber that is not queued");
        return nullptr;
    }
    Fiber* fiber = *found;
    s_host.runnable.erase(found);
    if (fiber->sip->turn == fiber) {
        fiber->sip->turn = nullptr;
        fiber->preempted = false;
    }
    return fiber;
}

// The SIP ended in the kernel: drop it without running any more of it.
void end_sip(uint32_t id)
{
    if (auto it = s_host.sips.find(id); it != s_host.sips.end()) {
        std::erase_if(s_host.runnable, [&](Fiber* fiber) { return fiber->sip == it->second.get(); });
        s_host.sips.erase(it);
    }
    send(uint16_t(ring::ToKernelType::SipGone), 0, ring::encode(ring::Route { id, 0 }, ring::SipGone {}));
}

// What the kernel sent. It is trusted, but a message that makes no sense means
// the ring is broken.
void deliver(ring::FromKernel&& decoded, uint32_t sequence)
{
    auto& [route, message] = decoded;
    if (auto const* start = std::get_if<ring::Start>(&message)) {
        if (route.sip == 0 || route.thread != ring::first_thread || s_host.sips.count(route.sip) || start->image >= s_host.images.size() || start->slot >= s_host.options.slots)
            broken("start");
        for (auto const& [id, other] : s_host.sips) {
            if (other->slot == start->slot)
                broken("slot in use");
        }
        auto sip = std::make_unique<HostedSip>();
        sip->id = route.sip;
        sip->image = s_host.images[start->image];
        sip->slot = start->slot;
        sip->instance = std::calloc(1, sip->image->entry().instance_size);
        if (!sip->instance)
            broken("instance");
        sip->context.memory_limit_bytes = s_host.options.memory_bytes;
        sip->context.text_low = sip->image->text_low();
        sip->context.text_high = sip->image->text_high();
        auto& hosted = *sip;
        s_host.sips.emplace(route.sip, std::move(sip));
        new_fiber(hosted, ring::first_thread);
        return;
    }
    if (std::holds_alternative<ring::EndSip>(message)) {
        end_sip(route.sip);
        return;
    }
    auto it = s_host.sips.find(route.sip);
    if (it == s_host.sips.end())
        broken("no such SIP");
    HostedSip& sip = *it->second;
    if (auto const* start = std::get_if<ring::StartThread>(&message)) {
        new_fiber(sip, route.thread).start = *start;
        return;
    }
    if (auto const* changes = std::get_if<ring::MemoryChanges>(&message)) {
        // Exchange-heap blocks: holes, ranges given back, growth (BlockArena.h).
        if (!apply_remote_changes(sip.context, changes->changes))
            broken("memory changes");
        return;
    }
    auto thread = sip.threads.find(route.thread);
    if (thread == sip.threads.end())
        broken("no such thread");
    Fiber& fiber = *thread->second;
    if (!fiber.waiting || (std::holds_alternative<ring::Result>(message) && sequence != fiber.waiting_for))
        broken("unexpected answer");
    fiber.waiting = false;
    fiber.answer = std::move(message);
    s_host.runnable.push_back(&fiber);
}

// Runs one fiber until it calls, ends, is unwound or is preempted; returns
// whether it was preempted.
bool resume(Fiber& fiber)
{
    HostedSip& sip = *fiber.sip;
    uint32_t offset = sip.image->entry().stack_pointer_offset;
    auto* shadow_stack_pointer = offset == SIGNET_IMAGE_NO_STACK_POINTER ? nullptr : reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(sip.instance) + offset);
    if (shadow_stack_pointer && fiber.shadow_stack_pointer_valid)
        *shadow_stack_pointer = fiber.shadow_stack_pointer;
    if (fiber.thread != ring::first_thread && !fiber.shadow_stack_pointer_valid) {
        fiber.shadow_stack_pointer = fiber.start.stack_pointer;
        fiber.shadow_stack_pointer_valid = true;
        if (shadow_stack_pointer)
            *shadow_stack_pointer = fiber.shadow_stack_pointer;
    }
    sip.context.trap_target = &fiber.target;
    sip.context.stack = fiber.stack;
    LinearMemory::set_shared_backing({ memory_slot_fd(sip.slot), s_host.options.memory_bytes, resize_memory });
    s_host.current = &fiber;
    current_sip_context = &sip.context;
    count_switch();
    s_host.running_fiber.store(true, std::memory_order_relaxed);
    // Only a shared domain shares its CPU time out among SIPs: a domain of its own
    // is held to its SIP's limit by its process's clock (the kernel's pump).
    bool const accounted = shared_domain();
    if (accounted)
        s_host.run_began_ticks = __builtin_ia32_rdtsc();
    auto back = signet_switch_context(fiber.context, &fiber);
    if (accounted)
        sip.unreported_ticks += __builtin_ia32_rdtsc() - s_host.run_began_ticks;
    s_host.running_fiber.store(false, std::memory_order_relaxed);
    current_sip_context = nullptr;
    s_host.current = nullptr;
    fiber.context = back.fctx;
    bool preempted = fiber.preempted;
    if (shadow_stack_pointer && !fiber.finished) {
        fiber.shadow_stack_pointer = *shadow_stack_pointer;
        fiber.shadow_stack_pointer_valid = true;
    }
    if (fiber.finished)
        sip.threads.erase(fiber.thread);
    return preempted;
}

[[noreturn]] void run()
{
    ring::Frame frame; // reused: its payload keeps its capacity
    for (;;) {
        if (s_host.watched_pending) {
            // What a fiber watching for its answer received for somebody else.
            s_host.watched_pending = false;
            deliver(std::move(decode(s_host.watched)), s_host.watched.sequence);
        }
        while (receive(frame))
            deliver(std::move(decode(frame)), frame.sequence);
        Fiber* fiber = take_runnable();
        if (!fiber) {
            s_host.ring->wait(s_host.to_domain, -1); // spins first, then sleeps (Ring.h)
            continue;
        }
        if (fiber->sip->over && !fiber->finished)
            continue; // the kernel ends this SIP; its EndSip drops the fiber
        bool preempted = resume(*fiber);
        if (shared_domain() && (preempted || ++s_host.runs_since_check == report_check_runs))
            report_cpu();
    }
}

void* map_shared(int fd, size_t bytes)
{
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? nullptr : p;
}

int fail(HostExit status, std::string const& message)
{
    std::fprintf(stderr, "signet-domain: %s\n", message.c_str());
    return int(status);
}

constexpr uint32_t thread_create_call = ring::signet_call_index("thread_create");
static_assert(thread_create_call < ring::abi_call_count);

} // namespace

uint64_t forward(uint32_t function, uint64_t const* arguments, uint32_t count)
{
    Fiber& fiber = *s_host.current;
    if (function == thread_create_call) {
        // What only the domain can see: the module's shadow stack and its table,
        // checked in the kernel's order (the kernel checks the rest again, and
        // handles and limits).
        uint64_t size = fiber.sip->context.wasm_memory ? fiber.sip->context.wasm_memory->size : 0;
        uint64_t stack_top = arguments[2], out_thread = arguments[3];
        if (out_thread + 4 > size)
            return uint64_t(SIGNET_OUT_OF_BOUNDS);
        if (fiber.sip->image->entry().stack_pointer_offset == SIGNET_IMAGE_NO_STACK_POINTER)
            return uint64_t(SIGNET_UNSUPPORTED);
        if (stack_top == 0 || stack_top % 16 != 0 || stack_top > size)
            return uint64_t(SIGNET_INVALID_ARGUMENT);
        if (!thread_function(*fiber.sip, uint32_t(arguments[0])))
            return uint64_t(SIGNET_INVALID_ARGUMENT);
    }
    fiber.output_count = 0;
    if (auto const* memory = fiber.sip->context.wasm_memory) {
        ring::for_each_output(function, arguments, memory->size, [&](uint64_t address) {
            if (fiber.output_count < Fiber::max_outputs)
                fiber.outputs[fiber.output_count++] = memory->data + address;
        });
    }
    ring::FixedPayload payload;
    return call(fiber, ring::ToKernelType::Call, ring::encode_call_into(payload, route_of(fiber), function, arguments, count));
}

int run_domain_host(HostOptions const& options)
{
    // 1. If the kernel goes, so does this process.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1)
        return fail(HostExit::BadArguments, "the kernel is already gone");
    s_host.options = options;

    // 2. Map the ring the kernel handed over. The memory slots are mapped by
    //    each SIP's linear memory when it starts (mmap of a held descriptor).
    auto* region = static_cast<uint8_t*>(map_shared(ring_fd, ring::region_bytes));
    if (!region)
        return fail(HostExit::CannotMap, std::string("cannot map the ring: ") + std::strerror(errno));
    s_host.ring.emplace(ring::Side::Domain, region);

    // 3. Map every image this domain will run: the last executable mappings this
    //    process makes.
    for (auto const& file : options.images) {
        auto image = Image::load(file.path, file.module_hash);
        if (image.is_error())
            return fail(HostExit::BadImage, image.error().message());
        s_host.images.push_back(image.release_value());
    }
    if (prepare_thread_for_sip_code().is_error())
        return fail(HostExit::CannotMap, "cannot prepare the host thread for SIP code");

    // 4. Preemption, as on the kernel's workers, but with no thread: a timer on this
    //    thread's CPU time signals it every tick, and the handler reads the thread's
    //    CPU clock to see how long the running fiber has run (PreemptTimer). Made
    //    before the seal, which allows no timer calls; until a fiber runs its ticks
    //    do nothing. The quantum is the kernel's (HostOptions::quantum_us); with
    //    none, nothing is preempted and no timer runs.
    if (options.quantum_us) {
        PreemptWatchdog::install_handler(preempt_point);
        if (auto timer = PreemptTimer::start(std::chrono::microseconds(options.quantum_us), s_host.switches, s_host.running_fiber); timer.is_error())
            return fail(HostExit::CannotMap, "cannot start preemption: " + timer.error().message());
    }

    // 5. Nothing but the ring: close any descriptor the kernel's process let through
    //    (one opened without O_CLOEXEC by any code in it would otherwise be a way out),
    //    point the standard streams at /dev/null, then seal.
    if (::close_range(unsigned(std::max(to_domain_fd, memory_slot_fd(options.slots - 1))) + 1, ~0u, 0) != 0)
        return fail(HostExit::CannotMap, std::string("cannot close inherited descriptors: ") + std::strerror(errno));
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0)
        return fail(HostExit::CannotMap, "cannot open /dev/null");
    auto sealed = seal::seal_domain();
    if (sealed.is_error())
        return fail(HostExit::CannotSeal, "cannot seal: " + sealed.error().message());
    ::dup2(null, 2);
    ::close(null);

    // 6. The CPU-time reports start from here.
    s_host.reported_at_ns = clock_ns(CLOCK_MONOTONIC);
    s_host.reported_at_ticks = __builtin_ia32_rdtsc();
    s_host.reported_thread_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);

    // 7. Hello; then run what the kernel sends, for as long as the kernel lets it live.
    ring::Hello hello { ring::protocol_version, ring::abi_call_count, ring::abi_call_fingerprint(), sealed.value().filesystem_restricted ? 1u : 2u };
    send(uint16_t(ring::ToKernelType::Hello), 0, ring::encode(ring::Route {}, hello));
    run();
}

} // namespace signet::domain
