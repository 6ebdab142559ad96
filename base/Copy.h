// copy_bytes: memcpy for buffers in two different memories (a SIP's and the
// kernel's, or two SIPs'), safe from the `rep movsb` trap.
//
// glibc copies blocks above 2 KiB with `rep movsb`, which on current Intel
// cores slows down several times when the destination lies 1..63 bytes ahead
// of the source modulo 4 KiB (the accesses alias in the low address bits the
// store buffer compares). Two SIPs running the same program have their buffers
// at the same offsets of their memories, so a message copied from one to the
// other can hit it every time: signet-bench-channels' 64 KiB round trip took
// 19 us instead of 5 (a 64 KiB copy alone, back to back: 18 us instead of
// 1.4). Copies of such blocks from 32 KiB go backward here instead, 64 bytes
// at a time with aligned stores, as glibc's own vector loop does when it sees
// the aliasing: 1.4 us for 64 KiB, about what `rep movsb` takes when it runs
// well. Smaller ones kept their speed in the benchmark (its 4 and 16 KiB round
// trips hit the same aliasing), though a copy back to back with itself slows
// down from 2 KiB (1.2 us for 4 KiB); there the loop costs up to twice a good
// `rep movsb` (16 KiB round trips: 630 against 480 ns). (x86-64: SSE2 is baseline.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <emmintrin.h>

namespace signet {

// Copies nothing, from anywhere (a null pointer too: an empty message's bytes), when `length` is 0.
inline void copy_bytes(void* destination, void const* source, size_t length)
{
    auto* to = static_cast<uint8_t*>(destination);
    auto const* from = static_cast<uint8_t const*>(source);
    uintptr_t ahead = (reinterpret_cast<uintptr_t>(to) - reinterpret_cast<uintptr_t>(from)) & 4095;
    if (length < 32768 || ahead == 0 || ahead >= 64) {
        if (length)
            std::memcpy(to, from, length);
        return;
    }
    // [0, head) and [head + body, length) by memcpy (under 64 bytes each), the
    // body backward with every store aligned.
    size_t head = (64 - (reinterpret_cast<uintptr_t>(to) & 63)) & 63;
    size_t at = head + ((length - head) & ~size_t(63));
    std::memcpy(to + at, from + at, length - at);
    while (at > head) {
        at -= 64;
        __m128i a = _mm_loadu_si128(reinterpret_cast<__m128i const*>(from + at));
        __m128i b = _mm_loadu_si128(reinterpret_cast<__m128i const*>(from + at + 16));
        __m128i c = _mm_loadu_si128(reinterpret_cast<__m128i const*>(from + at + 32));
        __m128i d = _mm_loadu_si128(reinterpret_cast<__m128i const*>(from + at + 48));
        _mm_store_si128(reinterpret_cast<__m128i*>(to + at), a);
        _mm_store_si128(reinterpret_cast<__m128i*>(to + at + 16), b);
        _mm_store_si128(reinterpret_cast<__m128i*>(to + at + 32), c);
        _mm_store_si128(reinterpret_cast<__m128i*>(to + at + 48), d);
    }
    std::memcpy(to, from, head);
}

} // namespace signet
