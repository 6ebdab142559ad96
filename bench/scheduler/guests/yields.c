// Times signet_yield round trips from wasm code with the ABI's monotonic clock.
//   threads N REPS  two threads of this SIP yield to each other: each of the
//                   main thread's yields runs the other thread once and comes
//                   back, a round trip of two switches. Timed: N round trips.
//                   Both threads run one loop (yield_times), so both yield
//                   from the same call site.
//   apart N REPS    the same, but each thread yields from a loop of its own:
//                   every return into wasm code lands where the CPU's
//                   return-stack predictor does not expect it.
//   sip N REPS      this SIP yields N times per repetition. Two of them on one
//                   worker switch SIPs at every yield (the loop of the "apart" mode, in each).
// Prints "<mode> <n> <nanoseconds>" per repetition, after one warm-up repetition.
#include <signet/abi.h>
#include <signet/thread.h>

static volatile uint32_t s_done;
static _Alignas(16) uint8_t s_partner_stack[16 * 1024];

static uint64_t now(void)
{
    uint64_t t = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &t);
    return t;
}

static uint32_t number_argument(uint32_t index, uint32_t fallback)
{
    char text[12];
    uint32_t length = 0, value = 0;
    if (signet_arg_get(index, text, sizeof text, &length) != SIGNET_OK || length == 0 || length > sizeof text)
        return fallback;
    for (uint32_t i = 0; i < length; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return fallback;
        value = value * 10 + (uint32_t)(text[i] - '0');
    }
    return value;
}

static char* append(char* out, char const* text)
{
    while (*text)
        *out++ = *text++;
    return out;
}

static char* append_number(char* out, uint64_t value)
{
    char digits[24];
    int count = 0;
    do {
        digits[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (count)
        *out++ = digits[--count];
    return out;
}

// Every yield of the "threads" mode, on both sides. Called through a pointer
// that the compilers cannot see through, so that neither wasm-opt nor the C
// compiler of the installer inlines or clones it into each caller: the yield
// must stay one call site.
static void yield_times(uint32_t count)
{
    for (uint32_t i = 0; i < count; ++i)
        signet_yield();
}
static void (*volatile s_yield_times)(uint32_t) = yield_times;

static void partner(void* unused)
{
    (void)unused;
    while (!s_done)
        s_yield_times(1000);
    signet_thread_exit(0);
}

static void partner_apart(void* unused)
{
    (void)unused;
    while (!s_done)
        signet_yield();
    signet_thread_exit(0);
}

void _start(void)
{
    char mode[8];
    uint32_t mode_length = 0;
    if (signet_arg_get(1, mode, sizeof mode - 1, &mode_length) != SIGNET_OK)
        signet_exit(2);
    mode[mode_length] = '\0';
    int apart = mode[0] == 'a';
    int threads = mode[0] == 't' || apart;
    uint32_t yields = number_argument(2, 100000);
    uint32_t repetitions = number_argument(3, 10);

    signet_handle thread = 0;
    if (threads && signet_thread_start(apart ? partner_apart : partner, 0, s_partner_stack, sizeof s_partner_stack, &thread) != SIGNET_OK)
        signet_exit(3);
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        uint64_t start = now();
        if (apart) {
            for (uint32_t i = 0; i < yields; ++i)
                signet_yield();
        } else {
            s_yield_times(yields);
        }
        uint64_t elapsed = now() - start;
        if (rep == 0)
            continue;
        char line[64];
        char* end = append(line, mode);
        *end++ = ' ';
        end = append_number(end, yields);
        *end++ = ' ';
        end = append_number(end, elapsed);
        *end++ = '\n';
        uint32_t written = 0;
        signet_stdio_write(SIGNET_STDOUT, line, (uint32_t)(end - line), &written);
    }
    if (threads) {
        s_done = 1;
        int32_t status = -1;
        if (signet_thread_join(thread, SIGNET_WAIT_FOREVER, &status) != SIGNET_OK || status != 0)
            signet_exit(4);
    }
    signet_exit(0);
}
