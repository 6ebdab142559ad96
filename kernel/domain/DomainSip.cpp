// Serving SIPs in domain processes from their proxy threads (DomainSip.h).
//
// One Connection per domain process: its ring carries the messages of every
// SIP in the domain and of every thread of each, each message naming its SIP
// and thread (ring::Route). In the kernel each of those threads has a proxy
// thread; the proxies take turns reading the ring (a leader and followers):
//   1. a proxy that wants its next message looks in its own inbox;
//   2. if it is empty and nobody reads, it becomes the reader: it copies every
//      published frame out, checks it, and keeps it if it is its own, puts it
//      in its proxy's inbox (waking that proxy), or handles it itself if it is
//      the domain's (the hello, a SIP gone); with nothing for itself it waits
//      for the domain's doorbell;
//   3. otherwise it blocks until its inbox fills or the reader leaves;
//   4. a reader leaving (with its message, or to end) wakes a blocked proxy,
//      which reads next.
// Only a thread running in the domain sends, and its proxy waits for exactly
// that, so whenever a frame can arrive some proxy reads. A proxy busy with a
// blocking call (a channel receive, a sleep) reads nothing, and its siblings
// and the domain's other SIPs go on.
#include "kernel/domain/DomainSip.h"

#include "kernel/domain/DomainCalls.h"
#include "kernel/domain/DomainProcess.h"
#include "kernel/object/SpinLock.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Worker.h"
#include "runtime/domain/DomainLaunch.h"
#include "runtime/ring/Protocol.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>

namespace signet {

namespace {

class Connection;

// One SIP in a domain.
struct Member {
    std::shared_ptr<Connection> connection;
    uint32_t id { 0 };    // its route: ring::Route::sip
    uint32_t image { 0 }; // index into the domain's images
    unsigned slot { 0 };  // its memory slot
    // Guarded by the connection's lock.
    Sip* sip { nullptr }; // from its start to its finish
    enum class State : uint8_t {
        Live,   // its messages are served
        Ending, // it ended in the kernel: its messages are dropped until the domain says it is gone
    };
    State state { State::Live };
    struct Delivery {
        uint32_t sequence { 0 };
        ring::FromDomain message;
    };
    struct Proxy {
        Thread* waiter { nullptr };      // blocked in next() for this inbox
        std::optional<Delivery> inbox;   // one exchange per thread at a time
    };
    std::map<uint32_t, Proxy> threads; // by ring::Route::thread
    uint32_t next_thread { ring::first_thread + 1 };
    // Guarded: the CPU time its code used in the domain, as the domain last
    // reported it (CpuUsed) and the kernel accepted it.
    uint64_t cpu_ns { 0 };
};

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(Kernel& kernel, std::shared_ptr<DomainProcess> process, std::string name, DomainLaunch launch)
        : m_kernel(kernel)
        , m_process(std::move(process))
        , m_name(std::move(name))
        , m_launch(std::move(launch))
    {
    }

    DomainProcess& process() { return *m_process; }
    std::string const& name() const { return m_name; }
    bool failed() const
    {
        std::lock_guard guard(m_lock);
        return m_failure.has_value() || m_closing;
    }

    // After start: a death while every proxy is inside a kernel call still ends its SIPs.
    void watch()
    {
        m_process->on_death([weak = weak_from_this()](std::string const& why) {
            if (auto self = weak.lock())
                self->fail("died: " + why, Terminate::No);
        });
    }

