#include "installer/TreeShaker.h"

#include <binaryen-c.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace signet::installer {

namespace {

// A child that has not finished by then is stuck; give up on shaking.
constexpr auto shake_timeout = std::chrono::minutes(5);
constexpr size_t max_log_bytes = 2048;

// Exactly the features Signet accepts (see WasmFeatures.h), so no pass may
// introduce anything else.
BinaryenFeatures signet_binaryen_features()
{
    return BinaryenFeatureMVP() | BinaryenFeatureMutableGlobals() | BinaryenFeatureNontrappingFPToInt()
        | BinaryenFeatureSignExt() | BinaryenFeatureMultivalue() | BinaryenFeatureBulkMemory()
        | BinaryenFeatureReferenceTypes();
}

bool write_all(int fd, void const* data, size_t size)
{
    auto const* bytes = static_cast<uint8_t const*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, bytes, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        bytes += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// Whether the module imports `module_name`.`base` as a function.
bool imports_function(BinaryenModuleRef wasm, char const* module_name, char const* base)
{
    BinaryenIndex count = BinaryenGetNumFunctions(wasm);
    for (BinaryenIndex i = 0; i < count; ++i) {
        BinaryenFunctionRef function = BinaryenGetFunctionByIndex(wasm, i);
        char const* imported_from = BinaryenFunctionImportGetModule(function);
        if (imported_from && std::strcmp(imported_from, module_name) == 0 && std::strcmp(BinaryenFunctionImportGetBase(function), base) == 0)
            return true;
    }
    return false;
}

// Runs in the child. Its exit status is the verdict: 0 means the whole shaken
// module was written to output_fd.
[[noreturn]] void shake_in_child(std::span<uint8_t const> module, std::vector<std::string> const& keep_exports, int output_fd)
{
    // The child inherited the parent's signal dispositions (the kernel's SIGSEGV
    // handler, timers' SIGALRM); binaryen must die plainly if it crashes.
    for (int signal_number = 1; signal_number < NSIG; ++signal_number)
        std::signal(signal_number, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    // binaryen's Fatal() calls exit(), which would run the parent's atexit handlers
    // and static destructors in this copy of it. Registered last, this runs first.
    std::atexit([] { ::_exit(4); });

    std::vector<char> input(module.begin(), module.end());
    BinaryenModuleRef wasm = BinaryenModuleRead(input.data(), input.size());
    BinaryenModuleSetFeatures(wasm, signet_binaryen_features());

    if (!keep_exports.empty()) {
        std::vector<std::string> doomed;
        BinaryenIndex count = BinaryenGetNumExports(wasm);
        for (BinaryenIndex i = 0; i < count; ++i) {
            std::string name = BinaryenExportGetName(BinaryenGetExportByIndex(wasm, i));
            if (name == "_start" || name == "memory")
                continue;
            if (std::find(keep_exports.begin(), keep_exports.end(), name) == keep_exports.end())
                doomed.push_back(name);
        }
        for (auto const& name : doomed)
            BinaryenRemoveExport(wasm, name.c_str());
    }

    // thread_create starts a thread at a function the module names by its index
    // in table 0: the kernel calls through the table, whether or not the module
    // ever does itself. A module that does not would lose the table (and every
    // function only it holds) to the pass; an export for the pass's length keeps them.
    char const* const keep_table = "signet:table-for-thread_create";
    bool table_kept = BinaryenGetNumTables(wasm) > 0 && imports_function(wasm, "signet_v1", "thread_create")
        && !BinaryenGetExport(wasm, keep_table);
    if (table_kept)
        BinaryenAddTableExport(wasm, BinaryenTableGetName(BinaryenGetTableByIndex(wasm, 0)), keep_table);

    // dce and vacuum first: code they delete may hold the last call to a function.
    char const* passes[] = { "dce", "vacuum", "remove-unused-module-elements" };
    BinaryenModuleRunPasses(wasm, passes, sizeof passes / sizeof passes[0]);
    if (table_kept)
        BinaryenRemoveExport(wasm, keep_table);

    auto output = BinaryenModuleAllocateAndWrite(wasm, nullptr);
    bool ok = output.binary && write_all(output_fd, output.binary, output.binaryBytes);
    ::_exit(ok ? 0 : 3);
}

std::string read_log(int fd)
{
    std::string log;
    if (::lseek(fd, 0, SEEK_SET) < 0)
        return log;
    char buffer[max_log_bytes];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0)
        log.assign(buffer, static_cast<size_t>(n));
    for (auto& c : log) {
        if (c == '\n' || c == '\r')
            c = ' ';
    }
    while (!log.empty() && log.back() == ' ')
        log.pop_back();
    return log;
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd = -1)
        : m_fd(fd)
    {
    }
    FileDescriptor(FileDescriptor const&) = delete;
    FileDescriptor& operator=(FileDescriptor const&) = delete;
    ~FileDescriptor() { reset(); }
    int get() const { return m_fd; }
    void reset()
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = -1;
    }

private:
    int m_fd;
};

} // namespace

ErrorOr<std::vector<uint8_t>> tree_shake(std::span<uint8_t const> module, std::vector<std::string> const& keep_exports)
{
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
        return Error::from_errno("cannot create a pipe for binaryen", errno);
    FileDescriptor read_end(pipe_fds[0]);
    FileDescriptor write_end(pipe_fds[1]);
    FileDescriptor log(::memfd_create("signet-binaryen-log", MFD_CLOEXEC));
    if (log.get() < 0)
        return Error::from_errno("cannot create a log file for binaryen", errno);

    // Buffered output would otherwise be written twice, once by the child.
    std::fflush(nullptr);
    pid_t child = ::fork();
    if (child < 0)
        return Error::from_errno("cannot fork for binaryen", errno);
    if (child == 0) {
        ::dup2(log.get(), STDOUT_FILENO);
        ::dup2(log.get(), STDERR_FILENO);
        shake_in_child(module, keep_exports, write_end.get());
    }
    write_end.reset();

    std::vector<uint8_t> output;
    auto deadline = std::chrono::steady_clock::now() + shake_timeout;
    bool timed_out = false;
    bool read_failed = false;
    for (;;) {
        auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (remaining.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd poll_fd { read_end.get(), POLLIN, 0 };
        int ready = ::poll(&poll_fd, 1, static_cast<int>(std::min<long long>(remaining.count(), 1000)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            read_failed = true;
            break;
        }
        if (ready == 0)
            continue;
        uint8_t buffer[65536];
        ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            read_failed = true;
            break;
        }
        if (n == 0)
            break;
        output.insert(output.end(), buffer, buffer + n);
    }
    if (timed_out || read_failed)
        ::kill(child, SIGKILL);

    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR)
            return Error::from_errno("cannot wait for binaryen", errno);
    }
    if (timed_out)
        return Error(ErrorKind::Toolchain, "binaryen did not finish within 5 minutes");
    if (read_failed)
        return Error(ErrorKind::Toolchain, "cannot read binaryen's output");
    if (WIFSIGNALED(status)) {
        std::string log_text = read_log(log.get());
        return Error(ErrorKind::Toolchain, std::string("binaryen crashed (") + strsignal(WTERMSIG(status)) + ")" + (log_text.empty() ? "" : ": " + log_text));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || output.empty()) {
        std::string log_text = read_log(log.get());
        return Error(ErrorKind::Toolchain, "binaryen failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")" + (log_text.empty() ? "" : ": " + log_text));
    }
    return output;
}

} // namespace signet::installer
