// Seccomp and Landlock policies for domain and kernel processes (Seal.h).
#include "runtime/seal/Seal.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <filesystem>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// Landlock's later ABIs, for building against older kernel headers. The values
// are the kernel's; which of them the running kernel knows is asked at run time.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#    define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#    define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#    define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#    define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#    define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#    define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

namespace signet::seal {

namespace {

// struct landlock_ruleset_attr as of ABI 6; the size passed tells the kernel
// which fields we use, so an older kernel is never handed fields it lacks.
struct RulesetAttr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

int landlock_create_ruleset(RulesetAttr const* attr, size_t size, uint32_t flags)
{
    return int(::syscall(__NR_landlock_create_ruleset, attr, size, flags));
}

int landlock_add_rule(int ruleset, landlock_rule_type type, void const* attr)
{
    return int(::syscall(__NR_landlock_add_rule, ruleset, type, attr, 0));
}

int landlock_restrict_self(int ruleset)
{
    return int(::syscall(__NR_landlock_restrict_self, ruleset, 0));
}

// Every file-system right the given ABI version can restrict.
uint64_t fs_rights_of(int abi)
{
    uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; // ABI 1: execute .. make_sym
    if (abi >= 2)
        rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return rights;
}

uint64_t grant_rights(PathGrant::Access access, bool is_directory, int abi)
{
    uint64_t constexpr read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
    uint64_t rights = 0;
    switch (access) {
    case PathGrant::Access::Read:
        rights = read;
        break;
    case PathGrant::Access::ReadExecute:
        rights = read | LANDLOCK_ACCESS_FS_EXECUTE;
        break;
    case PathGrant::Access::ReadWrite:
        rights = read | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE
            | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE;
        break;
    case PathGrant::Access::File:
        rights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
        break;
    }
    // A rule on a file may carry only the rights that apply to files.
    if (!is_directory)
        rights &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
    return rights & fs_rights_of(abi);
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd)
        : m_fd(fd)
    {
    }
    ~FileDescriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileDescriptor(FileDescriptor const&) = delete;
    FileDescriptor& operator=(FileDescriptor const&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

// A seccomp filter under construction; released on every path.
class Filter {
public:
    explicit Filter(uint32_t default_action)
        : m_context(::seccomp_init(default_action))
    {
    }
    ~Filter()
    {
        if (m_context)
            ::seccomp_release(m_context);
    }
    Filter(Filter const&) = delete;
    Filter& operator=(Filter const&) = delete;

    bool ok() const { return m_context != nullptr; }

    // Dispatch on the syscall number by a binary search instead of a chain of
    // comparisons. The same verdicts; the domain's program grows from 123 to 144
    // instructions, yet Linux loads it in well under half the time (landlock and
    // seccomp together went from ~140 to ~60 us per domain start; probably the
    // kernel walking the program once per syscall number for its action cache,
    // to the chain's end for most numbers, to the tree's depth now). A domain loads
    // it at every start (docs/protection-domains.md, "What a domain costs").
    // An older libseccomp without the attribute keeps the chain.
    void prefer_binary_tree()
    {
        if (m_context)
            (void)::seccomp_attr_set(m_context, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    }
    scmp_filter_ctx context() const { return m_context; }

    // Adds a rule; the first failure is kept and reported by load().
    template<typename... Conditions>
    void rule(uint32_t action, int syscall, Conditions... conditions)
    {
        // A negative number: the syscall does not exist on this architecture.
        if (m_error || syscall < 0)
            return;
        int result = ::seccomp_rule_add(m_context, action, syscall, sizeof...(Conditions), conditions...);
        if (result < 0) {
            m_error = -result;
            m_failed_syscall = syscall;
        }
    }

    // The first failure of rule(), if any.
    ErrorOr<void> check() const
    {
        if (m_error) {
            char* name = ::seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, m_failed_syscall);
            std::string what = "seccomp rule for " + std::string(name ? name : "?");
            std::free(name);
            return Error::from_errno(what, m_error);
        }
        return {};
    }

    ErrorOr<void> load()
    {
        if (m_error) {
            char* name = ::seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, m_failed_syscall);
            std::string what = "seccomp rule for " + std::string(name ? name : "?");
            std::free(name);
            return Error::from_errno(what, m_error);
        }
        // Every thread of the process, not only the caller.
        if (int result = ::seccomp_attr_set(m_context, SCMP_FLTATR_CTL_TSYNC, 1); result < 0)
            return Error::from_errno("seccomp: synchronising threads", -result);
        if (int result = ::seccomp_load(m_context); result < 0)
            return Error::from_errno("seccomp: loading the filter", -result);
        return {};
    }

private:
    scmp_filter_ctx m_context;
    int m_error { 0 };
    int m_failed_syscall { 0 };
};

uint32_t const refuse = SCMP_ACT_ERRNO(EPERM);

// What neither kind of sealed process may ever do, refused with EPERM.
void refuse_in_both(Filter& filter)
{
    // Another process's memory, and kernel interfaces that bypass seccomp or
    // map memory behind its back.
    for (int syscall : { SCMP_SYS(ptrace), SCMP_SYS(process_vm_writev), SCMP_SYS(process_vm_readv), SCMP_SYS(io_uring_setup),
             SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register), SCMP_SYS(userfaultfd), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
             SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
             SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns),
             SCMP_SYS(memfd_secret), SCMP_SYS(shmget), SCMP_SYS(shmat), SCMP_SYS(remap_file_pages), SCMP_SYS(modify_ldt),
             // READ_IMPLIES_EXEC would make every readable mapping executable.
             SCMP_SYS(personality) })
        filter.rule(refuse, syscall);
    // No new executable memory by changing an existing mapping.
    filter.rule(refuse, SCMP_SYS(mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    filter.rule(refuse, SCMP_SYS(pkey_mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
}

// The ELF interpreter (PT_INTERP) an executable asks for, or "" if it names none.
std::string elf_interpreter(std::string const& path)
{
    FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0)
        return {};
    Elf64_Ehdr header {};
    if (::pread(file.get(), &header, sizeof header, 0) != ssize_t(sizeof header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0
        || header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr))
        return {};
    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr program {};
        if (::pread(file.get(), &program, sizeof program, off_t(header.e_phoff + i * sizeof program)) != ssize_t(sizeof program))
            return {};
        if (program.p_type != PT_INTERP)
            continue;
        if (program.p_filesz == 0 || program.p_filesz > 4096)
            return {};
        std::string interpreter(program.p_filesz, '\0');
        if (::pread(file.get(), interpreter.data(), interpreter.size(), off_t(program.p_offset)) != ssize_t(interpreter.size()))
            return {};
        interpreter.resize(std::strlen(interpreter.c_str()));
        return interpreter;
    }
    return {};
}

// `path` with symbolic links resolved, as Landlock sees it; as given if it does not exist.
std::string resolved(std::string const& path)
{
    std::error_code error;
    auto canonical = std::filesystem::canonical(path, error);
    return error ? path : canonical.string();
}

// Whether one of the two paths is the other or lies beneath it.
bool overlap(std::string const& a, std::string const& b)
{
    auto beneath = [](std::string const& inner, std::string const& outer) {
        if (outer == "/")
            return true;
        return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
    };
    return a == b || beneath(a, b) || beneath(b, a);
}

} // namespace

std::vector<PathGrant> system_image_grants(std::string const& domain_host)
{
    std::vector<PathGrant> grants;
    auto add = [&](std::string const& path, PathGrant::Access access) {
        if (::access(path.c_str(), F_OK) == 0)
            grants.push_back({ path, access });
    };
    add(domain_host, PathGrant::Access::ReadExecute);
    if (auto interpreter = elf_interpreter(domain_host); !interpreter.empty())
        add(interpreter, PathGrant::Access::ReadExecute);
    for (char const* directory : { "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib" }) {
        // /lib is often a link to /usr/lib: one rule for the directory it names.
        std::string real = resolved(directory);
        bool known = std::any_of(grants.begin(), grants.end(), [&](PathGrant const& grant) { return resolved(grant.path) == real; });
        if (!known)
            add(directory, PathGrant::Access::Read);
    }
    add("/etc/ld.so.cache", PathGrant::Access::Read);
    add("/dev/null", PathGrant::Access::File);
    return grants;
}

ErrorOr<void> check_grants(std::vector<PathGrant> const& system, std::vector<PathGrant> const& writable)
{
    for (auto const& grant : writable) {
        std::string path = resolved(grant.path);
        for (auto const& part : system) {
            if (overlap(path, resolved(part.path)))
                return Error::invalid("'" + grant.path + "' overlaps '" + part.path + "' of the system image: the sealed kernel may not write where it loads or executes code");
        }
    }
    return {};
}

unsigned thread_count()
{
    DIR* tasks = ::opendir("/proc/self/task");
    if (!tasks)
        return 0;
    unsigned count = 0;
    while (dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] != '.')
            ++count;
    }
    ::closedir(tasks);
    return count;
}