    ErrorOr<std::shared_ptr<Member>> join(Image const& image, std::string const& who)
    {
        std::lock_guard guard(m_lock);
        if (m_failure || m_closing)
            return Error(ErrorKind::Unsupported, "domain '" + m_name + "' is ending");
        auto found = std::find_if(m_launch.images.begin(), m_launch.images.end(), [&](auto const& file) { return file.path == image.path(); });
        if (found == m_launch.images.end()) {
            std::string names;
            for (auto const& file : m_launch.images)
                names += (names.empty() ? "" : ", ") + std::filesystem::path(file.path).filename().string();
            return Error(ErrorKind::Unsupported, "cannot place " + who + " in domain '" + m_name + "': the domain runs already and maps only the images it started with ("
                + names + "); a sealed domain maps no new code, so its programs are those that name it when it starts");
        }
        unsigned slot = 0;
        while (slot < m_process->slot_count() && std::any_of(m_members.begin(), m_members.end(), [&](auto const& member) { return member.second->slot == slot; }))
            ++slot;
        if (slot == m_process->slot_count())
            return Error(ErrorKind::Limit, "cannot place " + who + " in domain '" + m_name + "': it hosts " + std::to_string(slot) + " SIPs already");
        auto member = std::make_shared<Member>();
        member->connection = shared_from_this();
        member->id = m_next_member++;
        member->image = uint32_t(found - m_launch.images.begin());
        member->slot = slot;
        member->threads[ring::first_thread];
        m_members.emplace(member->id, member);
        m_roster.add_sip(member->id);
        return member;
    }

    // The SIP's finish hook: it is gone from the kernel. The last SIP ends the process.
    void leave(Member& member);

    // The CPU time `member`'s code has used in the domain, for its CPU-time
    // clock. A domain of its own is the SIP's alone: its process's CPU clock
    // (which Linux brings up to date at its scheduler ticks and switches, not
    // at the read, for a thread running elsewhere). A shared domain: the share
    // the domain last reported for it (CpuUsed, at most every 10 ms while it
    // computes), which the kernel accepted only if no less than the one before.
    uint64_t cpu_time_ns(Member const& member) const
    {
        if (m_name.empty()) {
            if (auto process_ns = m_process->cpu_time_ns())
                return *process_ns;
        }
        std::lock_guard guard(m_lock);
        return member.cpu_ns;
    }

    // Runs on the SIP's first proxy thread, as its host entry. Nothing that owns
    // memory may sit on a proxy's stack: a call that ends the thread (exit, a
    // kill, a trap the kernel imposes) leaves it by a jump, without destructors.
    void serve_first(Sip& sip, Member& member)
    {
        sip.runtime().wasm_memory = &m_process->memory(member.slot);
        {
            std::lock_guard guard(m_lock);
            member.sip = &sip;
        }
        // A SIP alone in its domain: what its process computes is its own, held
        // to its CPU-time limit together with what its calls cost the kernel.
        if (sip.limits().cpu_time_ns && m_name.empty()) {
            m_process->limit_cpu([&sip](uint64_t process_ns) {
                sip.note_cpu_in_domain(process_ns);
                if (!sip.over_cpu_limit())
                    return false;
                sip.end_over_cpu_limit(" (in its domain)");
                return true;
            });
        }
        if (!send(0, ring::Route { member.id, ring::first_thread }, ring::Start { member.image, member.slot })) {
            end_with_failure(sip);
            return;
        }
        serve(sip, member, ring::first_thread);
    }

    // Runs on a proxy thread until its domain thread ends (or its SIP does).
    void serve(Sip& sip, Member& member, uint32_t thread);

private:
    enum class Terminate : bool { No, Yes };

