// Threads of one SIP: a mutex-protected counter incremented across yields, a
// producer/consumer pair on a condition variable, a thread that blocks (sleeps)
// while its siblings go on, join statuses, and the thread quota.
#include <signet/thread.h>

#include <stdio.h>

#define WORKERS 8
#define ROUNDS 200

static signet_mutex s_lock = SIGNET_MUTEX_INIT;
static signet_cond s_ready = SIGNET_COND_INIT;
static uint32_t s_counter;
static uint32_t s_queue[16];
static uint32_t s_queued;
static uint32_t s_consumed_sum;
static volatile uint32_t s_sleeper_done;
static _Alignas(16) uint8_t s_stacks[WORKERS + 3][16 * 1024];

static void increment(void* argument)
{
    for (int i = 0; i < ROUNDS; ++i) {
        signet_mutex_lock(&s_lock);
        uint32_t value = s_counter;
        signet_yield(); // Hold the lock across a switch: siblings must wait.
        s_counter = value + 1;
        signet_mutex_unlock(&s_lock);
    }
    signet_thread_exit((int32_t)(uintptr_t)argument);
}

static void consume(void* argument)
{
    (void)argument;
    for (uint32_t taken = 0; taken < 100;) {
        signet_mutex_lock(&s_lock);
        while (s_queued == 0)
            signet_cond_wait(&s_ready, &s_lock);
        s_consumed_sum += s_queue[--s_queued];
        ++taken;
        signet_mutex_unlock(&s_lock);
    }
}

static uint32_t s_gate;

// Blocks in the kernel until main opens the gate: its siblings run meanwhile.
static void sleeper(void* argument)
{
    (void)argument;
    while (s_gate == 0)
        signet_futex_wait(&s_gate, 0, SIGNET_WAIT_FOREVER);
    s_sleeper_done = 1;
}

int main(void)
{
    // The thread's CPU-time clock answers while this thread is the SIP's only one.
    uint64_t sip_before = 0, sip_after = 0, thread_time = 0;
    int32_t thread_alone = signet_time_now(SIGNET_CLOCK_THREAD_CPUTIME, &thread_time);
    signet_time_now(SIGNET_CLOCK_SIP_CPUTIME, &sip_before);

    signet_handle threads[WORKERS];
    for (uintptr_t i = 0; i < WORKERS; ++i) {
        if (signet_thread_start(increment, (void*)(i + 100), s_stacks[i], sizeof s_stacks[i], &threads[i]) != SIGNET_OK) {
            printf("cannot start thread %u\n", (unsigned)i);
            return 1;
        }
    }
    int statuses_ok = 1;
    for (int i = 0; i < WORKERS; ++i) {
        int32_t status = -1;
        if (signet_thread_join(threads[i], SIGNET_WAIT_FOREVER, &status) != SIGNET_OK || status != 100 + i)
            statuses_ok = 0;
    }
    printf("counter %u (expected %u), join statuses %s\n", s_counter, WORKERS * ROUNDS, statuses_ok ? "ok" : "wrong");

    // One blocking thread does not block its siblings: this thread keeps going.
    signet_handle sleeping, consumer;
    signet_thread_start(sleeper, 0, s_stacks[WORKERS], sizeof s_stacks[WORKERS], &sleeping);
    signet_thread_start(consume, 0, s_stacks[WORKERS + 1], sizeof s_stacks[WORKERS + 1], &consumer);
    uint32_t produced_sum = 0;
    for (uint32_t i = 1; i <= 100; ++i) {
        signet_mutex_lock(&s_lock);
        while (s_queued == 16) {
            signet_mutex_unlock(&s_lock);
            signet_yield();
            signet_mutex_lock(&s_lock);
        }
        s_queue[s_queued++] = i;
        produced_sum += i;
        signet_cond_signal(&s_ready);
        signet_mutex_unlock(&s_lock);
    }
    int32_t status;
    uint32_t woken_count;
    signet_thread_join(consumer, SIGNET_WAIT_FOREVER, &status);
    printf("consumed %u of %u while the sleeper was %s\n", s_consumed_sum, produced_sum, s_sleeper_done ? "done" : "still asleep");
    s_gate = 1;
    signet_futex_wake(&s_gate, 1, &woken_count);
    signet_thread_join(sleeping, SIGNET_WAIT_FOREVER, &status);

    // Errors are statuses.
    signet_handle bogus;
    printf("bad entry: %d, bad stack: %d, join bad handle: %d\n",
        (int)signet_thread_create(99999, 0, 4096, &bogus),
        (int)signet_thread_start(sleeper, 0, (void*)0xFFFFF000u, 4096, &bogus),
        (int)signet_thread_join(12345, 0, &status));
    uint32_t woken = 7;
    printf("futex: wait on changed value %d, unaligned %d, wake nobody %d (%u)\n",
        (int)signet_futex_wait(&s_counter, 0, SIGNET_WAIT_FOREVER),
        (int)signet_futex_wait((uint32_t*)((uintptr_t)&s_counter + 1), 0, 0),
        (int)signet_futex_wake(&s_counter, 1, &woken), woken);
    printf("futex wait times out: %d\n", (int)signet_futex_wait(&s_counter, s_counter, 1000000));

    // Once the SIP has had other threads, the thread clock is UNSUPPORTED (the
    // scheduler counts CPU time per SIP); the SIP's clock never goes back.
    int32_t thread_later = signet_time_now(SIGNET_CLOCK_THREAD_CPUTIME, &thread_time);
    int32_t sip_status = signet_time_now(SIGNET_CLOCK_SIP_CPUTIME, &sip_after);
    printf("cpu clocks: thread %d alone, %d after siblings; SIP %d, not back %d\n", (int)thread_alone, (int)thread_later,
        (int)sip_status, sip_after >= sip_before);
    return 0;
}