int landlock_abi_version()
{
    int abi = landlock_create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : abi;
}

ErrorOr<SealReport> restrict_with_landlock(std::vector<PathGrant> const& grants)
{
    SealReport report;
    report.landlock_abi = landlock_abi_version();
    if (report.landlock_abi == 0) {
        report.notes.push_back(std::string("Landlock is not available in this Linux kernel (") + std::strerror(errno)
            + "): file and network access are not restricted; seccomp still is");
        return report;
    }
    int const abi = report.landlock_abi;
    RulesetAttr attr {};
    attr.handled_access_fs = fs_rights_of(abi);
    size_t size = sizeof(uint64_t);
    if (abi >= 4) {
        attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
        size = 2 * sizeof(uint64_t);
    } else {
        report.notes.push_back("Landlock ABI " + std::to_string(abi) + " cannot restrict TCP (needs ABI 4, Linux 6.7); sockets stay refused by seccomp only in domains");
    }
    if (abi >= 6) {
        attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
        size = 3 * sizeof(uint64_t);
    }
    FileDescriptor ruleset(landlock_create_ruleset(&attr, size, 0));
    if (ruleset.get() < 0)
        return Error::from_errno("landlock: creating the ruleset", errno);

    for (auto const& grant : grants) {
        FileDescriptor path(::open(grant.path.c_str(), O_PATH | O_CLOEXEC));
        if (path.get() < 0) {
            // A grant for a path that does not exist gives nothing; say so rather than fail.
            report.notes.push_back("landlock: '" + grant.path + "' does not exist; nothing granted there");
            continue;
        }
        struct stat status {};
        if (::fstat(path.get(), &status) < 0)
            return Error::from_errno("landlock: " + grant.path, errno);
        landlock_path_beneath_attr rule {};
        rule.allowed_access = grant_rights(grant.access, S_ISDIR(status.st_mode), abi);
        rule.parent_fd = path.get();
        if (rule.allowed_access == 0)
            continue;
        if (landlock_add_rule(ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &rule) < 0)
            return Error::from_errno("landlock: granting '" + grant.path + "'", errno);
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return Error::from_errno("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    if (landlock_restrict_self(ruleset.get()) < 0)
        return Error::from_errno("landlock: restricting the process", errno);
    report.filesystem_restricted = true;
    report.network_restricted = abi >= 4;
    report.signals_scoped = abi >= 6;
    return report;
}

namespace {

// The domain filter comes whole (seal_domain in a process that never sealed
// ahead) or in two stages (a zygote's spare): the *ahead* stage, loaded while
// the spare waits for a request, is the whole filter plus what the spare still
// does before it is a domain (the `spare_extras`, opening and mapping its images);
// the *final* stage, loaded by seal_domain, takes exactly those back. Seccomp
// runs every filter a process loaded and keeps the strictest verdict, so the two
// stages together refuse and kill exactly what the whole filter does
// (tests/domains/SealTests.cpp checks it call by call). Linux prices a filter's
// load by its length and by the calls earlier filters still allow; the final
// stage is short and loaded over an allow-list, which makes it cheap.
enum class Stage : uint8_t { Whole, Ahead };

// What a spare does between the ahead stage and seal_domain, and no domain does
// afterwards: take its request and answer it (recvmsg, sendto), name itself and
// set its parent-death signal (prctl), move the descriptors it received (fcntl),
// look at its parent, read its images (pread64; openat and executable mappings
// of files are granted apart, below), arm its preemption timer (PreemptTimer),
// close what it inherited, and seal (Landlock, seccomp). None of these is on
// the whole filter's allow-list, so the final stage kills them, as the whole
// filter does.
constexpr int spare_extras[] = { SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(prctl), SCMP_SYS(fcntl), SCMP_SYS(getppid), SCMP_SYS(pread64),
    SCMP_SYS(timer_create), SCMP_SYS(timer_settime), SCMP_SYS(close_range), SCMP_SYS(landlock_create_ruleset), SCMP_SYS(landlock_add_rule), SCMP_SYS(landlock_restrict_self), SCMP_SYS(seccomp) };

// The domain's allow-list, for the process `self`; with Stage::Ahead, also what
// a spare needs until seal_domain (see above).
void add_domain_rules(Filter& filter, uint32_t self, Stage stage = Stage::Whole)
{
    bool const ahead = stage == Stage::Ahead;
    // Anything not listed ends the process: a domain that asks for something
    // its runtime never does is no longer running the code it was started with.
    refuse_in_both(filter);

    // Refused with EPERM rather than killing, so that a test (and an honest
    // runtime path that tries one by mistake) sees a plain error. A spare opens
    // its images (openat; Landlock still confines it to the store).
    for (int syscall : { SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
             SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(memfd_create),
             SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(kill) })
        filter.rule(ahead && syscall == SCMP_SYS(openat) ? SCMP_ACT_ALLOW : refuse, syscall);
    if (ahead) {
        for (int syscall : spare_extras)
            filter.rule(SCMP_ACT_ALLOW, syscall);
    }
    // clone3 passes its flags in memory, where seccomp cannot read them: ENOSYS
    // makes the C library fall back to clone, whose flags it can.
    filter.rule(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
    // Threads of this process only: no new processes.
    filter.rule(SCMP_ACT_ALLOW, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    filter.rule(refuse, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));

    // fstat of a held descriptor (the C library's newfstatat with AT_EMPTY_PATH);
    // never a path, which would tell the domain what exists on the host.
    filter.rule(SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
    filter.rule(refuse, SCMP_SYS(newfstatat), SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, 0));

    // Memory: any mapping that is not executable. Ahead, also the loader's
    // mappings of the images: of files, private and not writable.
    filter.rule(SCMP_ACT_ALLOW, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    if (ahead) {
        filter.rule(SCMP_ACT_ALLOW, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC),
            SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS | MAP_SHARED, 0));
        filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE));
        filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS));
        filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED, MAP_SHARED));
    } else {
        filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    }
    filter.rule(SCMP_ACT_ALLOW, SCMP_SYS(mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    for (int syscall : { SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk) })
        filter.rule(SCMP_ACT_ALLOW, syscall);

    // Signals to itself only (abort, preemption), its own handlers and stacks.
    filter.rule(SCMP_ACT_ALLOW, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, uint64_t(self)));
    for (int syscall : { SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
             // The descriptors it already holds: the ring's memory and wake-up events.
             SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(ppoll), SCMP_SYS(poll),
             SCMP_SYS(fstat), SCMP_SYS(lseek), SCMP_SYS(dup2), SCMP_SYS(dup3),
             // Waiting, time, identity, randomness, and the end.
             SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(clock_gettime),
             SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getrandom),
             SCMP_SYS(restart_syscall), SCMP_SYS(exit), SCMP_SYS(exit_group),
             // What the C library does when it starts a thread.
             SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_getaffinity) })
        filter.rule(SCMP_ACT_ALLOW, syscall);
}

