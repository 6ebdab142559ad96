// Starting, watching and ending a domain process (DomainProcess.h).
#include "kernel/domain/DomainProcess.h"

#include "kernel/domain/DomainZygote.h"
#include "kernel/object/Thread.h"
#include "kernel/sched/Worker.h"
#include "runtime/LinearMemory.h"
#include "runtime/domain/DomainLaunch.h"

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace signet {

namespace {

std::atomic<unsigned> s_live { 0 };
std::atomic<uint64_t> s_started { 0 };
std::atomic<uint64_t> s_waits { 0 };
std::atomic<uint64_t> s_sleeps { 0 };

// Descriptors the kernel keeps for a domain sit above those the domain gets
// (3 up to memory_slot_fd(max_slots - 1)), so that the spawn's dup2 never finds
// source and target the same, nor overwrites a source it has yet to copy.
int lift(int fd)
{
    if (fd < 0)
        return fd;
    static_assert(domain::memory_slot_fd(domain::max_slots - 1) < 64);
    int lifted = ::fcntl(fd, F_DUPFD_CLOEXEC, 64);
    ::close(fd);
    return lifted;
}

// A sealed memory file of `bytes`: nobody (the domain included) can shrink it
// under the kernel's mapping, which would turn kernel reads into SIGBUS.
ErrorOr<int> sealed_memory_file(char const* name, uint64_t bytes)
{
    int fd = lift(int(::syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING)));
    if (fd < 0)
        return Error::from_errno(std::string("memfd_create ") + name, errno);
    if (::ftruncate(fd, off_t(bytes)) != 0 || ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        int err = errno;
        ::close(fd);
        return Error::from_errno(std::string("sizing ") + name, err);
    }
    return fd;
}

// A slot holds a SIP's own memory, up to its limit, and the blocks it owns, up to
// its exchange quota, independently, as a SIP's memory in the kernel does
// (wasm_rt_grow_memory counts what blocks grew apart from the program's memory).
// The arena grows the memory by whole wasm pages and may overshoot the quota by
// less than one (BlockArena::allocate), so blocks get one page more. Never more
// than a linear memory can be.
uint64_t slot_bytes_for(DomainLaunch const& launch)
{
    auto pages = [](uint64_t bytes) { return std::min<uint64_t>(bytes / LinearMemory::page_size + (bytes % LinearMemory::page_size != 0), LinearMemory::max_pages); };
    uint64_t slot_pages = pages(launch.memory_bytes) + (launch.exchange_bytes ? pages(launch.exchange_bytes) + 1 : 0);
    return std::min<uint64_t>(slot_pages, LinearMemory::max_pages) * LinearMemory::page_size;
}

std::string describe_status(int status)
{
    if (WIFSIGNALED(status)) {
        int signal = WTERMSIG(status);
        char const* name = sigabbrev_np(signal);
        std::string text = "killed by signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
        if (signal == SIGSYS)
            text += ": it made a system call its seal forbids";
        return text;
    }
    int code = WEXITSTATUS(status);
    switch (domain::HostExit(code)) {
    case domain::HostExit::BadArguments:
        return "exited: it was started wrongly (status 64)";
    case domain::HostExit::CannotMap:
        return "exited: it could not map its ring, memory or stack (status 65)";
    case domain::HostExit::BadImage:
        return "exited: it could not map the SIP's image (status 66)";
    case domain::HostExit::CannotSeal:
        return "exited: it could not seal itself (status 67)";
    case domain::HostExit::RingBroken:
        return "exited: it found its ring broken (status 68)";
    }
    return "exited with status " + std::to_string(code);
}

} // namespace

// posix_spawn of `executable` (described as `what` in an error) with `arguments`, `descriptors` (ours, theirs)
// and nothing else of ours, an empty environment, no signal blocked or caught.
ErrorOr<pid_t> spawn_host(std::string const& what, std::string const& executable, std::vector<std::string> arguments, std::vector<std::pair<int, int>> const& descriptors)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (auto [ours, theirs] : descriptors)
        posix_spawn_file_actions_adddup2(&actions, ours, theirs);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    sigset_t defaults;
    sigfillset(&defaults);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    char* envp[] = { nullptr };
    pid_t pid = -1;
    int spawned = ::posix_spawn(&pid, executable.c_str(), &actions, &attributes, argv.data(), envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0)
        return Error::from_errno("starting " + what + " " + executable, spawned);
    return pid;
}