    // Returns the next message for `thread` of `member`, or nothing when the
    // proxy must stop (its SIP is being killed, or the domain failed).
    std::optional<Member::Delivery> next(Member& member, uint32_t thread);
    // Under m_lock, the reader's step: routes every published frame, or says
    // what is wrong with the first that cannot be (the caller then fails the domain).
    // A message for the reader itself (`thread` of `member`) goes to `mine`.
    std::optional<std::string> read_all(Member& member, uint32_t thread, std::optional<Member::Delivery>& mine);
    // Under m_lock: puts a checked message where it belongs, or says what is wrong with it.
    std::optional<std::string> route(uint32_t sequence, ring::FromDomain&&);
    // Under m_lock: charges a SIP what the domain says it used, or says why the report is refused.
    std::optional<std::string> charge_cpu(Member&, uint64_t total_ns);
    // Under m_lock: a proxy blocked in next() with an empty inbox reads next.
    void wake_a_follower();
    ErrorOr<std::shared_ptr<ThreadHandle>> start_thread(Sip&, Member&, uint32_t function, uint32_t argument, uint32_t stack_top);
    // Sends `message` for `route` as frame `sequence` (0 for what answers no call).
    // Without `bell` the domain's doorbell is not rung: for a frame another follows
    // at once, which rings for both (one wake-up of a sleeping domain, not two).
    template<typename Message>
    bool send(uint32_t sequence, ring::Route route, Message const& message, bool bell = true)
    {
        return send_frame(Message::type, sequence, ring::encode(route, message), bell);
    }
    // The answer to nearly every call: encoded without allocating.
    bool send(uint32_t sequence, ring::Route route, ring::Result const& result)
    {
        ring::FixedPayload payload;
        return send_frame(ring::Result::type, sequence, ring::encode_into(payload, route, result), true);
    }
    bool send_frame(ring::ToDomainType type, uint32_t sequence, std::span<uint8_t const> payload, bool bell)
    {
        std::optional<std::string> failure;
        {
            std::lock_guard guard(m_send_lock);
            auto sent = m_process->ring().try_send(uint16_t(type), sequence, payload);
            if (sent.is_error())
                failure = "broke its ring: " + sent.error().message();
            // One answer per thread at a time: a full reply ring means the domain stopped reading.
            else if (!sent.value())
                failure = "stopped reading its replies";
        }
        if (failure) {
            fail(*failure, Terminate::Yes);
            return false;
        }
        if (bell)
            m_process->ring_doorbell();
        return true;
    }
    // Ends every SIP of the domain with `why` and, unless the pump is telling
    // of its death, ends the process.
    void fail(std::string const& why, Terminate);
    void end_with_failure(Sip& sip)
    {
        std::string why;
        {
            std::lock_guard guard(m_lock);
            why = m_failure.value_or("ended");
        }
        sip.record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, "its domain process " + why });
    }
    bool handle(Sip&, Member&, uint32_t thread, Member::Delivery const&);
    // Before a call runs: fetches for writing the lines its answer is written to.
    void prepare_answer(Member&, ring::Call const&);

    Kernel& m_kernel;
    std::shared_ptr<DomainProcess> m_process;
    std::string m_name; // empty: a domain of its own
    DomainLaunch m_launch;
    SpinLock m_send_lock; // the kernel's side of the ring is one producer (held for a copy into the ring; never blocks)

    // Taken by the reader for every frame (a spin lock: one atomic exchange where
    // a mutex takes two, ~10 ns of every call a domain makes). Its sections are
    // short and never block; the longest are a SIP's leaving (emptying its memory
    // slot, which must happen before the slot can be taken again) and a CPU-time
    // report (reading the process's clock), each a system call, and rare.
    mutable SpinLock m_lock;
    std::map<uint32_t, std::shared_ptr<Member>> m_members; // guarded; by ring::Route::sip, until the domain says SIP gone
    ring::Roster m_roster;                                 // guarded: the same SIPs and their threads, what routes are checked against
    uint32_t m_next_member { 1 };                          // guarded
    uint64_t m_cpu_reported_ns { 0 };                      // guarded: the sum of every member's cpu_ns, those gone included
    bool m_reading { false };                              // guarded: a proxy is the reader
    uint32_t m_followers { 0 };                            // guarded: proxies blocked as followers in next()
    ring::Frame m_read_frame;                              // the reader's, reused from frame to frame
    ring::FromDomain m_decoded;                            // the reader's: what it decodes a frame into
    bool m_hello { false };                                // guarded
    bool m_closing { false };                              // guarded: its last SIP left
    std::optional<std::string> m_failure;                  // guarded
};

std::mutex s_named_lock;
// Named domains alive, by kernel and name. An entry goes when its last SIP leaves.
std::map<std::pair<Kernel const*, std::string>, std::shared_ptr<Connection>> s_named; // guarded by s_named_lock

