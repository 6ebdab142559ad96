// The ring carries frames both ways, wraps, fills up, and refuses every kind of
// garbage a hostile domain can write with an error that names what is wrong.
#include "runtime/ring/AbiCalls.h"
#include "runtime/ring/Protocol.h"
#include "runtime/ring/Ring.h"
#include "runtime/ring/fuzz/RingFuzzDriver.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>

using namespace signet;
using namespace signet::ring;

namespace {

struct Region {
    Region()
        : bytes(std::make_unique<uint8_t[]>(region_bytes))
    {
        Ring::initialize(bytes.get());
    }
    RegionHeader& header() { return *reinterpret_cast<RegionHeader*>(bytes.get()); }
    uint8_t* to_kernel_data() { return bytes.get() + header_bytes; }
    std::unique_ptr<uint8_t[]> bytes;
};

std::vector<uint8_t> filled(size_t size, uint8_t seed)
{
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i)
        bytes[i] = uint8_t(seed + i * 7);
    return bytes;
}

// Writes a raw frame header at `offset` of the domain-to-kernel ring and publishes `head`.
void forge(Region& region, uint32_t offset, FrameHeader header, uint32_t head)
{
    std::memcpy(region.to_kernel_data() + offset, &header, sizeof header);
    region.header().to_kernel_head.value.store(head);
}

std::string receive_error(Ring& kernel)
{
    auto frame = kernel.receive();
    return frame.is_error() ? frame.error().message() : std::string("(no error)");
}

} // namespace

TEST(Ring, CarriesFramesBothWaysInOrder)
{
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    Ring domain(Side::Domain, region.bytes.get());
    ASSERT_TRUE(domain.try_send(2, 1, filled(5, 1)).value());
    ASSERT_TRUE(domain.try_send(3, 2, {}).value());
    auto first = kernel.receive().release_value();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->type, 2);
    EXPECT_EQ(first->sequence, 1u);
    EXPECT_EQ(first->payload, filled(5, 1));
    auto second = kernel.receive().release_value();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->type, 3);
    EXPECT_TRUE(second->payload.empty());
    EXPECT_FALSE(kernel.receive().release_value());

    ASSERT_TRUE(kernel.try_send(17, 1, filled(8, 9)).value());
    auto reply = domain.receive().release_value();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->payload, filled(8, 9));
}

TEST(Ring, WrapsAroundTheEndWithAPadFrameManyTimes)
{
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    Ring domain(Side::Domain, region.bytes.get());
    std::mt19937 random(1);
    // Sizes that do not divide the capacity, so frames meet the end at every offset.
    for (uint32_t sequence = 0; sequence < 5000; ++sequence) {
        size_t size = random() % 3000;
        ASSERT_TRUE(domain.try_send(2, sequence, filled(size, uint8_t(sequence))).value());
        auto frame = kernel.receive().release_value();
        ASSERT_TRUE(frame);
        ASSERT_EQ(frame->sequence, sequence);
        ASSERT_EQ(frame->payload, filled(size, uint8_t(sequence)));
    }
}

TEST(Ring, AFullRingRefusesUntilTheConsumerCatchesUp)
{
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    Ring domain(Side::Domain, region.bytes.get());
    unsigned sent = 0;
    while (domain.try_send(2, sent, filled(1000, 0)).value())
        ++sent;
    EXPECT_EQ(sent, ring_capacity / 1024); // 1000 bytes and a header, in 16-byte units
    ASSERT_TRUE(kernel.receive().release_value());
    EXPECT_TRUE(domain.try_send(2, sent, filled(1000, 0)).value());
}

TEST(Ring, RefusesAFrameOverTheLimit)
{
    Region region;
    Ring domain(Side::Domain, region.bytes.get());
    auto sent = domain.try_send(2, 0, filled(max_frame_bytes, 0));
    ASSERT_TRUE(sent.is_error());
    EXPECT_NE(sent.error().message().find("over the limit"), std::string::npos);
}

TEST(HostileRing, AHeadFurtherAheadThanTheRingHoldsIsAnError)
{
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    region.header().to_kernel_head.value.store(ring_capacity + 8);
    EXPECT_NE(receive_error(kernel).find("more than the ring holds"), std::string::npos);
    // Behind the tail, in wrapping arithmetic, is the same thing.
    region.header().to_kernel_head.value.store(uint32_t(-8));
    EXPECT_NE(receive_error(kernel).find("more than the ring holds"), std::string::npos);
}

