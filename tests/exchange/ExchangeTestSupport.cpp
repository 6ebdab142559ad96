#include "ExchangeTestSupport.h"
#include "kernel/abi/Abi.h"
#include "kernel/object/ExchangeHeap.h"
#include "runtime/BlockArena.h"

#include "exchange.h"

#include <cinttypes>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

namespace signet::testing {

std::string exchange_guest(std::string const& name)
{
    return guest("test_exchange_" + name);
}

PageOrigin page_origin(void const* address)
{
    auto target = reinterpret_cast<uintptr_t>(address);
    PageOrigin origin;
    FILE* maps = std::fopen("/proc/self/maps", "r");
    if (!maps)
        return origin;
    char line[4096];
    while (std::fgets(line, sizeof line, maps)) {
        uintptr_t low = 0, high = 0;
        uint64_t offset = 0;
        int path_at = 0;
        if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %" SCNx64 " %*s %*s %n", &low, &high, &offset, &path_at) < 3)
            continue;
        if (target < low || target >= high)
            continue;
        std::string path = path_at ? line + path_at : "";
        while (!path.empty() && (path.back() == '\n' || path.back() == ' '))
            path.pop_back();
        if (!path.empty() && path.front() == '/') {
            origin.file = path;
            origin.file_offset = offset + (target - low);
        }
        break;
    }
    std::fclose(maps);
    return origin;
}

std::vector<uint64_t> page_frames(void const* address, size_t pages)
{
    std::vector<uint64_t> frames(pages, 0);
    int fd = ::open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return frames;
    std::vector<uint64_t> entries(pages, 0);
    off_t position = static_cast<off_t>(reinterpret_cast<uintptr_t>(address) / 4096 * 8);
    ssize_t n = ::pread(fd, entries.data(), pages * 8, position);
    ::close(fd);
    if (n != static_cast<ssize_t>(pages * 8))
        return frames;
    for (size_t i = 0; i < pages; ++i) {
        if (entries[i] & (1ull << 63)) // present
            frames[i] = entries[i] & ((1ull << 55) - 1);
    }
    return frames;
}

std::vector<uint64_t> heap_file_frames(uint64_t file_offset, size_t pages)
{
    size_t length = pages * 4096;
    void* view = ::mmap(nullptr, length, PROT_READ, MAP_SHARED | MAP_POPULATE, ExchangeHeap::the().fd(), static_cast<off_t>(file_offset));
    if (view == MAP_FAILED)
        return std::vector<uint64_t>(pages, 0);
    auto frames = page_frames(view, pages);
    ::munmap(view, length);
    return frames;
}

uint32_t Observer::scratch() const
{
    auto& memory = *m_self.runtime().wasm_memory;
    VERIFY(memory.size >= 4096);
    return static_cast<uint32_t>(memory.size - 4096);
}

std::optional<Checkpoint> Observer::wait(size_t index)
{
    VERIFY(index < m_probes.size());
    uint32_t at = scratch();
    uint32_t status = Z_signet_v1Z_channel_recv(&m_self, m_probes[index], at, at + 16, 64, at + 4);
    if (status == SIGNET_CLOSED)
        return std::nullopt;
    EXPECT_EQ(status, uint32_t(SIGNET_OK)) << "receive from probe " << index;
    GuestMemory memory(m_self.runtime());
    uint32_t id = 0, length = 0;
    memory.read(at, id);
    memory.read(at + 4, length);
    if (status != SIGNET_OK || id != Probe_MSG_Checkpoint || length != sizeof(Probe_Checkpoint)) {
        ADD_FAILURE() << "probe " << index << " sent message " << id << " of " << length << " bytes";
        return std::nullopt;
    }
    Probe_Checkpoint message {};
    memory.read(at + 16, message);
    return Checkpoint { message.step, message.offset, message.size };
}

void Observer::go(size_t index)
{
    VERIFY(index < m_probes.size());
    EXPECT_EQ(Z_signet_v1Z_channel_send(&m_self, m_probes[index], Probe_MSG_Go, scratch(), 0), uint32_t(SIGNET_OK)) << "let probe " << index << " go";
}

void Observer::kill(Sip& sip)
{
    m_kernel.kill(sip);
    wait_finished(sip);
}

void Observer::wait_finished(Sip& sip)
{
    sip.wait_from_fiber(UINT64_MAX);
}

::testing::AssertionResult Guest::passed() const
{
    ExitInfo info = exit();
    std::string text = output();
    if (info.how == ExitInfo::How::Exited && info.status == 0 && text.find(" checks, 0 failed") != std::string::npos
        && text.find("FAIL") == std::string::npos)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << sip->name() << " " << static_cast<int>(info.how) << "/" << info.status << " "
                                         << trap_kind_name(info.trap) << info.detail << "\nstdout:\n"
                                         << text;
}

void ExchangeTest::SetUp()
{
    KernelTest::SetUp();
    auto program = image(exchange_guest("ownership"));
    ASSERT_TRUE(program);
    m_kernel->register_program("exchange-ownership", program);
}

void ExchangeTest::TearDown()
{
    KernelTest::TearDown();
    EXPECT_EQ(BlockArena::ranges_in_use(), 0u) << "exchange-heap ranges outlived their SIPs";
}

ExchangeTest::Ends ExchangeTest::channel(std::string const& contract)
{
    std::span<uint8_t const> descriptor;
    if (contract == "Chain")
        descriptor = { Chain_descriptor, Chain_DESCRIPTOR_SIZE };
    else if (contract == "Conveyor")
        descriptor = { Conveyor_descriptor, Conveyor_DESCRIPTOR_SIZE };
    else if (contract == "Ownership")
        descriptor = { Ownership_descriptor, Ownership_DESCRIPTOR_SIZE };
    else if (contract == "Probe")
        descriptor = { Probe_descriptor, Probe_DESCRIPTOR_SIZE };
    else if (contract == "Echo")
        descriptor = { Echo_descriptor, Echo_DESCRIPTOR_SIZE };
    VERIFY(!descriptor.empty());
    auto type = m_kernel->contract_type(descriptor);
    VERIFY(!type.is_error());
    auto [importer, exporter] = Channel::create(type.release_value());
    return { importer, exporter };
}

Guest ExchangeTest::create(std::string const& program, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles,
    SipLimits limits)
{
    auto spawn = request(exchange_guest(program), std::move(args));
    spawn.limits = limits;
    Guest guest;
    guest.out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->create_sip(std::move(spawn));
    VERIFY(!sip.is_error());
    guest.sip = sip.release_value();
    for (auto& handle : handles)
        guest.sip->adopt_startup_handle(std::move(handle));
    return guest;
}

Guest ExchangeTest::observe(std::vector<std::shared_ptr<Endpoint>> probes, std::function<void(Observer&)> script)
{
    auto spawn = request(exchange_guest("stage"), { "observer" });
    Kernel* kernel = m_kernel.get();
    spawn.host_entry = [kernel, script = std::move(script)](Sip& self) {
        Observer observer(*kernel, self, self.startup_handles());
        script(observer);
    };
    Guest guest;
    guest.out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    auto sip = m_kernel->create_sip(std::move(spawn));
    VERIFY(!sip.is_error());
    guest.sip = sip.release_value();
    for (auto& probe : probes)
        guest.sip->adopt_startup_handle(std::move(probe));
    return guest;
}

void ExchangeTest::start(std::vector<Guest*> const& guests)
{
    for (auto* guest : guests)
        ASSERT_FALSE(m_kernel->start(*guest->sip).is_error());
}

void ExchangeTest::finish(std::vector<Guest*> const& guests, std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (m_kernel->live_sip_count() != 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::string outputs;
            for (auto* guest : guests) {
                outputs += guest->sip->name() + ":\n" + guest->output();
                m_kernel->kill(*guest->sip);
            }
            ADD_FAILURE() << m_kernel->live_sip_count() << " SIPs still alive after " << limit.count() << " s; their output:\n" << outputs;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    m_kernel->wait_until_idle();
}

} // namespace signet::testing
