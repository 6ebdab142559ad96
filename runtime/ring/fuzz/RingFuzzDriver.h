// Plays a hostile domain against the kernel's side of a ring, from arbitrary
// bytes: shared by the libFuzzer target and the deterministic test in ctest.
//
// The input is a script. Each step takes one byte: its low two bits pick what
// happens next.
//   0: the domain writes: 2 bytes of offset into the region, 1 byte of length,
//      then that many bytes (the cursors and the header included);
//   1: the kernel receives and decodes one frame;
//   2: the kernel sends a reply (its producer checks the domain's tail);
//   3: the domain behaves: it sends a well-formed frame of the next byte's type
//      (CpuUsed included), on the route the byte after names (any SIP 0-4, any
//      thread 0-3).
// The kernel admits every decoded message against its roster of the domain:
// SIP 1 with threads 1 and 2, SIP 2 with thread 1, and SIP 3, which ended in the
// kernel (its messages are dropped, its SipGone accepted once). A message for
// a SIP or thread that is not there is an error.
// The kernel must never crash, read or write outside the region, or loop: once
// it reports an error it disconnects the domain (the driver stops). It decodes
// as the kernel does, into one message kept from frame to frame; each frame is
// also decoded afresh, and the two must agree (same verdict; the same bytes
// when encoded again), whatever the frames before left in the kept one.
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
    unsigned frames_dropped { 0 }; // for a SIP that ended in the kernel
    unsigned cpu_reports { 0 };    // CpuUsed frames delivered
    unsigned replies_sent { 0 };
    unsigned decoders_disagree { 0 }; // decoding into the kept message differed from decoding afresh
    bool disconnected { false };
};

// A decoded message's bytes, encoded again by the domain's encoders.
inline std::vector<uint8_t> encode_again(FromDomain const& message)
{
    return std::visit([&](auto const& body) { return encode(message.route, body); }, message.message);
}

inline DriveResult drive_kernel_side(std::span<uint8_t const> script)
{
    // The region as a private heap buffer: sanitizers see every access past it.
    auto region = std::make_unique<uint8_t[]>(region_bytes);
    Ring::initialize(region.get());
    Ring kernel(Side::Kernel, region.get());
    Ring domain(Side::Domain, region.get());
    Roster roster;
    roster.add_sip(1);
    roster.add_thread({ 1, 2 });
    roster.add_sip(2);
    roster.add_sip(3);
    roster.end_sip(3);
    DriveResult result;
    FromDomain kept; // what the kernel decodes every frame into (Connection::read_all)
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
                auto into_kept = decode_to_kernel(*frame.value(), kept);
                if (decoded.is_error() != into_kept.is_error() || (!decoded.is_error() && encode_again(decoded.value()) != encode_again(kept))) {
                    ++result.decoders_disagree;
                    if (std::getenv("SIGNET_FUZZ_ABORT_ON_DISAGREEMENT"))
                        std::abort();
                }
                if (decoded.is_error()) {
                    result.disconnected = true;
                    return result;
                }
                auto verdict = roster.admit(decoded.value());
                if (verdict.is_error()) {
                    result.disconnected = true;
                    return result;
                }
                ++result.frames_decoded;
                result.frames_dropped += verdict.value() == Roster::Verdict::Drop;
                result.cpu_reports += verdict.value() == Roster::Verdict::Deliver && std::holds_alternative<CpuUsed>(decoded.value().message);
            }
        } else if (step == 2) {
            int which = next();
            Route route { uint32_t(which & 3), uint32_t((which >> 2) & 3) };
            auto sent = (which & 0x30) == 0 ? kernel.try_send(uint16_t(ToDomainType::StartThread), 0, encode(route, StartThread { 1, 2, 4096 }))
                : (which & 0x30) == 0x10    ? kernel.try_send(uint16_t(ToDomainType::EndSip), 0, encode(route, EndSip {}))
                                            : kernel.try_send(uint16_t(ToDomainType::Result), 7, encode(route, Result { 42 }));
            if (sent.is_error()) {
                result.disconnected = true;
                return result;
            }
            result.replies_sent += sent.value();
        } else {
            int type = next();
            int where = next();
            Route route { uint32_t(where < 0 ? 1 : where % 5), uint32_t(where < 0 ? 1 : (where >> 3) % 4) };
            std::vector<uint8_t> payload;
            uint16_t kind = uint16_t(type < 0 ? 2 : 1 + type % 6);
            switch (ToKernelType(kind)) {
            case ToKernelType::Hello:
                payload = encode(route, Hello { protocol_version, abi_call_count, abi_call_fingerprint(), 1 });
                break;
            case ToKernelType::Call: {
                Call call;
                call.function = uint32_t(type & 0x3f);
                call.argument_count = uint32_t(type >> 6);
                payload = encode(route, call);
                break;
            }
            case ToKernelType::GrowMemory:
                payload = encode(route, GrowMemory { uint64_t(type) });
                break;
            case ToKernelType::Ended:
                payload = encode(route, Ended { Ended::How(type & 1), uint32_t(type >> 4), "detail" });
                break;
            case ToKernelType::SipGone:
                payload = encode(route, SipGone {});
                break;
            case ToKernelType::CpuUsed:
                payload = encode(route, CpuUsed { uint64_t(type) << 40 });
                break;
            }
            // The domain's own producer may refuse (its view of the cursors may be garbage too).
            (void)domain.try_send(kind, uint32_t(at), payload);
        }
    }
    return result;
}

} // namespace signet::ring::fuzz