// The final stage: everything the ahead stage granted beyond the whole filter,
// taken back with the whole filter's verdicts; the rest left to earlier filters.
void add_final_stage_rules(Filter& filter)
{
    for (int syscall : spare_extras)
        filter.rule(SCMP_ACT_KILL_PROCESS, syscall);
    filter.rule(refuse, SCMP_SYS(openat));
    filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
}

// The domain filters compiled ahead (prepare_domain_filter): whole, and in its
// two stages. This value stands in place of the pid in the one rule that names
// it (none in the final stage); empty until prepared.
constexpr uint32_t placeholder_pid = 0x5a5a5a5a;
std::vector<sock_filter> s_prepared_whole;
std::vector<sock_filter> s_prepared_ahead;
std::vector<sock_filter> s_prepared_final;
// Whether this process loaded the ahead stage, so that seal_domain loads the final one.
bool s_sealed_ahead = false;

bool is_placeholder(sock_filter const& instruction)
{
    return instruction.code == (BPF_JMP | BPF_JEQ | BPF_K) && instruction.k == placeholder_pid;
}

// The program libseccomp compiles for `filter`, with `placeholders` pid comparisons in it.
ErrorOr<std::vector<sock_filter>> export_program(Filter& filter, char const* what, long placeholders)
{
    TRY(filter.check());
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
        return Error::from_errno("seccomp: a pipe to export the filter", errno);
    int exported = ::seccomp_export_bpf(filter.context(), ends[1]);
    ::close(ends[1]);
    std::vector<uint8_t> bytes;
    uint8_t chunk[4096];
    for (ssize_t got; (got = ::read(ends[0], chunk, sizeof chunk)) > 0;)
        bytes.insert(bytes.end(), chunk, chunk + got);
    ::close(ends[0]);
    if (exported < 0 || bytes.empty() || bytes.size() % sizeof(sock_filter) != 0)
        return Error::from_errno(std::string("seccomp: exporting the ") + what, exported < 0 ? -exported : EIO);
    std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
    std::memcpy(program.data(), bytes.data(), bytes.size());
    // The placeholder must be the pid's comparison and nothing else.
    if (std::count_if(program.begin(), program.end(), is_placeholder) != placeholders)
        return Error::invalid(std::string("seccomp: the compiled ") + what + " does not compare the pid exactly as often as it names it; it is compiled in each domain instead");
    return program;
}