void Connection::leave(Member& member)
{
    std::vector<std::shared_ptr<Member>> dropped;
    bool last = false;
    bool failed = false;
    {
        std::unique_lock<std::mutex> named;
        if (!m_name.empty())
            named = std::unique_lock(s_named_lock);
        std::lock_guard guard(m_lock);
        member.state = Member::State::Ending;
        member.sip = nullptr;
        m_roster.end_sip(member.id);
        failed = m_failure.has_value();
        last = std::none_of(m_members.begin(), m_members.end(), [](auto const& entry) { return entry.second->state == Member::State::Live; });
        if (last) {
            m_closing = true;
            // Breaks the cycle between members and their connection; they go once unlocked.
            for (auto& [id, other] : m_members)
                dropped.push_back(std::move(other));
            m_members.clear();
            if (!m_name.empty()) {
                auto key = std::make_pair(&m_kernel, m_name);
                if (auto it = s_named.find(key); it != s_named.end() && it->second.get() == this)
                    s_named.erase(it);
            }
        }
    }
    if (last) {
        // Killed, not waited for: the reaper tears it down while the SIP's waiters
        // already see its end (nothing of it can run any more).
        m_process->kill();
        return;
    }
    // The domain drops the SIP's fibers and memory and says so; only then is its slot reused.
    if (!failed)
        (void)send(0, ring::Route { member.id, 0 }, ring::EndSip {});
}

void Connection::serve(Sip& sip, Member& member, uint32_t thread)
{
    for (;;) {
        auto delivery = next(member, thread);
        if (!delivery) {
            if (failed())
                end_with_failure(sip);
            return;
        }
        if (!handle(sip, member, thread, *delivery))
            return;
    }
}

std::optional<Member::Delivery> Connection::next(Member& member, uint32_t thread)
{
    Thread* self = Worker::current_thread();
    bool reader = false;
    std::optional<Member::Delivery> got; // what this proxy read for itself, as the reader
    for (;;) {
        std::optional<std::string> broke;
        {
            std::unique_lock guard(m_lock);
            auto& proxy = member.threads.at(thread);
            bool stop = m_failure.has_value() || self->kill_requested();
            if (!got && !proxy.inbox && !stop) {
                if (!reader && m_reading) {
                    // 3. A follower: the reader fills the inbox, or hands over.
                    proxy.waiter = self;
                    ++m_followers;
                    guard.unlock();
                    Worker::block_current();
                    guard.lock();
                    --m_followers;
                    member.threads.at(thread).waiter = nullptr;
                    continue;
                }
                // 2. The reader: routes every published frame, under the same
                //    lock as the look at its own inbox (one lock per frame it waits for).
                m_reading = reader = true;
                broke = read_all(member, thread, got);
            }
            if (!broke && (got || proxy.inbox || stop)) {
                if (stop)
                    got.reset();
                else if (!got)
                    got = std::move(proxy.inbox);
                proxy.inbox.reset();
                if (reader)
                    m_reading = false;
                // 4. Whoever leaves while nobody reads makes sure somebody does.
                if (!m_reading)
                    wake_a_follower();
                return got;
            }
        }
        if (broke) {
            fail(*broke, Terminate::Yes);
            continue;
        }
        // Everything it published is routed; only now does its death count.
        if (m_process->dead())
            fail("died: " + m_process->death().value_or("gone"), Terminate::No);
        else
            m_process->wait();
    }
}

void Connection::wake_a_follower()
{
    if (!m_followers)
        return; // the common case, a SIP with one thread: no look through every proxy
    // One with nothing in its inbox: one with a message runs anyway, and would not read.
    for (auto& [id, member] : m_members) {
        for (auto& [thread, proxy] : member->threads) {
            if (proxy.waiter && !proxy.inbox) {
                Worker::wake(*proxy.waiter);
                return;
            }
        }
    }
}

