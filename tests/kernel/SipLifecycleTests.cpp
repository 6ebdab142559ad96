// SIP create, start, exit, kill, and the reclamation of everything a SIP held.
#include "KernelTestSupport.h"
#include "kernel/abi/WasiFiles.h"
#include "kernel/object/Channel.h"
#include "kernel/sched/Stack.h"
#include "runtime/LinearMemory.h"

#include "FileSystem.h"

#include <fstream>
#include <thread>

using namespace signet;
using namespace signet::testing;

namespace {

uint64_t resident_kib()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoull(line.substr(6));
    }
    return 0;
}

uint64_t mapping_count()
{
    std::ifstream maps("/proc/self/maps");
    std::string line;
    uint64_t count = 0;
    while (std::getline(maps, line))
        ++count;
    return count;
}

} // namespace

TEST_F(KernelTest, ACreatedSipDoesNotRunUntilStarted)
{
    auto spawn = request(example("hello_native"));
    auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->create_sip(std::move(spawn));
    ASSERT_FALSE(sip.is_error());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(sip.value()->state(), Sip::State::Created);
    EXPECT_EQ(out->contents(), "");
    ASSERT_FALSE(m_kernel->start(*sip.value()).is_error());
    EXPECT_TRUE(m_kernel->start(*sip.value()).is_error()) << "a SIP starts once";
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Exited);
    EXPECT_EQ(out->contents(), "Hello from a native SIP, speaking signet_v1 directly.\n");
}

TEST_F(KernelTest, KillEndsASleepingSip)
{
    auto sip = m_kernel->spawn(request(guest("test_sleeper")));
    ASSERT_FALSE(sip.is_error());
    // A bounded wait on a SIP that goes on ends with nothing.
    EXPECT_FALSE(sip.value()->wait_from_host_for(std::chrono::milliseconds(20)).has_value());
    m_kernel->kill(*sip.value());
    auto bounded = sip.value()->wait_from_host_for(std::chrono::seconds(30));
    ASSERT_TRUE(bounded.has_value()) << "a killed SIP did not finish within 30 s";
    EXPECT_EQ(bounded->how, ExitInfo::How::Killed);
    auto exit = sip.value()->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    EXPECT_EQ(exit.host_exit_status(), 137);
    EXPECT_NE(m_diagnostics->contents().find("was killed"), std::string::npos);
}

