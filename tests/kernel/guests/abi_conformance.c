// Calls every signet_v1 function and checks every status it documents.
// Prints "FAIL <what>" for each failed check and "abi conformance: N checks, M failed".
#include <signet/abi.h>

static uint32_t s_checks;
static uint32_t s_failures;

static uint32_t length_of(char const* text)
{
    uint32_t n = 0;
    while (text[n])
        ++n;
    return n;
}

static void say(char const* text)
{
    uint32_t written;
    signet_stdio_write(SIGNET_STDOUT, text, length_of(text), &written);
}

static void say_number(uint32_t value)
{
    char digits[12];
    int i = 11;
    digits[i] = 0;
    do {
        digits[--i] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    say(digits + i);
}

static void check(int ok, char const* what)
{
    ++s_checks;
    if (ok)
        return;
    ++s_failures;
    say("FAIL ");
    say(what);
    say("\n");
}

// An offset far outside any memory this program has.
#define BAD_POINTER ((void*)0xFFFFFF00u)

static char s_buffer[256];

void _start(void)
{
    // abi_version
    check(signet_abi_version() == SIGNET_ABI_VERSION, "abi_version is 1");

    // self_id
    check(signet_self_id() != 0, "self_id is nonzero");

    // yield: returns
    signet_yield();
    check(1, "yield returns");

    // time_now
    uint64_t now = 0;
    check(signet_time_now(SIGNET_CLOCK_MONOTONIC, &now) == SIGNET_OK && now != 0, "time_now monotonic ok");
    uint64_t real = 0;
    check(signet_time_now(SIGNET_CLOCK_REALTIME, &real) == SIGNET_OK && real > 1600000000ull * 1000000000ull, "time_now realtime ok");
    check(signet_time_now(99, &now) == SIGNET_INVALID_ARGUMENT, "time_now unknown clock is INVALID_ARGUMENT");
    check(signet_time_now(4, &now) == SIGNET_INVALID_ARGUMENT, "time_now clock 4 is INVALID_ARGUMENT");
    uint64_t cpu = 0, cpu_later = 0, thread_cpu = 0;
    check(signet_time_now(SIGNET_CLOCK_SIP_CPUTIME, &cpu) == SIGNET_OK, "time_now SIP CPU time ok");
    check(signet_time_now(SIGNET_CLOCK_THREAD_CPUTIME, &thread_cpu) == SIGNET_OK && thread_cpu >= cpu, "time_now thread CPU time ok while the SIP has one thread");
    check(signet_time_now(SIGNET_CLOCK_SIP_CPUTIME, &cpu_later) == SIGNET_OK && cpu_later >= thread_cpu, "time_now SIP CPU time never goes back");
    check(signet_time_now(SIGNET_CLOCK_SIP_CPUTIME, (uint64_t*)BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "time_now SIP CPU time bad pointer is OUT_OF_BOUNDS");
    check(signet_time_now(SIGNET_CLOCK_MONOTONIC, (uint64_t*)BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "time_now bad pointer is OUT_OF_BOUNDS");

    // sleep
    uint64_t before = 0, after = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &before);
    check(signet_sleep(2000000) == SIGNET_OK, "sleep ok");
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &after);
    check(after - before >= 2000000, "sleep lasts at least as long as asked");
    check(signet_sleep(0) == SIGNET_OK, "sleep 0 ok");

    // debug_log
    check(signet_debug_log("conformance", 11) == SIGNET_OK, "debug_log ok");
    check(signet_debug_log(BAD_POINTER, 16) == SIGNET_OUT_OF_BOUNDS, "debug_log bad pointer");
    check(signet_debug_log(s_buffer, 5000) == SIGNET_LIMIT, "debug_log too long is LIMIT");
    check(signet_debug_log(BAD_POINTER, 0) == SIGNET_OUT_OF_BOUNDS, "debug_log empty at bad pointer");

    // random_get
    uint8_t random[32] = { 0 };
    check(signet_random_get(random, sizeof random) == SIGNET_OK, "random_get ok");
    int nonzero = 0;
    for (unsigned i = 0; i < sizeof random; ++i)
        nonzero |= random[i];
    check(nonzero, "random_get fills bytes");
    check(signet_random_get(BAD_POINTER, 1024) == SIGNET_OUT_OF_BOUNDS, "random_get bad pointer");
    check(signet_random_get(random, 0) == SIGNET_OK, "random_get zero length");

    // arg_count / arg_get: the host passes "abi_conformance", "second"
    check(signet_arg_count() == 2, "arg_count is 2");
    uint32_t length = 0;
    check(signet_arg_get(1, s_buffer, sizeof s_buffer, &length) == SIGNET_OK && length == 6 && s_buffer[0] == 's' && s_buffer[5] == 'd', "arg_get ok");
    check(signet_arg_get(2, s_buffer, sizeof s_buffer, &length) == SIGNET_NOT_FOUND, "arg_get past the end is NOT_FOUND");
    length = 0;
    check(signet_arg_get(1, s_buffer, 3, &length) == SIGNET_LIMIT && length == 6, "arg_get small buffer is LIMIT with the needed length");
    check(signet_arg_get(1, BAD_POINTER, 64, &length) == SIGNET_OUT_OF_BOUNDS, "arg_get bad buffer");
    check(signet_arg_get(1, s_buffer, sizeof s_buffer, (uint32_t*)BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "arg_get bad length pointer");

    // stdio_write
    uint32_t written = 0;
    check(signet_stdio_write(SIGNET_STDERR, "to stderr\n", 10, &written) == SIGNET_OK && written == 10, "stdio_write stderr ok");
    check(signet_stdio_write(7, "x", 1, &written) == SIGNET_INVALID_ARGUMENT, "stdio_write unknown stream");
    check(signet_stdio_write(SIGNET_STDOUT, BAD_POINTER, 512, &written) == SIGNET_OUT_OF_BOUNDS, "stdio_write bad data");
    check(signet_stdio_write(SIGNET_STDOUT, "x", 1, (uint32_t*)BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "stdio_write bad out pointer");

    // stdio_read: the host gives "input!" on stdin
    uint32_t got = 0;
    check(signet_stdio_read(s_buffer, sizeof s_buffer, &got) == SIGNET_OK && got == 6 && s_buffer[0] == 'i', "stdio_read ok");
    check(signet_stdio_read(s_buffer, sizeof s_buffer, &got) == SIGNET_OK && got == 0, "stdio_read at end of input reads 0");
    check(signet_stdio_read(BAD_POINTER, 4096, &got) == SIGNET_OUT_OF_BOUNDS, "stdio_read bad buffer");
    check(signet_stdio_read(s_buffer, 8, (uint32_t*)BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "stdio_read bad out pointer");

    say("abi conformance: ");
    say_number(s_checks);
    say(" checks, ");
    say_number(s_failures);
    say(" failed\n");
    // exit: the status arrives at the host.
    signet_exit(s_failures ? 1 : 42);
}
