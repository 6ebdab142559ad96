// Times trivial signet_v1 calls from wasm code, in a loop, with the ABI's own
// monotonic clock around each repetition.
//
// Usage: abi_calls CALLS REPETITIONS
// Prints one line per loop kind and repetition: "<kind> <calls> <nanoseconds>".
// The first repetition of every kind is a warm-up and is not printed.
#include <signet/abi.h>

// A store the compiler must keep, so that each loop does one call and one
// store per iteration and the empty loop has the same shape without the call.
static volatile uint32_t s_sink;

static uint64_t now(void)
{
    uint64_t t = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &t);
    return t;
}

static char* append_text(char* out, char const* text)
{
    while (*text)
        *out++ = *text++;
    return out;
}

static char* append_number(char* out, uint64_t value)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n)
        *out++ = digits[--n];
    return out;
}

static void report(char const* kind, uint32_t calls, uint64_t nanoseconds)
{
    char line[96];
    char* end = append_text(line, kind);
    *end++ = ' ';
    end = append_number(end, calls);
    *end++ = ' ';
    end = append_number(end, nanoseconds);
    *end++ = '\n';
    uint32_t written = 0;
    signet_stdio_write(SIGNET_STDOUT, line, (uint32_t)(end - line), &written);
}

static uint32_t parse_arg(uint32_t index, uint32_t fallback)
{
    char text[16];
    uint32_t length = 0;
    if (signet_arg_get(index, text, sizeof text, &length) != SIGNET_OK)
        return fallback;
    uint32_t value = 0;
    for (uint32_t i = 0; i < length; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return fallback;
        value = value * 10 + (uint32_t)(text[i] - '0');
    }
    return value ? value : fallback;
}

static uint64_t loop_empty(uint32_t calls)
{
    uint64_t start = now();
    for (uint32_t i = 0; i < calls; ++i)
        s_sink = i;
    return now() - start;
}

static uint64_t loop_abi_version(uint32_t calls)
{
    uint64_t start = now();
    for (uint32_t i = 0; i < calls; ++i)
        s_sink = signet_abi_version();
    return now() - start;
}

static uint64_t loop_self_id(uint32_t calls)
{
    uint64_t start = now();
    for (uint32_t i = 0; i < calls; ++i)
        s_sink = (uint32_t)signet_self_id();
    return now() - start;
}

static uint64_t loop_time_now(uint32_t calls)
{
    uint64_t start = now();
    for (uint32_t i = 0; i < calls; ++i) {
        uint64_t t = 0;
        signet_time_now(SIGNET_CLOCK_MONOTONIC, &t);
        s_sink = (uint32_t)t;
    }
    return now() - start;
}

struct LoopKind {
    char const* name;
    uint64_t (*run)(uint32_t calls);
    uint32_t divisor; // time_now is ~20x dearer: fewer calls keep each repetition short
};

void _start(void)
{
    uint32_t calls = parse_arg(1, 1000000);
    uint32_t repetitions = parse_arg(2, 15);
    struct LoopKind const kinds[] = {
        { "empty", loop_empty, 1 },
        { "abi_version", loop_abi_version, 1 },
        { "self_id", loop_self_id, 1 },
        { "time_now", loop_time_now, 16 },
    };
    // Interleave the kinds, so that a slow phase of the VM hits all of them alike.
    for (uint32_t rep = 0; rep <= repetitions; ++rep) {
        for (uint32_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
            uint32_t n = calls / kinds[k].divisor;
            uint64_t elapsed = kinds[k].run(n);
            if (rep > 0)
                report(kinds[k].name, n, elapsed);
        }
    }
    signet_exit(0);
}
