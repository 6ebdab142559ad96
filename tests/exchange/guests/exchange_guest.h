// What the exchange-heap test guests share: checks that count and report
// ("FAIL <what> (line N)" and "<name>: N checks, M failed"), the payload the
// blocks carry, and checkpoints at which the test looks at a guest.
#ifndef SIGNET_TESTS_EXCHANGE_GUEST_H
#define SIGNET_TESTS_EXCHANGE_GUEST_H

#include <signet/abi.h>

#include "exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned s_checks;
static unsigned s_failures;

#define CHECK(condition, what) check_at((condition) ? 1 : 0, (what), __LINE__)
// A status check that prints the status it got.
#define CHECK_STATUS(call, expected, what) check_status_at((call), (expected), (what), __LINE__)

static inline void check_at(int ok, char const* what, int line)
{
    ++s_checks;
    if (ok)
        return;
    ++s_failures;
    printf("FAIL %s (line %d)\n", what, line);
    fflush(stdout);
}

static inline void check_status_at(int32_t status, int32_t expected, char const* what, int line)
{
    ++s_checks;
    if (status == expected)
        return;
    ++s_failures;
    printf("FAIL %s: status %d, expected %d (line %d)\n", what, (int)status, (int)expected, line);
    fflush(stdout);
}

// Prints the summary; the exit status is 0 only if every check passed.
static inline int report(char const* name)
{
    printf("%s: %u checks, %u failed\n", name, s_checks, s_failures);
    fflush(stdout);
    return s_failures ? 1 : 0;
}

// The startup handle `index`, or 0 if the SIP was not given one.
static inline signet_handle startup_handle(uint32_t index)
{
    signet_handle handle = 0;
    if (signet_startup_handle(index, &handle) != SIGNET_OK)
        return 0;
    return handle;
}

// A block's bytes: blocks lie in this SIP's own memory, at the offset the kernel gave.
static inline uint8_t* block_bytes(uint32_t offset)
{
    return (uint8_t*)(uintptr_t)offset;
}

// The payload: bytes [0, 4) count the stages that received the block, the rest
// is a pattern that follows from `seed`. The checksum covers the pattern only.
static inline void fill_payload(uint8_t* data, uint32_t size, uint32_t seed)
{
    uint32_t state = seed * 2654435761u + 1;
    for (uint32_t i = 0; i < size; ++i) {
        state = state * 1103515245u + 12345u;
        data[i] = i < 4 ? 0 : (uint8_t)(state >> 16);
    }
}

static inline uint32_t payload_checksum(uint8_t const* data, uint32_t size)
{
    uint32_t hash = 2166136261u; // FNV-1a
    for (uint32_t i = 4; i < size; ++i)
        hash = (hash ^ data[i]) * 16777619u;
    return hash;
}

static inline uint32_t payload_hops(uint8_t const* data)
{
    uint32_t hops;
    memcpy(&hops, data, 4);
    return hops;
}

static inline void count_hop(uint8_t* data)
{
    uint32_t hops = payload_hops(data) + 1;
    memcpy(data, &hops, 4);
}

// A block of `size` bytes (at least 4) filled with the payload of `seed`; 0 on failure.
static inline signet_handle make_block(uint32_t size, uint32_t seed, uint32_t* out_checksum)
{
    signet_handle block = 0;
    uint32_t offset = 0;
    int32_t status = signet_block_alloc(size, &block, &offset);
    CHECK_STATUS(status, SIGNET_OK, "allocate a payload block");
    if (status != SIGNET_OK)
        return 0;
    fill_payload(block_bytes(offset), size, seed);
    *out_checksum = payload_checksum(block_bytes(offset), size);
    return block;
}

// Whether `block` holds an intact payload with `checksum`; its offset and size.
static inline int block_intact(signet_handle block, uint32_t checksum, uint32_t* out_offset, uint32_t* out_size)
{
    if (signet_block_info(block, out_offset, out_size) != SIGNET_OK)
        return 0;
    return *out_size >= 4 && payload_checksum(block_bytes(*out_offset), *out_size) == checksum;
}

// Stops at a checkpoint: the test sees `step`, `offset` and `size`, looks at this
// SIP, and lets it go on. Without a probe endpoint, does nothing.
static inline void checkpoint(signet_handle probe, uint32_t step, uint32_t offset, uint32_t size)
{
    if (!probe)
        return;
    CHECK_STATUS(Probe_Imp_send_Checkpoint(probe, step, offset, size), SIGNET_OK, "stop at a checkpoint");
    Probe_Imp_message go;
    CHECK(Probe_Imp_recv(probe, &go) == Probe_Imp_Go, "the test lets this SIP go on");
}

static inline uint32_t parse_number(char const* text, uint32_t fallback)
{
    if (!text || !*text)
        return fallback;
    uint32_t value = 0;
    for (; *text; ++text) {
        if (*text < '0' || *text > '9')
            return fallback;
        value = value * 10 + (uint32_t)(*text - '0');
    }
    return value;
}

#endif
