// A server under test as a Linux child process: started with its standard input,
// output and error on pipes, its output collected by two threads (so that a
// server that writes a lot never blocks on a full pipe), and ended on demand.
// The file-serving benchmark runs the Linux HTTP server and `signet boot` so.
#pragma once

#include "base/ErrorOr.h"

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace signet::bench {

class ServerProcess {
public:
    enum class Stream { Out, Err };

    // posix_spawn()s `path` with `args` (args[0] is the program name). Affinity
    // is inherited from the calling thread.
    static ErrorOr<std::unique_ptr<ServerProcess>> spawn(std::string const& path, std::vector<std::string> const& args);
    ~ServerProcess(); // kills the process if it still runs

    pid_t pid() const { return m_pid; }

    ErrorOr<void> write_input(std::string const& text);
    void close_input();

    // Waits until `find` (called with everything the stream has carried so far)
    // returns a value, the stream ends, or `timeout_ms` passes.
    std::optional<std::string> wait_for(Stream, std::function<std::optional<std::string>(std::string const&)> const& find, uint64_t timeout_ms);
    // Everything the stream has carried so far.
    std::string output(Stream) const;

    // Waits up to `timeout_ms` for the process to end: its exit status (or 128 +
    // signal), or nothing if it still runs.
    std::optional<int> wait_exit(uint64_t timeout_ms);
    // Ends it: SIGTERM, then SIGKILL if it has not ended within `grace_ms`. Returns its status.
    int stop(uint64_t grace_ms);

    // CPU time (user + system, all threads) it has used so far, in ns; 0 if unknown.
    uint64_t cpu_time_ns() const;

private:
    ServerProcess() = default;
    void collect(Stream, int fd);

    pid_t m_pid { -1 };
    std::optional<int> m_status;
    int m_input { -1 };
    mutable std::mutex m_lock;
    std::condition_variable m_changed;
    std::string m_out, m_err;
    bool m_out_ended { false }, m_err_ended { false };
    std::thread m_out_reader, m_err_reader;
};

} // namespace signet::bench