static std::mutex s_host_lock;
static std::string s_host_executable; // guarded by s_host_lock; empty: beside the running binary

void DomainProcess::set_default_host_executable(std::string path)
{
    std::lock_guard guard(s_host_lock);
    s_host_executable = std::move(path);
}

std::string DomainProcess::default_host_executable()
{
    {
        std::lock_guard guard(s_host_lock);
        if (!s_host_executable.empty())
            return s_host_executable;
    }
    std::error_code error;
    auto self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error)
        return domain::host_executable_name;
    return (self.parent_path() / domain::host_executable_name).string();
}

static std::vector<int> s_cpus; // guarded by s_host_lock

void DomainProcess::set_cpus(std::vector<int> cpus)
{
    std::lock_guard guard(s_host_lock);
    s_cpus = std::move(cpus);
}

std::vector<int> DomainProcess::domain_cpus()
{
    std::lock_guard guard(s_host_lock);
    return s_cpus;
}

// The domain reaper (DomainProcess::kill): one host thread, started with the
// first domain that needs it, that waits for killed domain processes to die and
// destroys the objects of those whose last reference went elsewhere. Both wait
// on Linux and grow with a domain's memory; neither belongs on a kernel worker.
class DomainProcess::Reaper {
public:
    // The reaper, started if `start`; null if it is not running (or no longer,
    // during the static destruction at exit: then the caller does the work).
    static Reaper* get(bool start)
    {
        static std::once_flag once;
        if (start)
            std::call_once(once, [] { static Reaper reaper; });
        return s_running.load(std::memory_order_acquire);
    }

    void reap(std::shared_ptr<DomainProcess> process)
    {
        std::lock_guard guard(m_lock);
        m_to_reap.push_back(std::move(process));
        m_work.notify_one();
    }

    // False on the reaper's own thread (where the caller destroys it at once).
    bool destroy(DomainProcess* process)
    {
        if (std::this_thread::get_id() == m_thread.get_id())
            return false;
        std::lock_guard guard(m_lock);
        m_to_destroy.push_back(process);
        m_work.notify_one();
        return true;
    }

    void hold(bool held)
    {
        std::lock_guard guard(m_lock);
        m_held = held;
        m_work.notify_one();
    }

    void drain()
    {
        std::unique_lock guard(m_lock);
        m_idle.wait(guard, [&] { return m_to_reap.empty() && m_to_destroy.empty() && !m_busy; });
    }

private:
    Reaper()
    {
        m_thread = std::thread([this] { run(); });
        s_running.store(this, std::memory_order_release);
    }

    ~Reaper()
    {
        s_running.store(nullptr, std::memory_order_release);
        {
            std::lock_guard guard(m_lock);
            m_stop = true;
            m_work.notify_one();
        }
        m_thread.join(); // after what is queued: it drains first
    }

    void run()
    {
        std::unique_lock guard(m_lock);
        for (;;) {
            m_work.wait(guard, [&] { return m_stop || (!m_held && (!m_to_reap.empty() || !m_to_destroy.empty())); });
            if (m_to_reap.empty() && m_to_destroy.empty())
                return; // stopping, and nothing left
            auto to_reap = std::move(m_to_reap);
            auto to_destroy = std::move(m_to_destroy);
            m_to_reap.clear();
            m_to_destroy.clear();
            m_busy = true;
            guard.unlock();
            for (auto& process : to_reap) {
                process->terminate();
                process.reset(); // the last reference destroys it here
            }
            for (DomainProcess* process : to_destroy)
                delete process;
            guard.lock();
            m_busy = false;
            if (m_to_reap.empty() && m_to_destroy.empty())
                m_idle.notify_all();
        }
    }

