// What the channel test guests share: checks that count and report, in the
// form the tests read ("FAIL <what> (line N)" and "<name>: N checks, M failed").
#ifndef SIGNET_TESTS_CHANNELS_CHECK_H
#define SIGNET_TESTS_CHANNELS_CHECK_H

#include <signet/abi.h>

#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// An offset far outside any memory a test guest has.
#define BAD_POINTER ((void*)0xFFFFFF00u)

static unsigned s_checks;
static unsigned s_failures;

#define CHECK(condition, what) check_at((condition) ? 1 : 0, (what), __LINE__)

static inline void check_at(int ok, char const* what, int line)
{
    ++s_checks;
    if (ok)
        return;
    ++s_failures;
    printf("FAIL %s (line %d)\n", what, line);
    fflush(stdout);
}

// Prints the summary; the exit status is 0 only if every check passed.
static inline int report(char const* name)
{
    printf("%s: %u checks, %u failed\n", name, s_checks, s_failures);
    fflush(stdout);
    return s_failures ? 1 : 0;
}

// The argument `index`, or "" if there is none.
static inline char const* arg_or_empty(int argc, char** argv, int index)
{
    return index < argc ? argv[index] : "";
}

static inline uint64_t monotonic_ns(void)
{
    uint64_t now = 0;
    signet_time_now(SIGNET_CLOCK_MONOTONIC, &now);
    return now;
}

// Creates a channel of the contract whose descriptor is given; both handles or a failed check.
#define CREATE_CHANNEL(contract, importer, exporter) \
    CHECK(signet_channel_create(contract##_descriptor, contract##_DESCRIPTOR_SIZE, &(importer), &(exporter)) == SIGNET_OK, \
        "create a " #contract " channel")

#endif
