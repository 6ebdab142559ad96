// The load generator of the file-serving benchmark (bench/net): C keep-alive
// connections to an HTTP server on 127.0.0.1, each asking for the same file
// again and again (one request at a time, no pipelining) and reading each
// response to its end, for a warm-up and then a measured window. One thread and
// epoll: the generator costs little next to the server it loads.
//
// Every response is checked: status 200, a Content-Length equal to the file's
// size, a body equal to the file (FilePattern.h), the connection kept open. The
// first response that is not so ends the run with an Error that says which
// connection, which response and what was wrong.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <string>
#include <vector>

namespace signet::bench {

struct LoadSpec {
    uint16_t port { 0 };
    std::string path;          // "/file-16384.bin"
    uint64_t file_size { 0 };  // what every response's body must hold
    unsigned connections { 1 };
    uint64_t warmup_ns { 0 };  // responses in the warm-up are checked, not counted
    uint64_t duration_ns { 0 };
    // A server silent this long while requests wait fails the run.
    uint64_t stall_ns { 10'000'000'000ull };
};

struct LoadResult {
    uint64_t requests { 0 };   // answered within the measured window
    uint64_t responses { 0 };  // every response, the warm-up's and the last ones' after the window too
    uint64_t body_bytes { 0 }; // their bodies
    double seconds { 0 };      // the measured window
    // Per request answered in the window: from the request's send to its response's last byte.
    std::vector<double> latency_ns;
    // Per connection: the responses it got in the window. A server that serves
    // some connections again and again while others wait shows here.
    std::vector<uint64_t> per_connection;

    double requests_per_second() const { return seconds > 0 ? double(requests) / seconds : 0; }
    // Bodies only, in 10^6 bytes per second.
    double megabytes_per_second() const { return seconds > 0 ? double(body_bytes) / seconds / 1e6 : 0; }
};

ErrorOr<LoadResult> run_load(LoadSpec const&);

} // namespace signet::bench
