#include "kernel/sched/Stack.h"

#include <atomic>
#include <cerrno>
#include <mutex>
#include <sys/mman.h>
#include <vector>

namespace signet {

namespace {

std::mutex s_pool_lock;
std::vector<Stack> s_pool;
std::atomic<uint64_t> s_live { 0 };

} // namespace

ErrorOr<Stack> Stack::allocate(size_t usable_bytes)
{
    {
        std::lock_guard guard(s_pool_lock);
        for (size_t i = s_pool.size(); i-- > 0;) {
            if (s_pool[i].usable == usable_bytes) {
                Stack stack = s_pool[i];
                s_pool[i] = s_pool.back();
                s_pool.pop_back();
                return stack;
            }
        }
    }
    size_t total = guard_size + usable_bytes;
    void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return Error::from_errno("cannot allocate a fiber stack", errno);
    if (::mprotect(p, guard_size, PROT_NONE) != 0) {
        int err = errno;
        ::munmap(p, total);
        return Error::from_errno("cannot protect a fiber stack guard", err);
    }
    s_live.fetch_add(1, std::memory_order_relaxed);
    return Stack { static_cast<uint8_t*>(p), usable_bytes };
}

void Stack::release(Stack& stack)
{
    if (!stack)
        return;
    {
        std::lock_guard guard(s_pool_lock);
        if (s_pool.size() < Stack::pool_limit) {
            s_pool.push_back(stack);
            stack = {};
            return;
        }
    }
    ::munmap(stack.mapping, guard_size + stack.usable);
    s_live.fetch_sub(1, std::memory_order_relaxed);
    stack = {};
}

uint64_t Stack::live_stacks()
{
    return s_live.load(std::memory_order_relaxed);
}

} // namespace signet
