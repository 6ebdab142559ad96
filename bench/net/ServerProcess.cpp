#include "bench/net/ServerProcess.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace signet::bench {

ErrorOr<std::unique_ptr<ServerProcess>> ServerProcess::spawn(std::string const& path, std::vector<std::string> const& args)
{
    std::vector<char*> argv;
    for (auto const& arg : args)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    // [0]: stdin, [1]: stdout, [2]: stderr; each a pipe, our ends close on exec.
    int pipes[3][2];
    for (int i = 0; i < 3; ++i) {
        if (::pipe2(pipes[i], O_CLOEXEC) != 0) {
            int error = errno;
            for (int j = 0; j < i; ++j) {
                ::close(pipes[j][0]);
                ::close(pipes[j][1]);
            }
            return Error::from_errno("pipe", error);
        }
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipes[0][0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipes[1][1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipes[2][1], STDERR_FILENO);
    pid_t pid = -1;
    int error = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipes[0][0]);
    ::close(pipes[1][1]);
    ::close(pipes[2][1]);
    if (error != 0) {
        ::close(pipes[0][1]);
        ::close(pipes[1][0]);
        ::close(pipes[2][0]);
        return Error::from_errno("cannot start " + path, error);
    }
    auto process = std::unique_ptr<ServerProcess>(new ServerProcess);
    process->m_pid = pid;
    process->m_input = pipes[0][1];
    process->m_out_reader = std::thread([raw = process.get(), fd = pipes[1][0]] { raw->collect(Stream::Out, fd); });
    process->m_err_reader = std::thread([raw = process.get(), fd = pipes[2][0]] { raw->collect(Stream::Err, fd); });
    return process;
}

ServerProcess::~ServerProcess()
{
    if (!m_status)
        stop(0);
    close_input();
    // The streams end with the process (unless it left children holding them).
    if (m_out_reader.joinable())
        m_out_reader.join();
    if (m_err_reader.joinable())
        m_err_reader.join();
}

void ServerProcess::collect(Stream stream, int fd)
{
    char buffer[4096];
    for (;;) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        std::lock_guard guard(m_lock);
        if (got <= 0) {
            (stream == Stream::Out ? m_out_ended : m_err_ended) = true;
            m_changed.notify_all();
            break;
        }
        (stream == Stream::Out ? m_out : m_err).append(buffer, size_t(got));
        m_changed.notify_all();
    }
    ::close(fd);
}

ErrorOr<void> ServerProcess::write_input(std::string const& text)
{
    if (m_input < 0)
        return Error::io("the input of process " + std::to_string(m_pid) + " is closed");
    size_t written = 0;
    while (written < text.size()) {
        ssize_t n = ::write(m_input, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("cannot write to the input of process " + std::to_string(m_pid), errno);
        written += size_t(n);
    }
    return {};
}

void ServerProcess::close_input()
{
    if (m_input >= 0)
        ::close(m_input);
    m_input = -1;
}

std::optional<std::string> ServerProcess::wait_for(Stream stream, std::function<std::optional<std::string>(std::string const&)> const& find,
    uint64_t timeout_ms)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::unique_lock guard(m_lock);
    for (;;) {
        std::string const& text = stream == Stream::Out ? m_out : m_err;
        if (auto found = find(text))
            return found;
        if (stream == Stream::Out ? m_out_ended : m_err_ended)
            return std::nullopt;
        if (m_changed.wait_until(guard, deadline) == std::cv_status::timeout)
            return find(text);
    }
}

std::string ServerProcess::output(Stream stream) const
{
    std::lock_guard guard(m_lock);
    return stream == Stream::Out ? m_out : m_err;
}

std::optional<int> ServerProcess::wait_exit(uint64_t timeout_ms)
{
    if (m_status)
        return m_status;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        int status = 0;
        pid_t done = ::waitpid(m_pid, &status, WNOHANG);
        if (done == m_pid) {
            m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            return m_status;
        }
        if (done < 0 && errno != EINTR) {
            m_status = -1;
            return m_status;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

int ServerProcess::stop(uint64_t grace_ms)
{
    if (m_status)
        return *m_status;
    ::kill(m_pid, SIGTERM);
    if (auto status = wait_exit(grace_ms))
        return *status;
    ::kill(m_pid, SIGKILL);
    return wait_exit(60'000).value_or(-1);
}

uint64_t ServerProcess::cpu_time_ns() const
{
    // /proc/PID/stat: "pid (comm) state ..." with utime and stime the 14th and
    // 15th fields, in clock ticks; comm may hold spaces, so count after the ')'.
    std::ifstream file("/proc/" + std::to_string(m_pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    size_t close = text.rfind(')');
    if (close == std::string::npos)
        return 0;
    std::vector<std::string> fields;
    size_t at = close + 2;
    while (at < text.size() && fields.size() < 13) {
        size_t end = text.find(' ', at);
        if (end == std::string::npos)
            end = text.size();
        fields.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    if (fields.size() < 13)
        return 0;
    // fields[0] is the 3rd field (state): utime is fields[11], stime fields[12].
    uint64_t ticks = std::stoull(fields[11]) + std::stoull(fields[12]);
    long per_second = ::sysconf(_SC_CLK_TCK);
    return per_second > 0 ? ticks * (1'000'000'000ull / uint64_t(per_second)) : 0;
}

} // namespace signet::bench
