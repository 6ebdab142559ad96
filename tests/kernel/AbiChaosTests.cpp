// Hostile SIPs calling every ABI function with random arguments (guests/abi_chaos.c):
// the kernel answers, stops them or, where one blocks for good, lets the test
// kill it — and is left with nothing of them afterwards.
#include "KernelTestSupport.h"
#include "kernel/object/Channel.h"

#include <thread>

using namespace signet;
using namespace signet::testing;

namespace {

// How many hostile SIPs, and how many calls each makes at most (most are
// stopped sooner, by a protocol violation or a trap). SIGNET_CHAOS_SEEDS runs more.
constexpr uint32_t default_seeds = 200;
constexpr uint32_t calls_per_sip = 3000;
constexpr auto patience = std::chrono::milliseconds(150);

SpawnRequest chaos_request(std::shared_ptr<Image> const& chaos, uint32_t seed)
{
    SpawnRequest spawn;
    spawn.image = chaos;
    spawn.name = "abi-chaos";
    spawn.args = { "abi-chaos", std::to_string(seed), std::to_string(calls_per_sip) };
    spawn.stdio.in = std::make_shared<BufferInputStream>("some input\n");
    spawn.stdio.out = std::make_shared<BufferOutputStream>();
    spawn.stdio.err = std::make_shared<BufferOutputStream>();
    spawn.ports = { "echo" }; // net_listen succeeds for one of them at a time
    return spawn;
}

// Waits for `sip` to end until `deadline`, then kills it (blocked for good on
// something of its own); how it ended.
ExitInfo::How end_by(Kernel& kernel, Sip& sip, std::chrono::steady_clock::time_point deadline)
{
    while (sip.state() != Sip::State::Finished && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (sip.state() != Sip::State::Finished)
        kernel.kill(sip);
    return sip.wait_from_host().how;
}

uint32_t seed_count()
{
    if (char const* text = std::getenv("SIGNET_CHAOS_SEEDS"))
        return uint32_t(std::strtoul(text, nullptr, 10));
    return default_seeds;
}

} // namespace

TEST_F(KernelTest, HostileSipsCallingEveryAbiFunctionAtRandomLeaveNothingBehind)
{
    uint64_t channels_before = Channel::live_count();
    // child_create of "abi-chaos" finds a program that prints and exits.
    auto child = image(example("hello_native"));
    ASSERT_TRUE(child);
    m_kernel->register_program("abi-chaos", child);
    auto chaos = image(guest("test_abi_chaos"));
    ASSERT_TRUE(chaos);
    auto port = bind_port("echo", "127.0.0.1:0");
    ASSERT_FALSE(port.is_error()) << port.error().message();
    ASSERT_FALSE(m_kernel->ports().add(port.release_value()).is_error());

    uint32_t exited = 0, stopped = 0, killed = 0;
    for (uint32_t seed = 1; seed <= seed_count(); ++seed) {
        auto spawned = m_kernel->spawn(chaos_request(chaos, seed));
        ASSERT_FALSE(spawned.is_error()) << "seed " << seed << ": " << spawned.error().message();
        switch (end_by(*m_kernel, *spawned.value(), std::chrono::steady_clock::now() + patience)) {
        case ExitInfo::How::Exited:
            ++exited;
            break;
        case ExitInfo::How::Trapped:
            ++stopped;
            break;
        case ExitInfo::How::Killed:
            ++killed;
            break;
        }
    }
    // And sixteen at once, on both workers: wake-ups, steals and kills cross between them.
    std::vector<std::shared_ptr<Sip>> together;
    for (uint32_t seed = 100'001; seed <= 100'016; ++seed) {
        auto spawned = m_kernel->spawn(chaos_request(chaos, seed));
        ASSERT_FALSE(spawned.is_error()) << "seed " << seed << ": " << spawned.error().message();
        together.push_back(spawned.release_value());
    }
    auto together_deadline = std::chrono::steady_clock::now() + 4 * patience;
    for (auto& sip : together)
        end_by(*m_kernel, *sip, together_deadline);
    together.clear();
    // The children some of them started end on their own.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (m_kernel->live_sip_count() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(m_kernel->live_sip_count(), 0u);
    std::printf("abi chaos: %u SIPs: %u ran all their calls, %u were stopped, %u were killed\n", exited + stopped + killed, exited, stopped, killed);
    EXPECT_GT(exited + stopped + killed, 0u);
    m_kernel.reset();
    EXPECT_EQ(Channel::live_count(), channels_before) << "channels outlived their SIPs";
}