// Loads a program compiled ahead, with this process's pid in place of the placeholder.
ErrorOr<void> load_program(std::vector<sock_filter> program, char const* what)
{
    uint32_t const self = uint32_t(::getpid());
    for (auto& instruction : program) {
        if (is_placeholder(instruction))
            instruction.k = self;
    }
    sock_fprog loadable { uint16_t(program.size()), program.data() };
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return Error::from_errno("prctl(PR_SET_NO_NEW_PRIVS)", errno);
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &loadable) != 0)
        return Error::from_errno(std::string("seccomp: loading the ") + what, errno);
    return {};
}

} // namespace

ErrorOr<void> prepare_domain_filter()
{
    Filter whole(SCMP_ACT_KILL_PROCESS);
    Filter ahead(SCMP_ACT_KILL_PROCESS);
    Filter final_stage(SCMP_ACT_ALLOW);
    if (!whole.ok() || !ahead.ok() || !final_stage.ok())
        return Error::io("seccomp: cannot create a filter");
    whole.prefer_binary_tree();
    ahead.prefer_binary_tree();
    add_domain_rules(whole, placeholder_pid);
    add_domain_rules(ahead, placeholder_pid, Stage::Ahead);
    add_final_stage_rules(final_stage);
    auto whole_program = TRY(export_program(whole, "domain filter", 1));
    auto ahead_program = TRY(export_program(ahead, "domain filter's ahead stage", 1));
    auto final_program = TRY(export_program(final_stage, "domain filter's final stage", 0));
    s_prepared_whole = std::move(whole_program);
    s_prepared_ahead = std::move(ahead_program);
    s_prepared_final = std::move(final_program);
    return {};
}

