// Threads of a SIP never run in the middle of each other, even when one is
// preempted: a SIP keeps its turn while its running thread is preempted.
//
//   turns ROUNDS ITERATIONS
//     The main thread (the writer) runs ROUNDS rounds. Each round it sets
//     s_first to the round's number, computes ITERATIONS steps without a single
//     kernel call (long enough to be preempted several times), sets s_last to the
//     same number and yields. A second thread (the observer) loops, yielding,
//     and counts the times it finds s_first != s_last: a writer caught in the
//     middle of a round. There must be none.
#include "guest.h"

static volatile uint32_t s_first;
static volatile uint32_t s_last;
static volatile uint64_t s_mix;
static volatile uint32_t s_done;
static uint32_t s_observations;
static uint32_t s_torn;
static _Alignas(16) uint8_t s_observer_stack[16 * 1024];

static void observer(void* unused)
{
    (void)unused;
    while (!s_done) {
        ++s_observations;
        if (s_first != s_last)
            ++s_torn;
        signet_yield();
    }
    signet_thread_exit(0);
}

void _start(void)
{
    uint32_t rounds = arg_number(1, 10);
    uint32_t iterations = arg_number(2, 10000000);
    signet_handle thread = 0;
    CHECK(signet_thread_start(observer, 0, s_observer_stack, sizeof s_observer_stack, &thread) == SIGNET_OK, "start the observer");
    for (uint32_t round = 1; round <= rounds; ++round) {
        s_first = round;
        for (uint32_t i = 0; i < iterations; ++i)
            s_mix = s_mix * 6364136223846793005ull + 1442695040888963407ull;
        s_last = round;
        signet_yield();
    }
    s_done = 1;
    int32_t status = -1;
    CHECK(signet_thread_join(thread, SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 0, "join the observer");
    CHECK(s_torn == 0, "the observer never sees a round half done");
    CHECK(s_observations >= rounds, "the observer runs between rounds");

    char text[96];
    char* end = append_text(text, "turns: ");
    end = append_number(end, rounds);
    end = append_text(end, " rounds, ");
    end = append_number(end, s_observations);
    end = append_text(end, " observations, ");
    end = append_number(end, s_torn);
    end = append_text(end, " torn\n");
    *end = '\0';
    say(text);
    report_and_exit("turns");
}
