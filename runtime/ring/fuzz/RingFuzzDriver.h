// Plays a hostile domain against the kernel's side of a ring, from arbitrary
// bytes: shared by the libFuzzer target and the deterministic test in ctest.
//
// The input is a script. Each step takes one byte: its low two bits pick what
// happens next.
//   0: the domain writes: 2 bytes of offset into the region, 1 byte of length,
//      then that many bytes (the cursors and the header included);
//   1: the kernel receives and decodes one frame;
//   2: the kernel sends a reply (its producer checks the domain's tail);
//   3: the domain behaves: it sends a well-formed frame of the next byte's type.
// The kernel must never crash, read or write outside the region, or loop: once
// it reports an error it disconnects the domain (the driver stops).
#pragma once

#include "runtime/ring/Protocol.h"
#include "runtime/ring/Ring.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>

namespace signet::ring::fuzz {

struct DriveResult {
    unsigned frames_decoded { 0 };
    unsigned replies_sent { 0 };
    bool disconnected { false };
};

inline DriveResult drive_kernel_side(std::span<uint8_t const> script)
{
    // The region as a private heap buffer: sanitizers see every access past it.
    auto region = std::make_unique<uint8_t[]>(region_bytes);
    Ring::initialize(region.get());
    Ring kernel(Side::Kernel, region.get());
    Ring domain(Side::Domain, region.get());
    DriveResult result;
    size_t at = 0;
    auto next = [&]() -> int { return at < script.size() ? script[at++] : -1; };
    // Bounded: every step consumes at least one byte of the script.
    while (at < script.size()) {
        int step = next() & 3;
        if (step == 0) {
            int high = next(), low = next(), length = next();
            if (length < 0)
                break;
            size_t offset = ((size_t(high & 0xff) << 8) | size_t(low & 0xff)) * 3 % region_bytes;
            for (int i = 0; i < length && offset + i < region_bytes; ++i) {
                int byte = next();
                if (byte < 0)
                    break;
                region[offset + i] = uint8_t(byte);
            }
        } else if (step == 1) {
            auto frame = kernel.receive();
            if (frame.is_error()) {
                result.disconnected = true;
                return result;
            }
            if (frame.value()) {
                auto decoded = decode_to_kernel(*frame.value());
                if (decoded.is_error()) {
                    result.disconnected = true;
                    return result;
                }
                ++result.frames_decoded;
            }
        } else if (step == 2) {
            auto sent = kernel.try_send(uint16_t(ToDomainType::Result), 7, encode(Result { 42 }));
            if (sent.is_error()) {
                result.disconnected = true;
                return result;
            }
            result.replies_sent += sent.value();
        } else {
            int type = next();
            Call call;
            call.function = uint32_t(type & 0x3f);
            call.argument_count = uint32_t(type >> 6);
            // The domain's own producer may refuse (its view of the cursors may be garbage too).
            (void)domain.try_send(uint16_t(type < 0 ? 2 : 1 + type % 4), uint32_t(at), encode(call));
        }
    }
    return result;
}

} // namespace signet::ring::fuzz