std::optional<std::string> Connection::read_all(Member& member, uint32_t thread, std::optional<Member::Delivery>& mine)
{
    ring::Frame& frame = m_read_frame;
    ring::Route const own { member.id, thread };
    for (;;) {
        auto got = m_process->ring().receive(frame);
        if (got.is_error())
            return "broke its ring: " + got.error().message();
        if (!got.value())
            return {};
        if (auto decoded = ring::decode_to_kernel(frame, m_decoded); decoded.is_error())
            return "sent a malformed message: " + decoded.error().message();
        // The reader's own next request, the common case, goes straight to it:
        // what route() would conclude without its look-ups, since a proxy's thread
        // is in the roster while the proxy serves it, and its SIP is live (not
        // ending) until it leaves. A thread's message is never the domain's or a SIP's
        // (decode_to_kernel checked the route's shape: its thread is not 0).
        if (m_decoded.route == own && m_hello && member.state == Member::State::Live) {
            if (mine)
                return "sent a second message for thread " + std::to_string(thread) + " of SIP " + std::to_string(member.id) + " before the first was answered";
            mine.emplace();
            mine->sequence = frame.sequence;
            mine->message = std::move(m_decoded);
            continue;
        }
        if (auto failure = route(frame.sequence, std::move(m_decoded)))
            return failure;
    }
}

std::optional<std::string> Connection::route(uint32_t sequence, ring::FromDomain&& message)
{
    auto const route = message.route;
    if (auto const* hello = std::get_if<ring::Hello>(&message.message)) {
        if (m_hello)
            return "said hello twice";
        if (hello->version != ring::protocol_version || hello->call_count != ring::abi_call_count || hello->call_fingerprint != ring::abi_call_fingerprint())
            return "speaks another protocol (version " + std::to_string(hello->version) + ", " + std::to_string(hello->call_count) + " ABI functions)";
        if (!hello->sealed)
            return "did not seal itself";
        // Said once per kernel: every domain on this Linux is in the same position.
        static std::atomic<bool> s_told { false };
        if (hello->sealed == 2 && !s_told.exchange(true))
            (void)m_kernel.diagnostics().write("signet: note: this Linux has no Landlock; domain processes are sealed by seccomp alone (no file or network restriction beyond it)\n");
        m_hello = true;
        m_process->mark_hello();
        return {};
    }
    if (!m_hello)
        return "sent a request before its hello";
    auto verdict = m_roster.admit(message);
    if (verdict.is_error())
        return "sent " + verdict.error().message();
    if (verdict.value() == ring::Roster::Verdict::Drop)
        return {}; // it ended in the kernel; what its threads still had in flight goes
    auto found = m_members.find(route.sip);
    VERIFY(found != m_members.end());
    Member& member = *found->second;
    if (auto const* used = std::get_if<ring::CpuUsed>(&message.message))
        return charge_cpu(member, used->total_ns);
    if (verdict.value() == ring::Roster::Verdict::Gone) {
        m_process->clear_slot(member.slot);
        m_members.erase(found);
        return {};
    }
    auto thread = member.threads.find(route.thread);
    VERIFY(thread != member.threads.end());
    auto& proxy = thread->second;
    if (proxy.inbox)
        return "sent a second message for thread " + std::to_string(route.thread) + " of SIP " + std::to_string(route.sip) + " before the first was answered";
    proxy.inbox.emplace();
    proxy.inbox->sequence = sequence;
    proxy.inbox->message = std::move(message);
    if (proxy.waiter)
        Worker::wake(*proxy.waiter);
    return {};
}

