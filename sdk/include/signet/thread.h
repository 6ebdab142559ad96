/* Threads, mutexes and condition variables for SIP code, on the signet_v1 ABI.
 *
 * A SIP's threads share its memory but never run at the same instant, and one
 * never preempts another: they switch only when one blocks (a futex wait, a
 * channel receive, a sleep), yields or ends. Code that does not block between
 * two points is therefore atomic with respect to the SIP's other threads; the
 * C library stays correct without locks. Use a mutex to hold state across
 * blocking calls.
 */
#ifndef SIGNET_THREAD_H
#define SIGNET_THREAD_H

#include <signet/abi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Starts `function(argument)` on a new thread whose C stack is the `stack_size`
 * bytes at `stack` (16-byte aligned; the caller keeps it alive until the thread
 * is joined). */
static inline int32_t signet_thread_start(void (*function)(void*), void* argument, void* stack, uint32_t stack_size, signet_handle* out_thread)
{
    uint32_t top = (uint32_t)(uintptr_t)stack + stack_size;
    top &= ~15u;
    return signet_thread_create((uint32_t)(uintptr_t)function, (uint32_t)(uintptr_t)argument, top, out_thread);
}

/* A mutex: 0 unlocked, 1 locked, 2 locked with waiters. */
typedef struct signet_mutex {
    uint32_t state;
} signet_mutex;

#define SIGNET_MUTEX_INIT { 0 }

static inline void signet_mutex_lock(signet_mutex* mutex)
{
    /* Threads of a SIP never interleave between kernel calls, so plain loads and
     * stores are atomic here; only waiting needs the kernel. */
    if (mutex->state == 0) {
        mutex->state = 1;
        return;
    }
    while (mutex->state != 0) {
        mutex->state = 2;
        signet_futex_wait(&mutex->state, 2, SIGNET_WAIT_FOREVER);
    }
    mutex->state = 2;
}

static inline void signet_mutex_unlock(signet_mutex* mutex)
{
    uint32_t previous = mutex->state;
    mutex->state = 0;
    if (previous == 2) {
        uint32_t woken;
        signet_futex_wake(&mutex->state, 1, &woken);
    }
}

/* A condition variable: a sequence number waiters sleep on. */
typedef struct signet_cond {
    uint32_t sequence;
} signet_cond;

#define SIGNET_COND_INIT { 0 }

static inline void signet_cond_wait(signet_cond* cond, signet_mutex* mutex)
{
    uint32_t seen = cond->sequence;
    signet_mutex_unlock(mutex);
    signet_futex_wait(&cond->sequence, seen, SIGNET_WAIT_FOREVER);
    signet_mutex_lock(mutex);
}

static inline void signet_cond_signal(signet_cond* cond)
{
    uint32_t woken;
    cond->sequence++;
    signet_futex_wake(&cond->sequence, 1, &woken);
}

static inline void signet_cond_broadcast(signet_cond* cond)
{
    uint32_t woken;
    cond->sequence++;
    signet_futex_wake(&cond->sequence, UINT32_MAX, &woken);
}

#ifdef __cplusplus
}
#endif

#endif