ErrorOr<void> seal_domain_ahead()
{
    if (s_sealed_ahead)
        return Error::invalid("seccomp: this process loaded the domain filter's ahead stage already");
    if (s_prepared_ahead.empty())
        return Error::invalid("seccomp: the domain filter was not prepared in this process (prepare_domain_filter)");
    TRY(load_program(s_prepared_ahead, "domain filter's ahead stage"));
    s_sealed_ahead = true;
    return {};
}

ErrorOr<SealReport> seal_domain()
{
    SealReport report = TRY(restrict_with_landlock({}));
    if (s_sealed_ahead) {
        // The ahead stage holds already: only what the spare needed is left to take back.
        TRY(load_program(s_prepared_final, "domain filter's final stage"));
        return report;
    }
    if (!s_prepared_whole.empty()) {
        // Compiled ahead: only the pid to put in, and the load.
        TRY(load_program(s_prepared_whole, "domain filter"));
        return report;
    }
    uint32_t const self = uint32_t(::getpid());
    Filter filter(SCMP_ACT_KILL_PROCESS);
    if (!filter.ok())
        return Error::io("seccomp: cannot create a filter");
    filter.prefer_binary_tree();
    add_domain_rules(filter, self);
    TRY(filter.load());
    return report;
}

// Executable mappings only of files, private and read-only: the loader mapping
// a sealed image or its libraries. Never anonymous, never shared, never writable.
static void refuse_code_mappings_but_private_files(Filter& filter)
{
    filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS, MAP_ANONYMOUS));
    filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE));
    filter.rule(refuse, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_SHARED, MAP_SHARED));
}

