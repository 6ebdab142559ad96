#include "installer/Process.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace signet::installer {

std::string ProcessResult::describe() const
{
    if (term_signal != 0)
        return std::string("killed by ") + strsignal(term_signal);
    return "exit status " + std::to_string(exit_status);
}

std::vector<std::string> split_words(std::string const& text)
{
    std::vector<std::string> words;
    std::string current;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\n') {
            if (!current.empty())
                words.push_back(std::move(current));
            current.clear();
        } else {
            current += c;
        }
    }
    if (!current.empty())
        words.push_back(std::move(current));
    return words;
}

ErrorOr<ProcessResult> run_process(std::vector<std::string> const& argv, size_t max_output)
{
    if (argv.empty())
        return Error::invalid("no program to run");

    // The output goes to an anonymous file, not a pipe: nothing to drain while
    // waiting, and no deadlock however much the compiler prints.
    int capture = ::memfd_create("signet-process-output", MFD_CLOEXEC);
    if (capture < 0)
        return Error::from_errno("cannot create an output file for " + argv[0], errno);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, capture, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, capture, STDERR_FILENO);

    // The child starts with default signal dispositions and an empty mask, whatever
    // the embedding process (the kernel, with its SIGSEGV and timer handlers) set.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t all_signals;
    sigfillset(&all_signals);
    sigset_t no_signals;
    sigemptyset(&no_signals);
    posix_spawnattr_setsigdefault(&attributes, &all_signals);
    posix_spawnattr_setsigmask(&attributes, &no_signals);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char*> arguments;
    for (auto const& argument : argv)
        arguments.push_back(const_cast<char*>(argument.c_str()));
    arguments.push_back(nullptr);

    pid_t child = 0;
    int spawn_error = ::posix_spawnp(&child, arguments[0], &actions, &attributes, arguments.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawn_error != 0) {
        ::close(capture);
        return Error::from_errno("cannot run '" + argv[0] + "'", spawn_error);
    }

    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            int err = errno;
            ::close(capture);
            return Error::from_errno("cannot wait for '" + argv[0] + "'", err);
        }
    }

    ProcessResult result;
    if (WIFSIGNALED(status))
        result.term_signal = WTERMSIG(status);
    else
        result.exit_status = WEXITSTATUS(status);

    struct stat info {};
    if (::fstat(capture, &info) == 0 && info.st_size > 0) {
        size_t size = static_cast<size_t>(info.st_size);
        result.output_truncated = size > max_output;
        result.output.resize(std::min(size, max_output));
        size_t done = 0;
        while (done < result.output.size()) {
            ssize_t n = ::pread(capture, result.output.data() + done, result.output.size() - done, static_cast<off_t>(done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += static_cast<size_t>(n);
        }
        result.output.resize(done);
    }
    ::close(capture);
    return result;
}

} // namespace signet::installer
