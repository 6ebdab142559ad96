// What the domain tests (DomainSipTests, DomainBlockTests, DomainSpeedTests,
// SealTests) share: a kernel whose domains are this build's signet-domain, images installed
// into the tests' store, requests with buffered streams, and the domain
// processes still alive, checks run in a forked child.
#pragma once

#include "kernel/Kernel.h"

#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace signet::test {

// A kernel with two workers whose reports go to `diagnostics`, with this build's
// signet-domain as the default domain host; null (and a test failure) if it cannot start.
std::unique_ptr<Kernel> create_domain_test_kernel(std::shared_ptr<OutputStream> diagnostics,
    std::chrono::microseconds quantum = KernelConfig {}.quantum);

// The store the domain tests install their guests into.
std::string domain_test_store();

// `wasm` installed into domain_test_store() and mapped by `kernel`; null (and a
// test failure) if either fails.
std::shared_ptr<Image> install_image(Kernel&, std::string const& wasm);

// A request to run `image` as `name` with `args` after it, as principal test/NAME,
// with no input and its output and errors in buffers of their own.
SpawnRequest buffered_request(std::shared_ptr<Image>, std::string const& name, std::vector<std::string> const& args);

// Domain processes this process started that are still alive (not zombies).
std::vector<pid_t> live_domains();

// Runs `body` in a forked child (for tests of a seal, which cannot be undone) and
// returns its wait status. The body returns the number of failed checks (at most
// 100 count); each failure is described on stderr.
int in_child(std::function<int()> const& body);

} // namespace signet::test