std::optional<std::string> Connection::charge_cpu(Member& member, uint64_t total_ns)
{
    if (total_ns < member.cpu_ns)
        return "reported " + std::to_string(total_ns) + " ns of CPU time for SIP " + std::to_string(member.id) + ", less than the "
            + std::to_string(member.cpu_ns) + " ns it reported before";
    // Never trusted beyond the process's own clock: the reports of all its SIPs,
    // those gone included, add up to no more than the process has used. An honest
    // domain always passes: its reports add up to at most what its host thread's
    // CPU clock said, and reading that clock folds the thread's pending run time
    // into what the process's clock sums, which is read here, after the report.
    auto process_ns = m_process->cpu_time_ns();
    if (!process_ns)
        return {}; // nothing to check it against: not charged
    uint64_t more = total_ns - member.cpu_ns;
    if (more > *process_ns - std::min(*process_ns, m_cpu_reported_ns)) {
        return "claimed " + std::to_string(total_ns) + " ns of CPU time for SIP " + std::to_string(member.id) + ", which makes "
            + std::to_string(m_cpu_reported_ns) + " + " + std::to_string(more) + " ns for its SIPs, more than its process has used ("
            + std::to_string(*process_ns) + " ns)";
    }
    m_cpu_reported_ns += more;
    member.cpu_ns = total_ns;
    // What its code computes in the domain and what its calls cost the kernel on
    // its proxy threads are held to its CPU-time limit together.
    if (member.sip) {
        member.sip->note_cpu_in_domain(total_ns);
        if (member.sip->over_cpu_limit() && member.state == Member::State::Live && !member.sip->has_exit_record())
            member.sip->end_over_cpu_limit(" (in its domain)");
    }
    return {};
}

void Connection::fail(std::string const& why, Terminate terminate)
{
    {
        std::lock_guard guard(m_lock);
        if (!m_failure) {
            m_failure = why;
            for (auto& [id, member] : m_members) {
                if (member->state != Member::State::Live || !member->sip)
                    continue;
                member->sip->record_exit({ ExitInfo::How::Killed, 0, TrapKind::None, "its domain process " + why });
                member->sip->request_kill();
            }
            // Followers see the failure.
            for (auto& [id, member] : m_members) {
                for (auto& [thread, proxy] : member->threads) {
                    if (proxy.waiter)
                        Worker::wake(*proxy.waiter);
                }
            }
        }
    }
    if (terminate == Terminate::Yes)
        m_process->kill();
}

bool Connection::handle(Sip& sip, Member& member, uint32_t thread, Member::Delivery const& delivery)
{
    ring::Route const route { member.id, thread };
    auto const& message = delivery.message.message;
    if (auto const* call = std::get_if<ring::Call>(&message)) {
        if (call->function == domain_thread_exit_call()) {
            // The domain drops the thread's fiber; the kernel ends its proxy (for
            // the first thread: the SIP), and the call does not return.
            if (thread != ring::first_thread) {
                std::lock_guard guard(m_lock);
                member.threads.erase(thread);
                m_roster.remove_thread(route);
            }
            if (!send(delivery.sequence, route, ring::Unwind { ring::Unwind::Reason::Exited }))
                return false;
            execute_domain_call(sip, call->function, call->arguments);
            return false;
        }
        prepare_answer(member, *call);
        // While the call waits on something else, the domain may give its CPU away.
        Thread* self = Worker::current_thread();
        self->set_blocked_hint(&m_process->ring().kernel_blocked_hint());
        uint64_t result = 0;
        if (call->function == domain_thread_create_call()) {
            result = domain_thread_create(sip, call->arguments, [&](uint32_t stack_top) {
                return start_thread(sip, member, uint32_t(call->arguments[0]), uint32_t(call->arguments[1]), stack_top);
            });
        } else {
            result = execute_domain_call(sip, call->function, call->arguments);
        }
        self->set_blocked_hint(nullptr);
        // What the call changed in the SIP's memory (exchange-heap blocks), applied by
        // the domain before the Result lets the thread run on.
        auto changes = take_domain_memory_changes(sip);
        // The last part's doorbell is the Result's, which follows at once. A call
        // with more changes than one frame holds rings for the parts before it, so
        // that a sleeping domain drains the ring while the rest is written.
        for (size_t at = 0, most = ring::max_memory_changes * 12; at < changes.size(); at += most) {
            ring::MemoryChanges part { { changes.begin() + long(at), changes.begin() + long(std::min(changes.size(), at + most)) } };
            if (!send(delivery.sequence, route, part, /* bell: */ at + most < changes.size()))
                return false;
        }
        return send(delivery.sequence, route, ring::Result { result });
    }
    if (auto const* grow = std::get_if<ring::GrowMemory>(&message)) {
        auto& memory = m_process->memory(member.slot);
        // The module's declared maximum holds for the blocks the kernel grows the
        // memory for, too (BlockArena::allocate); a domain that claims more than it
        // said before gets no more.
        memory.max_pages = uint32_t(std::min<uint64_t>(memory.max_pages, grow->maximum_pages));
        bool ok = grow->pages >= memory.pages && grow->pages <= memory.max_pages
            && grow->pages * 65536 <= std::min(m_process->slot_bytes(), sip.limits().memory_bytes + sip.runtime().blocks.grown_bytes());
        if (ok) {
            memory.pages = uint32_t(grow->pages);
            memory.size = uint32_t(grow->pages * 65536);
        }
        return send(delivery.sequence, route, ring::Result { ok ? 1u : 0u });
    }
    auto const& ended = std::get<ring::Ended>(message);
    if (ended.how == ring::Ended::How::Returned) {
        if (thread != ring::first_thread) {
            // Only this thread ends (status 0, as in the kernel).
            std::lock_guard guard(m_lock);
            member.threads.erase(thread);
            m_roster.remove_thread(route);
            return false;
        }
        // Returning from `_start` ends the program, as returning from main does.
        sip.record_exit({ ExitInfo::How::Exited, 0, TrapKind::None, {} });
        sip.request_kill();
        return false;
    }
    if (ended.trap_kind == 0 || ended.trap_kind > uint32_t(TrapKind::UseAfterSend)) {
        fail("reported trap kind " + std::to_string(ended.trap_kind) + ", which does not exist", Terminate::Yes);
        return false;
    }
    // A trap in any thread ends the whole SIP: its memory may be half-updated.
    sip.record_exit({ ExitInfo::How::Trapped, 0, TrapKind(ended.trap_kind), ended.detail });
    sip.request_kill();
    return false;
}

