// Computes forever without a single kernel call: only preemption can take the
// worker back from it, and only a kill can end it.
#include <stdint.h>

static volatile uint64_t s_counter;

void _start(void)
{
    for (;;)
        s_counter = s_counter * 6364136223846793005ull + 1442695040888963407ull;
}
