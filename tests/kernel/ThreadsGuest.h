// What guests/threads.c prints when every check in it holds. The kernel tests run
// it in the kernel (ThreadTests) and the domain tests in each placement
// (tests/domains): one expectation, so the guest and what it must print change
// in one place.
#pragma once

namespace signet::testing {

inline constexpr char const* threads_guest_output =
    // Eight workers, 200 increments each under one mutex held across a yield,
    // each joined with the status it exited with.
    "counter 1600 (expected 1600), join statuses ok\n"
    // A thread blocked in a kernel call (futex_wait) while its siblings go on.
    "consumed 5050 of 5050 while the sleeper was still asleep\n"
    // Errors are statuses: INVALID_ARGUMENT for a bad entry and a stack outside
    // memory, BAD_HANDLE for joining no thread.
    "bad entry: 1, bad stack: 1, join bad handle: 3\n"
    // WOULD_BLOCK when the value changed, INVALID_ARGUMENT when unaligned; a
    // wake with no waiter wakes nobody.
    "futex: wait on changed value 7, unaligned 1, wake nobody 0 (0)\n"
    // TIMED_OUT.
    "futex wait times out: 8\n"
    // The thread's CPU-time clock answers (OK) while the SIP has one thread and
    // is UNSUPPORTED once it has had more; the SIP's clock answers and never goes back.
    "cpu clocks: thread 0 alone, 11 after siblings; SIP 0, not back 1\n";

} // namespace signet::testing