TEST(HostileRing, EveryMalformedFrameHeaderIsNamed)
{
    struct Case {
        FrameHeader header;
        uint32_t offset;
        uint32_t head;
        char const* says;
    };
    Case const cases[] = {
        { { 0, 2, 0, 0, 0 }, 0, 16, "has length 0" },
        { { 12, 2, 0, 0, 0 }, 0, 16, "has length 12" },
        { { 24, 2, 0, 0, 0 }, 0, 32, "multiple of 16" },
        { { 32, 2, 0, 0, 0 }, 0, 24, "not a multiple of 16" },
        { { 64, 2, 0, 48, 0 }, 0, 32, "only 32 bytes were published" },
        { { 32, 2, 0, 16, 0 }, ring_capacity - 16, ring_capacity + 16, "past the end of the ring" },
        { { 32, 2, 5, 16, 0 }, 0, 32, "reserved field" },
        { { 32, 0, 0, 0, 0 }, 0, 32, "pad frame must fill the ring" },
        { { 32, 2, 0, 17, 0 }, 0, 32, "payload length 17" },
        { { 48, 2, 0, 8, 0 }, 0, 48, "payload length 8" },
        { { max_frame_bytes + 16, 2, 0, 16, 0 }, 0, max_frame_bytes + 16, "over the limit" },
    };
    for (auto const& c : cases) {
        Region region;
        Ring kernel(Side::Kernel, region.bytes.get());
        if (c.offset) {
            // Move both cursors to the offset first, as if that much had been exchanged.
            for (uint32_t done = 0; done < c.offset;) {
                uint32_t length = std::min(4096u, c.offset - done);
                forge(region, done, FrameHeader { length, 2, 0, length - 16, 0 }, done + length);
                done += length;
                ASSERT_TRUE(kernel.receive().release_value());
            }
        }
        forge(region, c.offset, c.header, c.head);
        EXPECT_NE(receive_error(kernel).find(c.says), std::string::npos) << c.says << ": got " << receive_error(kernel);
    }
}