namespace {

// Kills a SIP blocked reading a pipe nobody writes to, and checks that nothing
// of its abandoned read is left once the read returns: not its call, whose job
// holds the stream.
void kill_while_reading(std::unique_ptr<Kernel>& kernel, SpawnRequest spawn)
{
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    spawn.stdio.in = std::make_shared<FdInputStream>(fds[0]);
    std::weak_ptr<InputStream> input = spawn.stdio.in;
    auto spawned = kernel->spawn(std::move(spawn));
    ASSERT_FALSE(spawned.is_error());
    auto sip = spawned.release_value();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    kernel->kill(*sip);
    auto exit = sip->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    // Unblock the abandoned host read so the I/O thread can finish.
    ASSERT_EQ(::write(fds[1], "x", 1), 1);
    ::close(fds[1]);
    kernel.reset();
    sip.reset();
    for (int i = 0; i < 200 && !input.expired(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(input.expired()) << "the killed read's call (and the stream it holds) leaked";
    ::close(fds[0]);
}

} // namespace

TEST_F(KernelTest, KillEndsASipBlockedOnInputThatNeverComes)
{
    kill_while_reading(m_kernel, request(guest("test_sleeper"), { "read" }));
}

TEST_F(KernelTest, KillEndsAWasiProgramBlockedOnInputThatNeverComes)
{
    kill_while_reading(m_kernel, request(guest("test_stdin_reader")));
}

// Two threads of a WASI program make file calls on a directory whose server
// never answers: one waits for its reply, the other for its turn. A kill ends
// both, and nothing of the program's files is left.
TEST_F(KernelTest, KillEndsAWasiProgramWhoseThreadsWaitForAFileServer)
{
    auto file_system = m_kernel->contract_type({ FileSystem_descriptor, FileSystem_DESCRIPTOR_SIZE });
    ASSERT_FALSE(file_system.is_error()) << file_system.error().message();
    auto [importer, exporter] = Channel::create(file_system.release_value());
    auto created = m_kernel->create_sip(request(guest("test_file_waiters")));
    ASSERT_FALSE(created.is_error()) << created.error().message();
    auto sip = created.release_value();
    ASSERT_FALSE(add_wasi_preopen(*sip, "/data", std::move(importer)).is_error());
    std::weak_ptr<WasiFileTable> files = sip->wasi_files;
    ASSERT_FALSE(m_kernel->start(*sip).is_error());
    // The first request reaches the server; the other thread then waits its turn.
    auto request_arrived = [&] {
        std::lock_guard guard(exporter->channel().lock());
        return exporter->channel().front(*exporter) != nullptr;
    };
    for (int i = 0; i < 400 && !request_arrived(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(request_arrived()) << "no file request reached the server";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(sip->state(), Sip::State::Running);
    m_kernel->kill(*sip);
    auto exit = sip->wait_from_host();
    EXPECT_EQ(exit.how, ExitInfo::How::Killed);
    sip.reset();
    for (int i = 0; i < 200 && !files.expired(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(files.expired()) << "the killed program's descriptors leaked";
    std::lock_guard guard(exporter->channel().lock());
    EXPECT_TRUE(exporter->channel().peer_gone(*exporter)) << "the server does not see the program's end close";
}

TEST_F(KernelTest, KillingASipThatNeverStartedFinishesIt)
{
    auto sip = m_kernel->create_sip(request(example("hello_native")));
    ASSERT_FALSE(sip.is_error());
    m_kernel->kill(*sip.value());
    EXPECT_EQ(sip.value()->wait_from_host().how, ExitInfo::How::Killed);
    EXPECT_EQ(m_kernel->live_sip_count(), 0u);
}

TEST_F(KernelTest, ThousandsOfSipsComeAndGoWithoutLeakingMemoryStacksOrMappings)
{
    auto image_for = image(example("hello_native"));
    ASSERT_TRUE(image_for);
    auto spawn_batch = [&](int count) {
        std::vector<std::shared_ptr<Sip>> sips;
        for (int i = 0; i < count; ++i) {
            SpawnRequest spawn;
            spawn.image = image_for;
            spawn.name = "hello_native";
            spawn.args = { "hello_native" };
            spawn.stdio.out = std::make_shared<BufferOutputStream>();
            spawn.stdio.err = spawn.stdio.out;
            auto sip = m_kernel->spawn(std::move(spawn));
            ASSERT_FALSE(sip.is_error());
            sips.push_back(sip.release_value());
        }
        for (auto& sip : sips)
            ASSERT_EQ(sip->wait_from_host().how, ExitInfo::How::Exited);
    };
    // Warm up until the pools of memory reservations and stacks are full, then measure.
    for (int round = 0; round < 5; ++round)
        spawn_batch(200);
    m_kernel->wait_until_idle();
    [[maybe_unused]] uint64_t rss_before = resident_kib(); // unused under ASan (below)
    uint64_t maps_before = mapping_count();
    for (int round = 0; round < 25; ++round)
        spawn_batch(200);
    m_kernel->wait_until_idle();
    EXPECT_EQ(m_kernel->live_sip_count(), 0u);
    // With no SIP alive, only the pools hold reservations (at most 64) and stacks (at most 256).
    EXPECT_LE(LinearMemory::live_reservations(), 64u);
    EXPECT_LE(Stack::live_stacks(), 256u);
    // The pools may still fill up (to 256 stacks and 64 memories, two mappings each,
    // depending on how many SIPs happened to be alive at once); a leak of even one
    // mapping per SIP would add 5000.
    EXPECT_LE(mapping_count(), maps_before + 2 * (256 + 64)) << "mappings grew over 5000 SIPs";
#if !defined(__SANITIZE_ADDRESS__) // its quarantine holds freed memory back on purpose
    EXPECT_LE(resident_kib(), rss_before + 16 * 1024) << "resident memory grew by more than 16 MiB over 5000 SIPs";
#endif
}
