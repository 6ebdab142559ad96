// SpinLock: the kernel's lock for critical sections that never block (the
// handle table, a channel, the kernel's side of a domain's ring).
#pragma once

#include <atomic>
#include <sched.h>

namespace signet {

// A lock for critical sections of a few instructions that never block: taking
// it is one atomic exchange where a std::mutex is a library call each way. The
// handle table's are that short, and a SIP's calls run on one worker, so it is
// almost never contended. A holder that Linux took off its CPU is waited for
// with sched_yield after a while, not spun on for a whole time slice.
class SpinLock {
public:
    void lock()
    {
        while (m_locked.exchange(true, std::memory_order_acquire)) {
            for (unsigned spins = 0; m_locked.load(std::memory_order_relaxed); ++spins) {
                if (spins < 256)
                    __builtin_ia32_pause();
                else
                    sched_yield();
            }
        }
    }
    void unlock() { m_locked.store(false, std::memory_order_release); }

private:
    std::atomic<bool> m_locked { false };
};

} // namespace signet
