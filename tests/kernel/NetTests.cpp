// The network ABI: ports the host binds, the driver that listens on them, and
// clients from the Linux side (docs/network.md). The guest is guests/net_echo.c.
#include "KernelTestSupport.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace signet::testing {
namespace {

class NetTest : public KernelTest {
protected:
    // Binds port "echo" on a free loopback port and hands it to the kernel.
    void SetUp() override
    {
        KernelTest::SetUp();
        bind_echo();
    }

    void bind_echo()
    {
        auto bound = bind_port("echo", "127.0.0.1:0");
        ASSERT_FALSE(bound.is_error()) << bound.error().message();
        m_address = bound.value().address();
        m_port = uint16_t(std::stoul(m_address.substr(m_address.rfind(':') + 1)));
        ASSERT_FALSE(m_kernel->ports().add(bound.release_value()).is_error());
    }

    // A kernel with one worker in place of the fixture's, its own port "echo" bound.
    void with_one_worker()
    {
        m_kernel.reset();
        auto kernel = Kernel::create({ .workers = 1, .diagnostics = m_diagnostics });
        ASSERT_FALSE(kernel.is_error()) << kernel.error().message();
        m_kernel = kernel.release_value();
        bind_echo();
    }

    struct Started {
        std::shared_ptr<Sip> sip;
        std::shared_ptr<BufferOutputStream> out;
    };
    // The guest in `mode`, allowed ports "echo" and "unbound" (which the host did not bind).
    Started start(std::vector<std::string> args)
    {
        auto spawn = request(guest("test_net_echo"), std::move(args));
        spawn.ports = { "echo", "unbound" };
        auto out = std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out);
        auto sip = m_kernel->spawn(std::move(spawn));
        EXPECT_FALSE(sip.is_error()) << sip.error().message();
        return { sip.is_error() ? nullptr : sip.value(), out };
    }