TEST(HostileRing, APublishedTailAheadOfWhatWasSentIsAnError)
{
    // The producer reads the peer's tail only when its last view of it leaves
    // too little room: a forged tail is refused at that read, before anything
    // is written over frames the peer has not consumed.
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    region.header().to_domain_tail.value.store(0x8000'0000u);
    unsigned sent = 0;
    for (;;) {
        auto result = kernel.try_send(17, sent, encode(Route { 1, 1 }, Result { sent }));
        if (result.is_error()) {
            EXPECT_NE(result.error().message().find("never published"), std::string::npos) << result.error().message();
            break;
        }
        ASSERT_TRUE(result.value()) << "the ring reported full without reading the forged tail";
        ++sent;
        ASSERT_LE(sent * frame_alignment, ring_capacity) << "more sent than the ring holds, and the forged tail never refused";
    }
    EXPECT_GT(sent, 0u);
}

TEST(HostileRing, APublishedTailThatGoesBackIsAnError)
{
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    Ring domain(Side::Domain, region.bytes.get());
    // Fill the ring; the domain consumes it all, then puts its tail back.
    unsigned sent = 0;
    while (kernel.try_send(17, sent, encode(Route { 1, 1 }, Result { sent })).value())
        ++sent;
    while (domain.receive().value())
        ;
    while (kernel.try_send(17, sent, encode(Route { 1, 1 }, Result { sent })).value())
        ++sent;
    region.header().to_domain_tail.value.store(0);
    auto refused = kernel.try_send(17, sent, encode(Route { 1, 1 }, Result { sent }));
    ASSERT_TRUE(refused.is_error());
    EXPECT_NE(refused.error().message().find("never published"), std::string::npos) << refused.error().message();
}

TEST(HostileRing, ADomainThatStopsConsumingOnlyFillsItsOwnRing)
{
    Region region;
    Ring kernel(Side::Kernel, region.bytes.get());
    unsigned sent = 0;
    while (kernel.try_send(17, sent, encode(Route { 1, 1 }, Result { sent })).value())
        ++sent;
    EXPECT_GT(sent, 0u);
    EXPECT_FALSE(kernel.try_send(17, sent, encode(Route { 1, 1 }, Result { sent })).value());
}

TEST(RingProtocol, DecodesWhatTheDomainEncodes)
{
    Call call;
    call.function = 1; // signet_v1.exit, "i"
    call.argument_count = 1;
    call.arguments[0] = 3;
    auto decoded = decode_to_kernel(Frame { uint16_t(ToKernelType::Call), 0, encode(Route { 1, 1 }, call) });
    ASSERT_FALSE(decoded.is_error()) << decoded.error().message();
    auto const& back = std::get<Call>(decoded.value().message);
    EXPECT_EQ(back.function, 1u);
    EXPECT_EQ(back.arguments[0], 3u);

    Ended ended { Ended::How::Trapped, 4, "out of bounds at 0x10" };
    auto end = decode_to_kernel(Frame { uint16_t(ToKernelType::Ended), 0, encode(Route { 1, 1 }, ended) });
    ASSERT_FALSE(end.is_error());
    EXPECT_EQ(std::get<Ended>(end.value().message).detail, "out of bounds at 0x10");
}

TEST(RingProtocol, ChecksEachArgumentAgainstItsOwnType)
{
    uint32_t const call_index = signet_call_index("channel_call"); // nine 32-bit arguments
    uint32_t const wait_index = signet_call_index("child_wait");   // i32, i64, i32
    Call call;
    call.function = call_index;
    call.argument_count = 9;
    for (uint32_t i = 0; i < 9; ++i)
        call.arguments[i] = 100 + i;
    FromDomain out;
    ASSERT_FALSE(decode_to_kernel(Frame { uint16_t(ToKernelType::Call), 1, encode(Route { 1, 1 }, call) }, out).is_error());
    EXPECT_EQ(std::get<Call>(out.message).arguments[8], 108u);

    // The seventh and ninth are too wide: the first of them is named.
    call.arguments[7] = 1ull << 40;
    call.arguments[8] = 1ull << 33;
    auto refused = decode_to_kernel(Frame { uint16_t(ToKernelType::Call), 2, encode(Route { 1, 1 }, call) });
    ASSERT_TRUE(refused.is_error());
    EXPECT_NE(refused.error().message().find("argument 7 of channel_call is 32-bit but has high bits set"), std::string::npos) << refused.error().message();

    // A 64-bit argument may use every bit; decoded into the same message, the
    // shorter call leaves none of the longer one's arguments behind.
    Call wait;
    wait.function = wait_index;
    wait.argument_count = 3;
    wait.arguments[0] = 5;
    wait.arguments[1] = ~0ull;
    wait.arguments[2] = 6;
    ASSERT_FALSE(decode_to_kernel(Frame { uint16_t(ToKernelType::Call), 3, encode(Route { 1, 1 }, wait) }, out).is_error());
    auto const& back = std::get<Call>(out.message);
    EXPECT_EQ(back.function, wait_index);
    EXPECT_EQ(back.arguments[1], ~0ull);
    for (uint32_t i = 3; i < max_call_arguments; ++i)
        EXPECT_EQ(back.arguments[i], 0u) << i;
    wait.arguments[2] = 1ull << 32;
    EXPECT_TRUE(decode_to_kernel(Frame { uint16_t(ToKernelType::Call), 4, encode(Route { 1, 1 }, wait) }).is_error());
}

TEST(RingProtocol, KnowsWhichArgumentsACallWritesThrough)
{
    // Pointers that are not const in the C declaration (abi_functions.def).
    EXPECT_EQ(abi_calls[signet_call_index("channel_call")].outputs, (1u << 5) | (1u << 6) | (1u << 8));
    EXPECT_EQ(abi_calls[signet_call_index("channel_send")].outputs, 0u);
    EXPECT_EQ(abi_calls[signet_call_index("time_now")].outputs, 1u << 1);
    EXPECT_EQ(abi_calls[signet_call_index("futex_wait")].outputs, 0u); // uint32_t const* address
    EXPECT_EQ(abi_calls[signet_call_index("self_id")].outputs, 0u);
    // 32-bit parameters, from the signature: child_wait is (i32, i64, i32).
    EXPECT_EQ(abi_calls[signet_call_index("child_wait")].narrow, 0b101u);

    // for_each_output visits the outputs that lie inside the memory, in order.
    uint64_t const arguments[9] = { 1, 2, 3, 4, 5, 100, 200, 64, 5000 };
    std::vector<uint64_t> seen;
    for_each_output(signet_call_index("channel_call"), arguments, 4096, [&](uint64_t address) { seen.push_back(address); });
    EXPECT_EQ(seen, (std::vector<uint64_t> { 100, 200 })); // 5000 is past the memory
}

TEST(RingProtocol, RefusesEveryMalformedMessageWithItsReason)
{
    auto refuse = [](uint16_t type, std::vector<uint8_t> payload) {
        auto decoded = decode_to_kernel(Frame { type, 9, std::move(payload) });
        return decoded.is_error() ? decoded.error().message() : std::string("(accepted)");
    };
    Call call;
    call.function = abi_call_count;
    EXPECT_NE(refuse(2, encode(Route { 1, 1 }, call)).find("does not exist"), std::string::npos);
    call.function = 1;
    call.argument_count = 2;
    EXPECT_NE(refuse(2, encode(Route { 1, 1 }, call)).find("takes 1 arguments, the call has 2"), std::string::npos);
    call.argument_count = 1;
    call.arguments[0] = 1ull << 32;
    EXPECT_NE(refuse(2, encode(Route { 1, 1 }, call)).find("high bits set"), std::string::npos);
    call.arguments[0] = 0;
    auto truncated = encode(Route { 1, 1 }, call);
    truncated.pop_back();
    EXPECT_NE(refuse(2, truncated).find("payload is 24 bytes, got 23"), std::string::npos);
    EXPECT_NE(refuse(2, { 1, 2 }).find("has no route"), std::string::npos);
    EXPECT_NE(refuse(2, { 1, 0, 0, 0, 1, 0, 0, 0, 1, 2 }).find("has no function"), std::string::npos);
    EXPECT_NE(refuse(1, { 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3 }).find("hello payload"), std::string::npos);
    EXPECT_NE(refuse(3, encode(Route { 1, 1 }, GrowMemory { 70000 })).find("larger than WebAssembly allows"), std::string::npos);
    EXPECT_NE(refuse(3, encode(Route { 1, 1 }, GrowMemory { 1, 70000 })).find("larger than WebAssembly allows"), std::string::npos);
    auto short_grow = encode(Route { 1, 1 }, GrowMemory { 1, 2 });
    short_grow.resize(short_grow.size() - 8);
    EXPECT_NE(refuse(3, short_grow).find("grow payload is 24 bytes, got 16"), std::string::npos);
    EXPECT_NE(refuse(4, encode(Route { 1, 1 }, Ended { Ended::How::Trapped, 0, "" })).find("(accepted)"), std::string::npos);
    std::vector<uint8_t> too_long(16 + max_detail_bytes + 1, 0);
    too_long[0] = too_long[4] = 1;
    EXPECT_NE(refuse(4, too_long).find("over the limit"), std::string::npos);
    std::vector<uint8_t> bad_reason(16, 0);
    bad_reason[0] = bad_reason[4] = 1;
    bad_reason[8] = 7;
    EXPECT_NE(refuse(4, bad_reason).find("end reason 7"), std::string::npos);
    EXPECT_NE(refuse(99, std::vector<uint8_t>(8, 0)).find("no such message type"), std::string::npos);
    // Routes: the hello is the domain's, SIP-gone a SIP's, the rest a thread's.
    Hello hello { protocol_version, abi_call_count, abi_call_fingerprint(), 1 };
    EXPECT_NE(refuse(1, encode(Route { 1, 0 }, hello)).find("a hello is the domain's"), std::string::npos);
    EXPECT_NE(refuse(1, encode(Route {}, hello)).find("(accepted)"), std::string::npos);
    EXPECT_NE(refuse(5, encode(Route { 1, 1 }, SipGone {})).find("SIP-gone names a SIP and no thread"), std::string::npos);
    EXPECT_NE(refuse(5, encode(Route { 1, 0 }, SipGone {})).find("(accepted)"), std::string::npos);
    // A CPU report: 8 bytes of total, on a SIP and no thread.
    EXPECT_NE(refuse(6, encode(Route { 1, 0 }, CpuUsed { 123 })).find("(accepted)"), std::string::npos);
    EXPECT_NE(refuse(6, encode(Route { 1, 1 }, CpuUsed { 123 })).find("CPU-used names a SIP and no thread"), std::string::npos);
    EXPECT_NE(refuse(6, encode(Route { 0, 0 }, CpuUsed { 123 })).find("CPU-used names a SIP and no thread"), std::string::npos);
    auto short_report = encode(Route { 1, 0 }, CpuUsed { 123 });
    short_report.resize(12);
    EXPECT_NE(refuse(6, short_report).find("a CPU-used payload is 16 bytes, got 12"), std::string::npos);
    EXPECT_NE(refuse(2, encode(Route { 0, 1 }, call)).find("names no SIP or no thread"), std::string::npos);
    EXPECT_NE(refuse(4, encode(Route { 3, 0 }, Ended {})).find("names no SIP or no thread"), std::string::npos);
}

TEST(RingProtocol, TheRosterAdmitsOnlyRoutesOfTheDomain)
{
    Roster roster;
    roster.add_sip(1);
    roster.add_thread({ 1, 2 });
    roster.add_sip(2);
    Call call;
    auto admit = [&](Route route, ToKernel message) {
        auto verdict = roster.admit(FromDomain { route, std::move(message) });
        return verdict.is_error() ? verdict.error().message() : std::string(verdict.value() == Roster::Verdict::Deliver ? "deliver" : verdict.value() == Roster::Verdict::Drop ? "drop" : "gone");
    };
    EXPECT_EQ(admit({ 1, 1 }, call), "deliver");
    EXPECT_EQ(admit({ 1, 2 }, call), "deliver");
    EXPECT_EQ(admit({ 2, 1 }, GrowMemory { 2 }), "deliver");
    EXPECT_EQ(admit({ 0, 0 }, Hello {}), "deliver");
    EXPECT_EQ(admit({ 3, 1 }, call), "a message for SIP 3, which is not in the domain");
    EXPECT_EQ(admit({ 2, 2 }, call), "a message for thread 2 of SIP 2, which has no such thread");
    EXPECT_EQ(admit({ 2, 0 }, SipGone {}), "SIP 2 is gone, says the domain, but the kernel did not end it");
    EXPECT_EQ(admit({ 2, 0 }, CpuUsed { 5 }), "deliver");
    EXPECT_EQ(admit({ 3, 0 }, CpuUsed { 5 }), "a message for SIP 3, which is not in the domain");
    roster.remove_thread({ 1, 2 });
    EXPECT_EQ(admit({ 1, 2 }, Ended {}), "a message for thread 2 of SIP 1, which has no such thread");
    // A SIP the kernel ended: what its threads still send is dropped until it is gone.
    roster.end_sip(2);
    EXPECT_EQ(admit({ 2, 1 }, call), "drop");
    EXPECT_EQ(admit({ 2, 9 }, call), "drop");
    EXPECT_EQ(admit({ 2, 0 }, CpuUsed { 9 }), "drop");
    EXPECT_EQ(admit({ 2, 0 }, SipGone {}), "gone");
    EXPECT_FALSE(roster.contains(2));
    EXPECT_EQ(admit({ 2, 1 }, call), "a message for SIP 2, which is not in the domain");
    EXPECT_EQ(admit({ 2, 0 }, SipGone {}), "a message for SIP 2, which is not in the domain");
}

TEST(RingProtocol, BothEndsNumberTheAbiFunctionsTheSameWay)
{
    EXPECT_EQ(abi_calls[0].name, "abi_version");
    EXPECT_EQ(abi_calls[1].name, "exit");
    EXPECT_NE(abi_call_fingerprint(), 0u);
}

// Deterministic fuzzing, every build: random and mutated scripts against the
// kernel's side (the libFuzzer target FuzzRingDecoder explores further).
TEST(HostileRing, SurvivesThousandsOfRandomDomains)
{
    std::mt19937 random(20071);
    unsigned disconnected = 0, decoded = 0, dropped = 0, cpu_reports = 0, disagreements = 0;
    for (int round = 0; round < 4000; ++round) {
        std::vector<uint8_t> script(random() % 600);
        for (auto& byte : script)
            byte = uint8_t(random());
        // Bias towards well-formed traffic with a little damage, which reaches deeper.
        if (round % 2) {
            for (size_t i = 0; i < script.size(); ++i) {
                if (random() % 8)
                    script[i] = uint8_t((script[i] & ~3u) | (random() % 2 ? 3 : 1));
            }
        }
        auto result = fuzz::drive_kernel_side(script);
        disconnected += result.disconnected;
        decoded += result.frames_decoded;
        dropped += result.frames_dropped;
        cpu_reports += result.cpu_reports;
        disagreements += result.decoders_disagree;
    }
    // The scripts reach every outcome: frames decoded (and some dropped, for a SIP
    // that ended) and domains disconnected.
    EXPECT_GT(disconnected, 100u);
    EXPECT_GT(decoded, 100u);
    EXPECT_GT(dropped, 10u);
    EXPECT_GT(cpu_reports, 10u);
    // Decoding into the message the kernel keeps gives what a fresh decode gives.
    EXPECT_EQ(disagreements, 0u);
}