    static inline std::atomic<Reaper*> s_running { nullptr };
    std::mutex m_lock;
    std::condition_variable m_work, m_idle;
    std::deque<std::shared_ptr<DomainProcess>> m_to_reap; // guarded
    std::vector<DomainProcess*> m_to_destroy;             // guarded
    bool m_busy { false };                                 // guarded: the thread works on what it took
    bool m_stop { false };                                 // guarded
    bool m_held { false };                                 // guarded: hold_reaper
    std::thread m_thread;
};

void DomainProcess::hold_reaper(bool held)
{
    Reaper::get(true)->hold(held);
}

void DomainProcess::await_reaped()
{
    if (Reaper* reaper = Reaper::get(false))
        reaper->drain();
}

unsigned DomainProcess::live_count() { return s_live.load(std::memory_order_relaxed); }
uint64_t DomainProcess::started_count() { return s_started.load(std::memory_order_relaxed); }
DomainProcess::WaitCounts DomainProcess::wait_counts() { return { s_waits.load(std::memory_order_relaxed), s_sleeps.load(std::memory_order_relaxed) }; }

ErrorOr<std::shared_ptr<DomainProcess>> DomainProcess::start(DomainLaunch const& launch)
{
    if (s_live.fetch_add(1) >= max_domains) {
        s_live.fetch_sub(1);
        return Error(ErrorKind::Limit, "cannot start a domain process: " + std::to_string(max_domains) + " are alive already");
    }
    // Destroyed by the reaper, wherever the last reference goes (kill()).
    Reaper::get(true);
    auto domain = std::shared_ptr<DomainProcess>(new DomainProcess, [](DomainProcess* process) {
        Reaper* reaper = Reaper::get(false);
        if (!reaper || !reaper->destroy(process))
            delete process;
    });
    if (::access(launch.host_executable.c_str(), X_OK) != 0)
        return Error::from_errno("domain host " + launch.host_executable, errno);

    if (launch.images.empty() || launch.images.size() > domain::max_images || launch.slots == 0 || launch.slots > domain::max_slots)
        return Error::invalid("cannot start a domain process with " + std::to_string(launch.images.size()) + " images and " + std::to_string(launch.slots)
            + " slots (at most " + std::to_string(domain::max_images) + " and " + std::to_string(domain::max_slots) + ")");

    // Forked by the zygote if one serves this host, else exec'd, unless the kernel
    // sealed itself against that (DomainZygote::make_required).
    bool forked = DomainZygote::serves(launch.host_executable);
    if (!forked && DomainZygote::required())
        return Error(ErrorKind::Unsupported, "cannot start a domain process of " + launch.host_executable + ": "
            + (DomainZygote::running() ? "the domain zygote forks only domains of its own host" : "the domain zygote is gone")
            + ", and this kernel sealed itself against executing a program once the zygote started");

    // 1. The ring and the SIPs' memory slots, as sealed memory files mapped here.
    domain->m_ring_fd = TRY(sealed_memory_file("signet-ring", ring::region_bytes));
    uint64_t memory_bytes = slot_bytes_for(launch);
    domain->m_memory_bytes = memory_bytes;
    void* region = ::mmap(nullptr, ring::region_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, domain->m_ring_fd, 0);
    if (region == MAP_FAILED)
        return Error::from_errno("mapping a domain's ring", errno);
    domain->m_region = static_cast<uint8_t*>(region);
    ring::Ring::initialize(domain->m_region);
    domain->m_ring.emplace(ring::Side::Kernel, domain->m_region);
    domain->m_slots.resize(launch.slots);
    for (auto& slot : domain->m_slots) {
        slot.fd = TRY(sealed_memory_file("signet-domain-memory", memory_bytes));
        void* view = ::mmap(nullptr, memory_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, slot.fd, 0);
        if (view == MAP_FAILED)
            return Error::from_errno("mapping a domain SIP's memory", errno);
        slot.view = static_cast<uint8_t*>(view);
        slot.memory.data = slot.view;
        slot.memory.pages = 0;
        slot.memory.max_pages = uint32_t(memory_bytes / LinearMemory::page_size); // at most LinearMemory::max_pages
        slot.memory.size = 0;
    }

    // 2. The doorbells, and the pump's stop switch.
    domain->m_to_kernel = lift(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    domain->m_to_domain = lift(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    domain->m_stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (domain->m_to_kernel < 0 || domain->m_to_domain < 0 || domain->m_stop < 0)
        return Error::from_errno("creating a domain's doorbells", errno);

    // 3. The process, forked by the zygote if one serves this host, else
    //    posix_spawn'd (vfork and exec, safe from a threaded kernel). Either way
    //    it gets exactly the descriptors above at 3-6 (and its further memory
    //    slots from 7), an empty environment, and its arguments.
    std::vector<std::pair<int, int>> descriptors { { domain->m_ring_fd, domain::ring_fd } };
    for (unsigned i = 0; i < launch.slots; ++i)
        descriptors.push_back({ domain->m_slots[i].fd, domain::memory_slot_fd(i) });
    descriptors.push_back({ domain->m_to_kernel, domain::to_kernel_fd });
    descriptors.push_back({ domain->m_to_domain, domain::to_domain_fd });
    // signet-domain MEMORY_BYTES STACK_BYTES SLOTS QUANTUM_US (IMAGE MODULE_HASH)...
    std::vector<std::string> arguments { launch.host_executable, std::to_string(memory_bytes), std::to_string(launch.stack_bytes), std::to_string(launch.slots),
        std::to_string(launch.quantum_us) };
    for (auto const& image : launch.images) {
        arguments.push_back(image.path);
        arguments.push_back(image.module_hash);
    }
    pid_t pid = forked ? TRY(DomainZygote::fork_domain(arguments, descriptors)) : TRY(spawn_host("domain host", launch.host_executable, arguments, descriptors));
    domain->m_pid = pid;
    s_started.fetch_add(1, std::memory_order_relaxed);
    domain->m_pidfd = int(::syscall(SYS_pidfd_open, pid, 0));
    if (domain->m_pidfd < 0) {
        int err = errno;
        domain->terminate();
        return Error::from_errno("pidfd_open of a domain process", err);
    }
    domain->m_has_cpu_clock = ::clock_getcpuclockid(pid, &domain->m_cpu_clock) == 0;
    if (auto cpus = domain_cpus(); !cpus.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int cpu : cpus)
            CPU_SET(cpu, &set);
        if (::sched_setaffinity(pid, sizeof set, &set) != 0) {
            int err = errno;
            domain->terminate();
            return Error::from_errno("placing a domain process on its CPUs", err);
        }
    }
    // The domain's ends of the memory files and doorbells live on in the domain only.
    domain->m_pump = std::thread([raw = domain.get()] { raw->pump(); });
    return domain;
}

DomainProcess::~DomainProcess()
{
    terminate();
    if (m_pump.joinable()) {
        m_stopping.store(true, std::memory_order_release);
        uint64_t one = 1;
        [[maybe_unused]] auto written = ::write(m_stop, &one, sizeof one);
        m_pump.join();
    }
    for (int fd : { m_pidfd, m_ring_fd, m_to_kernel, m_to_domain, m_stop }) {
        if (fd >= 0)
            ::close(fd);
    }
    if (m_region)
        ::munmap(m_region, ring::region_bytes);
    for (auto& slot : m_slots) {
        if (slot.fd >= 0)
            ::close(slot.fd);
        if (slot.view)
            ::munmap(slot.view, m_memory_bytes);
    }
    s_live.fetch_sub(1);
}

void DomainProcess::clear_slot(unsigned slot)
{
    auto& memory = m_slots[slot];
    memory.memory.pages = 0;
    memory.memory.size = 0;
    memory.memory.max_pages = uint32_t(m_memory_bytes / LinearMemory::page_size); // until its SIP declares less
    // Punching the whole file out gives its pages back; both mappings read zero afterwards.
    if (::fallocate(memory.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, off_t(m_memory_bytes)) != 0)
        std::memset(memory.view, 0, m_memory_bytes);
}

void DomainProcess::ring_doorbell() const
{
    // Only a domain asleep on its doorbell needs it; one that watches the ring sees the frame.
    m_ring->notify(ring::Doorbell(m_to_domain));
}

// Sends SIGKILL unless the process is reaped already (then false). From here on
// its death is expected: nobody is to be told.
bool DomainProcess::signal_kill()
{
    if (m_pid <= 0)
        return false;
    {
        std::lock_guard guard(m_lock);
        if (m_reaped)
            return false;
        m_on_death = nullptr;
        m_on_cpu_sample = nullptr;
    }
    if (m_pidfd >= 0)
        ::syscall(SYS_pidfd_send_signal, m_pidfd, SIGKILL, nullptr, 0);
    else
        ::kill(m_pid, SIGKILL);
    return true;
}

void DomainProcess::terminate()
{
    if (!signal_kill())
        return;
    int status = 0;
    pid_t reaped;
    do {
        reaped = ::waitpid(m_pid, &status, 0);
    } while (reaped < 0 && errno == EINTR);
    std::lock_guard guard(m_lock);
    m_reaped = true;
    if (!m_death)
        m_death = reaped == m_pid ? describe_status(status) : "gone";
    m_dead.store(true, std::memory_order_release);
}

void DomainProcess::kill()
{
    if (!signal_kill())
        return;
    if (Reaper* reaper = Reaper::get(false))
        reaper->reap(shared_from_this());
    else
        terminate();
}

void DomainProcess::note_death(std::string why)
{
    std::lock_guard guard(m_lock);
    if (!m_death)
        m_death = std::move(why);
    m_dead.store(true, std::memory_order_release);
    m_event = true;
    if (m_waiter)
        Worker::wake(*m_waiter);
    if (m_on_death)
        m_on_death(*m_death);
}

void DomainProcess::limit_cpu(std::function<bool(uint64_t process_ns)> over_limit)
{
    std::lock_guard guard(m_lock);
    m_on_cpu_sample = std::move(over_limit);
    // Wake the pump so it starts sampling.
    uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(m_stop, &one, sizeof one);
}

std::optional<uint64_t> DomainProcess::cpu_time_ns() const
{
    timespec used {};
    if (!m_has_cpu_clock || ::clock_gettime(m_cpu_clock, &used) != 0)
        return {};
    return uint64_t(used.tv_sec) * 1'000'000'000ull + uint64_t(used.tv_nsec);
}

void DomainProcess::on_death(std::function<void(std::string const&)> callback)
{
    std::lock_guard guard(m_lock);
    m_on_death = std::move(callback);
}

std::optional<std::string> DomainProcess::death() const
{
    std::lock_guard guard(m_lock);
    return m_death;
}

void DomainProcess::wait()
{
    Thread* self = Worker::current_thread();
    // A statistic for the benchmarks on every ABI call's path: a plain load and
    // store, no locked instruction (two workers at once may lose a count).
    s_waits.store(s_waits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // 1. The hot path: the domain's next frame is often a microsecond away, so
    //    watch the ring (ring::spin_ns at most) while this worker has nothing
    //    else to run. No doorbell, no pump, no wake-up.
    Worker& worker = self->worker();
    auto worker_free = [&] { return !worker.has_waiting() && !worker.steal_requested() && !self->kill_requested(); };
    // A thread this one's last call woke (the server of a channel call: it
    // replied and was queued behind us, still inside its own call) runs first,
    // and the ring is looked at between turns, for the same budget: sleeping
    // here would make the domain's next call pay the doorbell and the pump.
    // (The clock is read only then: the way back to the ring is on the
    // critical path whenever the domain's next call is quicker than it.)
    if (!worker_free()) {
        auto const began = std::chrono::steady_clock::now();
        while (!worker_free() && !self->kill_requested() && !m_ring->peer_published()
            && std::chrono::steady_clock::now() - began < std::chrono::nanoseconds(ring::spin_ns)) {
            if (Worker::yield_current())
                break;
        }
    }
    if (m_ring->peer_published())
        return;
    if (worker_free() && m_ring->spin_for_peer(ring::spin_ns, worker_free))
        return;
    // 2. Sleep: tell the domain to ring from now on, look once more, then block
    //    until the pump sees the doorbell (or the death, or a kill).
    m_ring->set_sleeping(true);
    s_sleeps.fetch_add(1, std::memory_order_relaxed);
    if (!m_ring->peer_published()) {
        {
            std::lock_guard guard(m_lock);
            if (m_event || m_death || self->kill_requested()) {
                m_event = false;
                m_ring->set_sleeping(false);
                return;
            }
            m_waiter = self;
        }
        // A wake between registering and blocking is kept by the worker as pending.
        Worker::block_current();
        std::lock_guard guard(m_lock);
        m_waiter = nullptr;
        m_event = false;
    }
    m_ring->set_sleeping(false);
}

// The pump: one host thread per domain, waiting on its doorbell, its death and
// the stop switch, and turning each into a wake of the serving fiber.
void DomainProcess::pump()
{
    auto started = std::chrono::steady_clock::now();
    for (;;) {
        pollfd entries[3] = { { m_to_kernel, POLLIN, 0 }, { m_pidfd, POLLIN, 0 }, { m_stop, POLLIN, 0 } };
        int timeout = -1;
        bool sampling = false;
        {
            std::lock_guard guard(m_lock);
            sampling = m_on_cpu_sample && m_has_cpu_clock;
        }
        if (sampling) {
            uint64_t used = cpu_time_ns().value_or(0);
            std::lock_guard guard(m_lock);
            if (m_on_cpu_sample && m_on_cpu_sample(used)) {
                m_on_cpu_sample = nullptr;
                ::syscall(SYS_pidfd_send_signal, m_pidfd, SIGKILL, nullptr, 0);
            }
            timeout = 20;
        }
        bool hello_overdue = false;
        if (!m_hello.load(std::memory_order_acquire)) {
            auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
            int left = int(std::max<int64_t>(0, hello_timeout_ms - waited));
            hello_overdue = left == 0;
            timeout = timeout < 0 ? left : std::min(timeout, left);
        }
        int ready = ::poll(entries, 3, timeout);
        if (ready < 0 && errno == EINTR)
            continue;
        if (entries[2].revents) {
            // The stop switch, or limit_cpu asking the pump to look again.
            uint64_t count = 0;
            [[maybe_unused]] auto got = ::read(m_stop, &count, sizeof count);
            if (m_stopping.load(std::memory_order_acquire))
                return;
            continue;
        }
        if (ready == 0 && hello_overdue) {
            note_death("it did not say hello within " + std::to_string(hello_timeout_ms / 1000) + " s");
            ::syscall(SYS_pidfd_send_signal, m_pidfd, SIGKILL, nullptr, 0);
            m_hello.store(true, std::memory_order_release); // told once; its death follows
            continue;
        }
        if (ready == 0)
            continue; // time to sample the CPU clock, or to look at the hello deadline again
        if (entries[0].revents) {
            ring::Doorbell(m_to_kernel).drain();
            std::lock_guard guard(m_lock);
            m_event = true;
            if (m_waiter)
                Worker::wake(*m_waiter);
        }
        if (entries[1].revents) {
            // Reap it here: the status says how it died.
            int status = 0;
            pid_t reaped = ::waitpid(m_pid, &status, WNOHANG);
            {
                std::lock_guard guard(m_lock);
                if (reaped == m_pid)
                    m_reaped = true;
            }
            note_death(reaped == m_pid ? describe_status(status) : "it is gone");
            if (m_stopping.load(std::memory_order_acquire))
                return;
            // Nothing more will come from it; wait only for the stop switch.
            pollfd stop { m_stop, POLLIN, 0 };
            while (::poll(&stop, 1, -1) < 0 && errno == EINTR) { }
            return;
        }
    }
}

} // namespace signet