// The answer to a call goes out through lines the domain holds: the frame the
// Result is written to, and the SIP's memory the call writes (its outputs), which
// the domain read after its last call. Fetching them for writing while the call
// runs takes the domain's copies away now; otherwise the Result, published
// after the outputs are written, would wait for that as it leaves (10-20 ns
// of a channel round trip with the client in a domain, docs/protection-domains.md).
// Hints only: nothing is read or written here. The first line of each output.
void Connection::prepare_answer(Member& member, ring::Call const& call)
{
    m_process->ring().prepare_send();
    auto const& memory = m_process->memory(member.slot);
    ring::for_each_output(call.function, call.arguments, memory.size, [&](uint64_t address) { __builtin_prefetch(memory.data + address, 1); });
}

void serve_thread(void* raw_member, uint32_t thread)
{
    auto& member = *static_cast<Member*>(raw_member);
    member.connection->serve(Worker::current_thread()->sip(), member, thread);
}

ErrorOr<std::shared_ptr<ThreadHandle>> Connection::start_thread(Sip& sip, Member& member, uint32_t function, uint32_t argument, uint32_t stack_top)
{
    uint32_t id = 0;
    {
        std::lock_guard guard(m_lock);
        id = member.next_thread++;
        member.threads[id];
        m_roster.add_thread({ member.id, id });
    }
    // Its proxy: a thread of the SIP in the kernel that serves thread `id` of the domain.
    auto handle = m_kernel.start_thread(sip, Thread::Entry { &serve_thread, &member, id }, stack_top);
    if (handle.is_error()) {
        std::lock_guard guard(m_lock);
        member.threads.erase(id);
        m_roster.remove_thread({ member.id, id });
        return handle.release_error();
    }
    (void)send(0, ring::Route { member.id, id }, ring::StartThread { function, argument, stack_top });
    return handle;
}

ErrorOr<std::shared_ptr<Connection>> start_connection(Kernel& kernel, DomainLaunch launch, std::string name)
{
    auto process = TRY(DomainProcess::start(launch));
    auto connection = std::make_shared<Connection>(kernel, std::move(process), std::move(name), std::move(launch));
    connection->watch();
    return connection;
}

} // namespace

