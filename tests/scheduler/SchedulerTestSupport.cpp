#include "SchedulerTestSupport.h"

#include "scheduler.h"

#include <algorithm>
#include <fstream>
#include <thread>

namespace signet::testing {

std::string scheduler_guest(std::string const& name)
{
    return guest("test_sched_" + name);
}

ErrorOr<size_t> LineCounter::write(std::span<uint8_t const> bytes)
{
    m_lines.fetch_add(static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), uint8_t('\n'))), std::memory_order_acq_rel);
    return bytes.size();
}

void SchedulerTest::SetUp()
{
    m_channels_before = Channel::live_count();
    KernelTest::SetUp();
}

void SchedulerTest::TearDown()
{
    KernelTest::TearDown();
    EXPECT_EQ(Channel::live_count(), m_channels_before) << "channels outlived the kernel and its SIPs";
}

void SchedulerTest::use_kernel(KernelConfig config)
{
    m_kernel.reset();
    config.diagnostics = m_diagnostics;
    auto kernel = Kernel::create(std::move(config));
    ASSERT_FALSE(kernel.is_error());
    m_kernel = kernel.release_value();
}

SchedulerTest::Ends SchedulerTest::channel(std::string const& contract)
{
    std::span<uint8_t const> descriptor;
    if (contract == "PingPong")
        descriptor = { PingPong_descriptor, PingPong_DESCRIPTOR_SIZE };
    else if (contract == "Gate")
        descriptor = { Gate_descriptor, Gate_DESCRIPTOR_SIZE };
    VERIFY(!descriptor.empty());
    auto type = m_kernel->contract_type(descriptor);
    VERIFY(!type.is_error());
    auto [importer, exporter] = Channel::create(type.release_value());
    return { importer, exporter };
}

std::shared_ptr<Sip> SchedulerTest::create(std::string const& name, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles,
    SipLimits limits, std::shared_ptr<OutputStream> out)
{
    auto spawn = request(scheduler_guest(name), std::move(args));
    VERIFY(spawn.image);
    spawn.limits = limits;
    auto buffer = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
    if (out)
        spawn.stdio.out = std::move(out);
    auto sip = m_kernel->create_sip(std::move(spawn));
    VERIFY(!sip.is_error());
    for (auto& handle : handles)
        sip.value()->adopt_startup_handle(std::move(handle));
    if (!out)
        m_outputs[sip.value().get()] = buffer;
    return sip.release_value();
}

std::shared_ptr<Sip> SchedulerTest::spawn(std::string const& name, std::vector<std::string> args, std::vector<std::shared_ptr<Endpoint>> handles,
    SipLimits limits, std::shared_ptr<OutputStream> out)
{
    auto sip = create(name, std::move(args), std::move(handles), limits, std::move(out));
    VERIFY(!m_kernel->start(*sip).is_error());
    return sip;
}

bool SchedulerTest::wait_until(std::function<bool()> const& condition, std::chrono::seconds limit)
{
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

void SchedulerTest::finish_all(std::vector<std::shared_ptr<Sip>> const& sips, std::chrono::seconds limit)
{
    auto unfinished = [&] {
        return std::count_if(sips.begin(), sips.end(), [](auto const& sip) { return sip->state() != Sip::State::Finished; });
    };
    if (!wait_until([&] { return unfinished() == 0; }, limit)) {
        ADD_FAILURE() << unfinished() << " of " << sips.size() << " SIPs still running after " << limit.count() << " s: killing them";
        for (auto const& sip : sips)
            m_kernel->kill(*sip);
    }
    for (auto const& sip : sips)
        sip->wait_from_host();
}

std::string SchedulerTest::output_of(Sip const& sip) const
{
    auto it = m_outputs.find(&sip);
    return it == m_outputs.end() ? std::string() : it->second->contents();
}

::testing::AssertionResult SchedulerTest::exited_cleanly(Sip const& sip) const
{
    auto exit = sip.exit_info();
    if (sip.state() == Sip::State::Finished && exit.how == ExitInfo::How::Exited && exit.status == 0)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << sip.name() << " " << sip.id() << " ended " << static_cast<int>(exit.how) << "/" << exit.status
                                         << " " << trap_kind_name(exit.trap) << exit.detail << "\nstdout:\n"
                                         << output_of(sip);
}

size_t mapping_count()
{
    std::ifstream maps("/proc/self/maps");
    return static_cast<size_t>(std::count(std::istreambuf_iterator<char>(maps), std::istreambuf_iterator<char>(), '\n'));
}

uint64_t steals(Kernel& kernel)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < kernel.scheduler().worker_count(); ++i)
        total += kernel.scheduler().worker(i).steals();
    return total;
}

uint64_t remote_wakes(Kernel& kernel)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < kernel.scheduler().worker_count(); ++i)
        total += kernel.scheduler().worker(i).remote_wakes();
    return total;
}

} // namespace signet::testing