    // A client connected to the port; -1 (and a failure) if it cannot connect.
    int connect_client()
    {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(m_port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
            ADD_FAILURE() << "connect to " << m_address << ": " << std::strerror(errno);
            ::close(fd);
            return -1;
        }
        timeval limit { 10, 0 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        return fd;
    }

    static std::string read_all(int fd, size_t most)
    {
        std::string text;
        char buffer[65536];
        while (text.size() < most) {
            ssize_t got = ::recv(fd, buffer, std::min(sizeof buffer, most - text.size()), 0);
            if (got <= 0)
                break;
            text.append(buffer, size_t(got));
        }
        return text;
    }

    // Waits for the guest to print `text` (its stdout is a buffer the test polls).
    static bool printed(Started const& started, std::string const& text)
    {
        for (int i = 0; i < 500; ++i) {
            if (started.out->contents().find(text) != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    std::string m_address;
    uint16_t m_port { 0 };
};

TEST_F(NetTest, EveryStatusWithoutAClient)
{
    auto guest = start({ "statuses" });
    ASSERT_TRUE(guest.sip);
    auto exit = guest.sip->wait_from_host_for(std::chrono::seconds(10));
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 0) << guest.out->contents() << m_diagnostics->contents();
    EXPECT_EQ(guest.out->contents(), "");
}

TEST_F(NetTest, EchoesBytesBothWaysAndEndsCleanly)
{
    auto guest = start({ "echo", "2" });
    ASSERT_TRUE(guest.sip);
    // A short exchange, then the end of the stream both ways.
    int client = connect_client();
    ASSERT_GE(client, 0);
    ASSERT_EQ(::send(client, "hello", 5, 0), 5);
    EXPECT_EQ(read_all(client, 5), "hello");
    ::shutdown(client, SHUT_WR);
    char byte;
    EXPECT_EQ(::recv(client, &byte, 1, 0), 0) << "the driver finished sending after the client did";
    ::close(client);
    EXPECT_TRUE(printed(guest, "peer 127.0.0.1:")) << guest.out->contents();

    // 8 MiB: more than the socket buffers hold, so the driver's send waits for the client to read.
    client = connect_client();
    ASSERT_GE(client, 0);
    std::string data(8 << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = char('a' + (i * 7919) % 26);
    std::thread writer([&] {
        size_t sent = 0;
        while (sent < data.size()) {
            ssize_t went = ::send(client, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (went <= 0)
                break;
            sent += size_t(went);
        }
        ::shutdown(client, SHUT_WR);
    });
    std::string back = read_all(client, data.size() + 1);
    writer.join();
    ::close(client);
    EXPECT_TRUE(back == data) << "got " << back.size() << " of " << data.size() << " bytes back";
    auto exit = guest.sip->wait_from_host_for(std::chrono::seconds(20));
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 0) << guest.out->contents();
}

TEST_F(NetTest, AClientThatResetsIsClosedToTheDriver)
{
    auto guest = start({ "reset" });
    ASSERT_TRUE(guest.sip);
    int client = connect_client();
    ASSERT_GE(client, 0);
    ASSERT_TRUE(printed(guest, "peer "));
    linger hard { 1, 0 };
    setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(client); // a reset, not an end of stream
    auto exit = guest.sip->wait_from_host_for(std::chrono::seconds(10));
    ASSERT_TRUE(exit.has_value());
    EXPECT_NE(guest.out->contents().find("recv: status 6,"), std::string::npos) << guest.out->contents(); // SIGNET_CLOSED
}

TEST_F(NetTest, ASendToAClientThatDoesNotReadTimesOutPartlySent)
{
    auto guest = start({ "flood", "300" });
    ASSERT_TRUE(guest.sip);
    int client = connect_client();
    ASSERT_GE(client, 0);
    auto exit = guest.sip->wait_from_host_for(std::chrono::seconds(10));
    ::close(client);
    ASSERT_TRUE(exit.has_value());
    EXPECT_NE(guest.out->contents().find("send: status 8, partly sent"), std::string::npos) << guest.out->contents(); // SIGNET_TIMED_OUT
}

TEST_F(NetTest, AKillEndsWaitsForAClientAndForBytes)
{
    for (char const* mode : { "accept", "recv", "select-forever" }) {
        auto guest = start({ mode });
        ASSERT_TRUE(guest.sip);
        int client = -1;
        if (std::string(mode) != "accept") {
            client = connect_client();
            ASSERT_TRUE(printed(guest, "peer "));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_FALSE(guest.sip->wait_from_host_for(std::chrono::milliseconds(1)).has_value()) << mode << ": the guest should still wait";
        m_kernel->kill(*guest.sip);
        auto exit = guest.sip->wait_from_host_for(std::chrono::seconds(5));
        EXPECT_TRUE(exit.has_value()) << mode << ": a kill ends the wait";
        if (client >= 0)
            ::close(client);
    }
}

TEST_F(NetTest, ASelectWaitsOnSocketsAndEndpointsTogether)
{
    // The guest waits in channel_select on an endpoint and a listener, then on an
    // endpoint and a connection: a client that comes, bytes that arrive, a peer
    // that goes and the end of the stream each end the wait, on the right index.
    auto guest = start({ "select" });
    ASSERT_TRUE(guest.sip);
    ASSERT_TRUE(printed(guest, "listening")) << guest.out->contents();
    int client = connect_client();
    ASSERT_GE(client, 0);
    ASSERT_TRUE(printed(guest, "accepted")) << guest.out->contents();
    ASSERT_EQ(::send(client, "ping", 4, 0), 4);
    ASSERT_TRUE(printed(guest, "peer-closed")) << guest.out->contents();
    ::shutdown(client, SHUT_WR);
    auto exit = guest.sip->wait_from_host_for(std::chrono::seconds(10));
    ::close(client);
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 0) << guest.out->contents();
    EXPECT_NE(guest.out->contents().find("select: 0 failures"), std::string::npos) << guest.out->contents();
}

TEST_F(NetTest, AWaitingDriverLeavesItsWorkerToOthers)
{
    // One worker: if a wait for a client blocked it, nothing else would run.
    ASSERT_NO_FATAL_FAILURE(with_one_worker());
    auto waiting = start({ "accept" });
    ASSERT_TRUE(waiting.sip);
    auto other = run(guest("test_yielder"), { "ran" });
    EXPECT_EQ(other.exit.status, 0);
    EXPECT_EQ(other.out, "ran\n");
    m_kernel->kill(*waiting.sip);
    EXPECT_TRUE(waiting.sip->wait_from_host_for(std::chrono::seconds(5)).has_value());
}

TEST_F(NetTest, ASocketWaitEndsWhileEveryWorkerIsBusy)
{
    // One worker, kept busy by a SIP that computes forever: it is never idle, so
    // it never sleeps on the poller's set, and the poller's own host thread must
    // notice the client and the bytes (NetPoller::loop).
    ASSERT_NO_FATAL_FAILURE(with_one_worker());
    auto spinner = m_kernel->spawn(request(guest("test_spinner")));
    ASSERT_FALSE(spinner.is_error()) << spinner.error().message();
    auto driver = start({ "echo", "1" });
    ASSERT_TRUE(driver.sip);
    int client = connect_client();
    ASSERT_GE(client, 0);
    for (int round = 0; round < 5; ++round) {
        std::string text = "round " + std::to_string(round);
        ASSERT_EQ(::send(client, text.data(), text.size(), 0), ssize_t(text.size()));
        EXPECT_EQ(read_all(client, text.size()), text);
    }
    ::shutdown(client, SHUT_WR);
    ::close(client);
    auto exit = driver.sip->wait_from_host_for(std::chrono::seconds(10));
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 0) << driver.out->contents();
    m_kernel->kill(*spinner.value());
    EXPECT_TRUE(spinner.value()->wait_from_host_for(std::chrono::seconds(5)).has_value());
}

TEST_F(NetTest, APortOutlivesItsDriverAndWaitsForTheNext)
{
    auto first = start({ "leave" });
    ASSERT_TRUE(first.sip);
    auto exit = first.sip->wait_from_host_for(std::chrono::seconds(10));
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 0) << first.out->contents();
    // A client now waits in the backlog: the kernel still listens.
    int client = connect_client();
    ASSERT_GE(client, 0);
    ASSERT_EQ(::send(client, "again", 5, 0), 5);
    auto second = start({ "echo", "1" });
    ASSERT_TRUE(second.sip);
    EXPECT_EQ(read_all(client, 5), "again");
    ::shutdown(client, SHUT_WR);
    ::close(client);
    exit = second.sip->wait_from_host_for(std::chrono::seconds(10));
    ASSERT_TRUE(exit.has_value());
    EXPECT_EQ(exit->status, 0) << second.out->contents();
}

TEST(NetPorts, BindingRefusesWhatIsNotAnAddressAndAPortTakenTwice)
{
    for (char const* bad : { "127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:99999", "no.such.host.invalid:80", "1.2.3:x" })
        EXPECT_TRUE(bind_port("web", bad).is_error()) << bad;
    auto first = bind_port("web", "127.0.0.1:0");
    ASSERT_FALSE(first.is_error()) << first.error().message();
    std::string address = first.value().address();
    auto again = bind_port("web", address);
    ASSERT_TRUE(again.is_error());
    EXPECT_NE(again.error().message().find("cannot listen on " + address), std::string::npos) << again.error().message();
    NetRegistry registry;
    ASSERT_FALSE(registry.add(first.release_value()).is_error());
    auto other = bind_port("web", "127.0.0.1:0");
    ASSERT_FALSE(other.is_error());
    auto twice = registry.add(other.release_value());
    ASSERT_TRUE(twice.is_error());
    EXPECT_EQ(twice.error().kind(), ErrorKind::Exists);
    EXPECT_EQ(registry.open("nothing").error().kind(), ErrorKind::NotFound);
    {
        auto open = registry.open("web");
        ASSERT_FALSE(open.is_error());
        EXPECT_EQ(registry.open("web").error().kind(), ErrorKind::Exists);
    }
    EXPECT_FALSE(registry.open("web").is_error()) << "free again once the handle is gone";
}

} // namespace
} // namespace signet::testing