DomainPlacement DomainPlacement::parse(std::string const& text)
{
    if (text.empty() || text == "kernel")
        return { Kind::Kernel, {} };
    if (text == "own")
        return { Kind::Own, {} };
    return { Kind::Named, text };
}

std::string DomainPlacement::describe() const
{
    switch (kind) {
    case Kind::Kernel:
        return "the kernel domain";
    case Kind::Own:
        return "a domain of its own";
    case Kind::Named:
        return "domain '" + name + "'";
    }
    return "?";
}

ErrorOr<void> place_in_domain(Kernel& kernel, SpawnRequest& request, DomainPlacement const& placement, std::string host_executable)
{
    if (placement.kind == DomainPlacement::Kind::Kernel)
        return {};
    if (!request.image || request.image->path().empty())
        return Error::invalid("cannot place " + request.name + " in a domain: it has no image in the store");
    if (request.host_entry)
        return Error::invalid("cannot place " + request.name + " in a domain: a host-driven SIP runs in the kernel");
    DomainLaunch launch;
    launch.host_executable = host_executable.empty() ? DomainProcess::default_host_executable() : host_executable;
    launch.images.push_back({ request.image->path(), request.image->module_hash() });
    launch.memory_bytes = request.limits.memory_bytes;
    launch.exchange_bytes = request.limits.exchange_bytes;
    launch.stack_bytes = request.limits.stack_bytes;
    launch.quantum_us = uint64_t(kernel.quantum().count());
    std::shared_ptr<Member> member;
    if (placement.kind == DomainPlacement::Kind::Own) {
        auto connection = TRY(start_connection(kernel, std::move(launch), {}));
        member = TRY(connection->join(*request.image, request.name));
    } else {
        std::lock_guard guard(s_named_lock);
        auto& connection = s_named[{ &kernel, placement.name }];
        if (!connection || connection->failed()) {
            // Its images are fixed now: this one, and every registered program that names it.
            for (auto const& name : kernel.program_names()) {
                auto info = kernel.find_program_info(name);
                if (!info || info->domain != placement.name || !info->image || info->image->path().empty())
                    continue;
                if (std::none_of(launch.images.begin(), launch.images.end(), [&](auto const& file) { return file.path == info->image->path(); })) {
                    if (launch.images.size() == domain::max_images)
                        return Error(ErrorKind::Limit, "cannot start domain '" + placement.name + "': more than " + std::to_string(domain::max_images) + " programs name it");
                    launch.images.push_back({ info->image->path(), info->image->module_hash() });
                }
                launch.memory_bytes = std::max(launch.memory_bytes, info->limits.memory_bytes);
                launch.exchange_bytes = std::max(launch.exchange_bytes, info->limits.exchange_bytes);
                launch.stack_bytes = std::max(launch.stack_bytes, info->limits.stack_bytes);
            }
            launch.slots = max_sips_per_named_domain;
            auto started = start_connection(kernel, std::move(launch), placement.name);
            if (started.is_error()) {
                s_named.erase({ &kernel, placement.name });
                return started.release_error();
            }
            connection = started.release_value();
        }
        member = TRY(connection->join(*request.image, request.name));
    }
    request.image = Image::remote(request.image->path(), request.image->module_hash());
    request.in_domain = true;
    request.host_entry = [member](Sip& sip) {
        // Set before the SIP's code starts, which is before any of its calls reads it.
        sip.domain_cpu_time = [member] { return member->connection->cpu_time_ns(*member); };
        member->connection->serve_first(sip, *member);
    };
    request.on_finish = [member] { member->connection->leave(*member); };
    return {};
}

ErrorOr<std::shared_ptr<Sip>> spawn_in_domain(Kernel& kernel, SpawnRequest request, DomainPlacement const& placement, std::string host_executable)
{
    TRY(place_in_domain(kernel, request, placement, std::move(host_executable)));
    return kernel.spawn(std::move(request));
}

} // namespace signet
