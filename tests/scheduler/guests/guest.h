// What the scheduler test guests share. They are freestanding (the native
// personality, no C library), so that a SIP costs as little memory as one can:
// arguments, output and checks are done here by hand.
//
// Checks count and report in the form the tests read: "FAIL <what> (line N)"
// for each failed check and "<name>: N checks, M failed" at the end.
#ifndef SIGNET_TESTS_SCHEDULER_GUEST_H
#define SIGNET_TESTS_SCHEDULER_GUEST_H

#include <signet/abi.h>
#include <signet/thread.h>

#include "scheduler.h"

static inline void say(char const* text)
{
    uint32_t length = 0;
    while (text[length])
        ++length;
    uint32_t written = 0;
    signet_stdio_write(SIGNET_STDOUT, text, length, &written);
}

// Appends the decimal digits of `value` at `out`; returns the end.
static inline char* append_number(char* out, uint64_t value)
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

static inline char* append_text(char* out, char const* text)
{
    while (*text)
        *out++ = *text++;
    return out;
}

// Argument `index` as a decimal number, or `fallback` if it is missing or not a number.
static inline uint32_t arg_number(uint32_t index, uint32_t fallback)
{
    char text[16];
    uint32_t length = 0;
    if (signet_arg_get(index, text, sizeof text, &length) != SIGNET_OK || length == 0 || length > sizeof text)
        return fallback;
    uint32_t value = 0;
    for (uint32_t i = 0; i < length; ++i) {
        if (text[i] < '0' || text[i] > '9')
            return fallback;
        value = value * 10 + (uint32_t)(text[i] - '0');
    }
    return value;
}

// Whether argument `index` is exactly `word`.
static inline int arg_is(uint32_t index, char const* word)
{
    char text[32];
    uint32_t length = 0;
    if (signet_arg_get(index, text, sizeof text, &length) != SIGNET_OK || length > sizeof text)
        return 0;
    uint32_t i = 0;
    for (; i < length; ++i) {
        if (word[i] != text[i])
            return 0;
    }
    return word[i] == '\0';
}

static uint32_t s_checks;
static uint32_t s_failures;

#define CHECK(condition, what) check_at((condition) ? 1 : 0, (what), __LINE__)

static inline void check_at(int ok, char const* what, int line)
{
    ++s_checks;
    if (ok)
        return;
    ++s_failures;
    char text[160];
    char* end = append_text(text, "FAIL ");
    end = append_text(end, what);
    end = append_text(end, " (line ");
    end = append_number(end, (uint64_t)line);
    end = append_text(end, ")\n");
    *end = '\0';
    say(text);
}

// Prints the summary and ends the SIP: status 0 only if every check passed.
static inline void report_and_exit(char const* name)
{
    char text[96];
    char* end = append_text(text, name);
    end = append_text(end, ": ");
    end = append_number(end, s_checks);
    end = append_text(end, " checks, ");
    end = append_number(end, s_failures);
    end = append_text(end, " failed\n");
    *end = '\0';
    say(text);
    signet_exit(s_failures ? 1 : 0);
}

#endif