ErrorOr<SealReport> seal_kernel(KernelSealOptions const& options)
{
    SealReport report;
    if (options.files == KernelSealOptions::Files::Restrict) {
        // Landlock would not reach threads that run already: sealing them only
        // partly would be weaker than the report says.
        if (unsigned threads = thread_count(); threads > 1)
            return Error::invalid("cannot restrict the kernel's files: the process already runs " + std::to_string(threads)
                + " threads, which Landlock would not reach (seal before starting them)");
        report = TRY(restrict_with_landlock(options.paths));
    }
    else
        report.notes.push_back("files and network not restricted: the process sealed after starting its threads, which Landlock cannot reach");

    // The kernel is the trusted base: its filter takes away what it never needs
    // and what would let new code into it, and leaves the rest.
    Filter filter(SCMP_ACT_ALLOW);
    if (!filter.ok())
        return Error::io("seccomp: cannot create a filter");
    refuse_in_both(filter);
    refuse_code_mappings_but_private_files(filter);
    TRY(filter.load());
    return report;
}

ErrorOr<void> seal_kernel_against_new_code()
{
    Filter filter(SCMP_ACT_ALLOW);
    if (!filter.ok())
        return Error::io("seccomp: cannot create a filter");
    for (int syscall : { SCMP_SYS(execve), SCMP_SYS(execveat) })
        filter.rule(refuse, syscall);
    // Code in any mapping at all: seal_kernel's filter still lets the loader map
    // a file privately and read-only, which nothing in a running kernel does.
    for (int syscall : { SCMP_SYS(mmap), SCMP_SYS(mprotect), SCMP_SYS(pkey_mprotect) })
        filter.rule(refuse, syscall, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
    TRY(filter.load());
    return {};
}

ErrorOr<SealReport> seal_zygote(std::vector<std::string> const& read_paths)
{
    std::vector<PathGrant> grants;
    for (auto const& path : read_paths)
        grants.push_back({ path, PathGrant::Access::Read });
    grants.push_back({ "/dev/null", PathGrant::Access::File });
    SealReport report = TRY(restrict_with_landlock(grants));

    // A deny-list, like the kernel's: a forked domain runs the loader and the
    // sealing code before seal_domain's allow-list takes over.
    Filter filter(SCMP_ACT_ALLOW);
    if (!filter.ok())
        return Error::io("seccomp: cannot create a filter");
    refuse_in_both(filter);
    refuse_code_mappings_but_private_files(filter);
    for (int syscall : { SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind),
             SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(memfd_create), SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(kill),
             SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_send_signal), SCMP_SYS(pidfd_getfd) })
        filter.rule(refuse, syscall);
    filter.rule(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
    // A new process only as the kernel's child (CLONE_PARENT); threads (a domain's own).
    filter.rule(refuse, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_PARENT | CLONE_THREAD, 0));
    TRY(filter.load());
    return report;
}

} // namespace signet::seal
