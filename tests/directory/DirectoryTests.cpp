// The directory service end to end: the directory SIP started by the host
// (SystemDirectory) with a policy, services and clients as guests
// (guests/dirguest.c) each started with their own Directory connection.
#include "KernelTestSupport.h"
#include "services/directory/SystemDirectory.h"

#include <signet/abi.h>

#include <chrono>
#include <thread>

namespace signet::testing {
namespace {

using namespace std::chrono_literals;

struct Guest {
    std::shared_ptr<Sip> sip;
    std::shared_ptr<BufferOutputStream> out;

    // Waits until the guest printed `text`; false if it ended or `limit` passed first.
    bool wait_for(std::string const& text, std::chrono::seconds limit = 30s) const
    {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (out->contents().find(text) == std::string::npos) {
            if (std::chrono::steady_clock::now() > deadline)
                return false;
            std::this_thread::sleep_for(1ms);
        }
        return true;
    }
};

class DirectoryTest : public KernelTest {
protected:
    void SetUp() override
    {
        m_channels_before = Channel::live_count();
        KernelTest::SetUp();
        Kernel::ProgramInfo directory;
        directory.image = image(SIGNET_DIRECTORY_WASM);
        ASSERT_TRUE(directory.image);
        directory.principal = "signet-system/directory";
        directory.may_create_children = false;
        m_kernel->register_program("directory", directory);
        Kernel::ProgramInfo guest_program;
        guest_program.image = image(guest("dirguest"));
        ASSERT_TRUE(guest_program.image);
        guest_program.principal = "test/dirguest";
        m_kernel->register_program("dirguest", guest_program);
    }

    void TearDown() override
    {
        for (auto& guest : m_guests)
            m_kernel->kill(*guest.sip);
        if (m_directory)
            m_directory->stop();
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (m_kernel->live_sip_count() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(1ms);
        EXPECT_EQ(m_kernel->live_sip_count(), 0u);
        m_guests.clear();
        m_directory.reset();
        KernelTest::TearDown();
        EXPECT_EQ(Channel::live_count(), m_channels_before) << "channels outlived the kernel";
    }

    void start_directory(DirectoryPolicy const& policy = {})
    {
        auto directory = SystemDirectory::start(*m_kernel, "directory", policy);
        ASSERT_FALSE(directory.is_error()) << directory.error().message();
        m_directory = directory.release_value();
    }

    void start_directory(std::string const& policy_text)
    {
        auto policy = DirectoryPolicy::parse(policy_text, "policy.toml");
        ASSERT_FALSE(policy.is_error()) << policy.error().message();
        start_directory(policy.value());
    }

    // Starts the guest in `role` with its own Directory connection.
    Guest start(std::vector<std::string> args, std::string const& principal = "test/dirguest", bool may_create_children = true)
    {
        auto spawn = request(guest("dirguest"), std::move(args));
        spawn.principal = principal;
        spawn.may_create_children = may_create_children;
        Guest guest { nullptr, std::static_pointer_cast<BufferOutputStream>(spawn.stdio.out) };
        auto sip = m_kernel->create_sip(std::move(spawn));
        EXPECT_FALSE(sip.is_error());
        if (sip.is_error())
            return guest;
        auto connection = m_directory->connect();
        EXPECT_FALSE(connection.is_error()) << connection.error().message();
        if (!connection.is_error())
            sip.value()->adopt_startup_handle(connection.release_value());
        EXPECT_FALSE(m_kernel->start(*sip.value()).is_error());
        guest.sip = sip.release_value();
        m_guests.push_back(guest);
        return guest;
    }

    // Runs the guest to its end; its output, or a failure if it takes more than a minute.
    std::string run_to_end(std::vector<std::string> args, std::string const& principal = "test/dirguest", bool may_create_children = true)
    {
        Guest guest = start(std::move(args), principal, may_create_children);
        if (!guest.sip)
            return {};
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (guest.sip->state() != Sip::State::Finished) {
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "the guest did not end; output so far:\n" << guest.out->contents() << "diagnostics:\n" << m_diagnostics->contents();
                m_kernel->kill(*guest.sip);
                break;
            }
            std::this_thread::sleep_for(1ms);
        }
        return guest.out->contents();
    }

    Guest start_service(std::string const& path, std::string const& kind, std::string const& count = "0", std::string const& principal = "test/dirguest")
    {
        Guest service = start({ "service", path, kind, count }, principal);
        EXPECT_TRUE(service.wait_for("registered " + path)) << service.out->contents() << m_diagnostics->contents();
        return service;
    }

    uint64_t m_channels_before { 0 };
    std::unique_ptr<SystemDirectory> m_directory;
    std::vector<Guest> m_guests;
};

TEST_F(DirectoryTest, AClientBindsARegisteredServiceAndTalksToIt)
{
    start_directory();
    start_service("/service/echo", "echo");
    std::string out = run_to_end({ "bind", "/service/echo" }, "test/client");
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
    // The service asks the kernel who holds the other end of the client's channel.
    EXPECT_NE(out.find("service sees test/client\n"), std::string::npos) << out;
}

TEST_F(DirectoryTest, AClientOpensAServiceWhoseClientsSpeakFirst)
{
    start_directory();
    start_service("/dev/counter", "counter");
    std::string out = run_to_end({ "open", "/dev/counter" });
    EXPECT_NE(out.find("value 1\nvalue 2\n"), std::string::npos) << out;
}

TEST_F(DirectoryTest, BindingAnUnknownPathIsRefusedWithAReasonAndLogged)
{
    start_directory();
    std::string out = run_to_end({ "bind", "/service/nobody" }, "test/lost-client");
    EXPECT_NE(out.find("refused 1 no service is registered at /service/nobody"), std::string::npos) << out;
    EXPECT_NE(m_diagnostics->contents().find("directory: refused bind of /service/nobody by test/lost-client: NotFound"), std::string::npos)
        << m_diagnostics->contents();
    out = run_to_end({ "open", "/service/bad//path" });
    EXPECT_NE(out.find("refused 4 "), std::string::npos) << out;
}

TEST_F(DirectoryTest, AServiceRefusesAnEndOfAnotherContract)
{
    start_directory();
    // A counter service is bound with an Echo end: it checks what it got and declines.
    start_service("/service/counter", "counter");
    std::string out = run_to_end({ "bind", "/service/counter" });
    EXPECT_NE(out.find("refused 6 the service declined: not an Echo end"), std::string::npos) << out;
}

TEST_F(DirectoryTest, ALongReasonIsCutAtACharacterBoundary)
{
    start_directory();
    start_service("/service/rude", "decline");
    std::string out = run_to_end({ "open", "/service/rude" });
    // "the service declined: " (22 bytes) and as many whole two-byte characters as fit in 199.
    std::string expected = "refused 6 the service declined: ";
    for (int i = 0; i < 88; ++i)
        expected += "\xC3\xA9";
    EXPECT_NE(out.find(expected + "\n"), std::string::npos) << out;
}

TEST_F(DirectoryTest, ASecondRegistrationOfALivePathIsRefused)
{
    start_directory();
    start_service("/service/echo", "echo", "0", "test/first");
    std::string out = run_to_end({ "register", "/service/echo" }, "test/second");
    EXPECT_NE(out.find("refused 3 /service/echo is already registered by test/first"), std::string::npos) << out;
    EXPECT_NE(m_diagnostics->contents().find("refused register of /service/echo by test/second: Duplicate"), std::string::npos);
    // Nobody registers the directory's own path.
    out = run_to_end({ "register", "/service/directory" });
    EXPECT_NE(out.find("refused 3 /service/directory is served by the directory itself"), std::string::npos) << out;
    // The first service still serves.
    out = run_to_end({ "bind", "/service/echo" });
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
}

TEST_F(DirectoryTest, WithDuplicatesReplacedTheNewRegistrationWins)
{
    start_directory("[directory]\nduplicates = \"replace\"\n");
    Guest first = start_service("/service/echo", "echo", "0", "test/first");
    start_service("/service/echo", "counter", "0", "test/second");
    // The old provider was closed: the first service sees its registration end.
    EXPECT_TRUE(first.wait_for("provider closed")) << first.out->contents();
    std::string out = run_to_end({ "open", "/service/echo" });
    EXPECT_NE(out.find("value 1"), std::string::npos) << out;
}

TEST_F(DirectoryTest, AServiceThatDiesIsUnregisteredAndCanBeBoundAgainAfterARestart)
{
    start_directory();
    // This service ends after its first client leaves.
    start_service("/service/echo", "echo", "1");
    std::string out = run_to_end({ "bind", "/service/echo" });
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
    // Until the directory has seen the provider close, a Bind may still reach the
    // dying service (and be refused as Gone); after that, the path is unknown.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (m_diagnostics->contents().find("/service/echo (registered by test/dirguest) unregistered: its provider closed") == std::string::npos
        && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    out = run_to_end({ "bind", "/service/echo" });
    EXPECT_NE(out.find("refused 1 "), std::string::npos) << out;
    // Restarted, it registers the same path and serves again.
    start_service("/service/echo", "echo", "1");
    out = run_to_end({ "bind", "/service/echo" });
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
}

TEST_F(DirectoryTest, AKilledServiceIsUnregisteredToo)
{
    start_directory();
    Guest service = start_service("/service/echo", "echo");
    m_kernel->kill(*service.sip);
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (m_diagnostics->contents().find("unregistered: its provider closed") == std::string::npos && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    EXPECT_NE(m_diagnostics->contents().find("unregistered: its provider closed"), std::string::npos);
    start_service("/service/echo", "echo");
    std::string out = run_to_end({ "bind", "/service/echo" });
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
}

TEST_F(DirectoryTest, APolicyDeniesByPrincipalAndSaysWhy)
{
    start_directory(R"(
[directory]
[[directory.rule]]
action = "register"
path = "/service/**"
principal = "trusted/*"
effect = "allow"

[[directory.rule]]
action = "register"
path = "/**"
effect = "deny"
reason = "only trusted publishers export services"

[[directory.rule]]
action = "bind"
path = "/service/secret"
principal = "*/* <- admin/*"
effect = "allow"

[[directory.rule]]
action = "bind"
path = "/service/secret"
effect = "deny"
reason = "the secret service serves administrators' children"
)");
    std::string out = run_to_end({ "register", "/service/echo" }, "untrusted/service");
    EXPECT_NE(out.find("refused 2 only trusted publishers export services"), std::string::npos) << out;
    EXPECT_NE(m_diagnostics->contents().find("refused register of /service/echo by untrusted/service: Denied"), std::string::npos);

    start_service("/service/secret", "echo", "0", "trusted/secret");
    out = run_to_end({ "bind", "/service/secret" }, "test/client");
    EXPECT_NE(out.find("refused 2 the secret service serves administrators' children"), std::string::npos) << out;
    EXPECT_NE(m_diagnostics->contents().find("refused bind of /service/secret by test/client: Denied"), std::string::npos);
    // The principal chain decides: a program started by an administrator tool may bind.
    out = run_to_end({ "bind", "/service/secret" }, "test/client <- admin/shell");
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
    EXPECT_NE(out.find("service sees test/client <- admin/shell"), std::string::npos) << out;
}

TEST_F(DirectoryTest, WithDeclaredServicesAProgramRegistersOnlyWhatItsManifestDeclares)
{
    auto policy = DirectoryPolicy::parse("[directory]\nservices = \"declared\"\n", "policy.toml");
    ASSERT_FALSE(policy.is_error());
    policy.value().declared_services.emplace_back("test/echo-service", "/service/echo");
    start_directory(policy.value());
    std::string out = run_to_end({ "register", "/service/other" }, "test/echo-service");
    EXPECT_NE(out.find("refused 2 its program's manifest does not declare the service /service/other"), std::string::npos) << out;
    out = run_to_end({ "register", "/service/echo" }, "test/impostor");
    EXPECT_NE(out.find("refused 2 "), std::string::npos) << out;
    // The program that declares it registers it, whoever started it.
    start_service("/service/echo", "echo", "0", "test/echo-service <- test/launcher");
    out = run_to_end({ "bind", "/service/echo" });
    EXPECT_NE(out.find("said hello"), std::string::npos) << out;
}

TEST_F(DirectoryTest, ADefaultDenyPolicyRefusesWhatNoRuleAllows)
{
    start_directory("[directory]\nregister = \"deny\"\nbind = \"deny\"\n");
    std::string out = run_to_end({ "register", "/service/echo" });
    EXPECT_NE(out.find("refused 2 the policy denies it by default"), std::string::npos) << out;
    out = run_to_end({ "open", "/service/directory" });
    EXPECT_NE(out.find("refused 2 "), std::string::npos) << out;
}

TEST_F(DirectoryTest, OpeningTheDirectoryItselfGivesANewConnection)
{
    start_directory();
    std::string out = run_to_end({ "self" });
    EXPECT_NE(out.find("check 0\n"), std::string::npos) << out;
    EXPECT_NE(out.find("refused 1 no service is registered at /service/nothing-here"), std::string::npos) << out;
}

TEST_F(DirectoryTest, AParentGivesAChildItsOwnConnection)
{
    // A program whose manifest requires a Directory connection.
    Kernel::ProgramInfo info = *m_kernel->find_program_info("dirguest");
    info.principal = "test/connected";
    info.endpoints.push_back({ "directory", "Directory", contracts::End::Imp, "Start", 0, {} });
    m_kernel->register_program("dirguest-connected", info);
    start_directory();
    start_service("/service/echo", "echo");
    std::string out = run_to_end({ "parent" }, "test/parent");
    EXPECT_NE(out.find("without a connection: status " + std::to_string(SIGNET_INVALID_ARGUMENT)), std::string::npos) << out;
    EXPECT_NE(m_diagnostics->contents().find("cannot start dirguest-connected: required endpoint directory (Directory.Imp:Start) is not bound"),
        std::string::npos)
        << m_diagnostics->contents();
    EXPECT_NE(out.find("with a connection: status 0"), std::string::npos) << out;
    // The child binds through its own connection, and the service sees who it is.
    EXPECT_NE(out.find("service sees test/connected <- test/parent\n"), std::string::npos) << out;
    EXPECT_NE(out.find("child exited 0"), std::string::npos) << out;
}

TEST_F(DirectoryTest, NoSipCanTakeEveryConnection)
{
    start_directory();
    // Each principal may hold 8 connections it opened; then Limit.
    Guest first = start({ "flood" }, "test/flood-a");
    ASSERT_TRUE(first.wait_for("opened 8\n")) << first.out->contents();
    EXPECT_NE(first.out->contents().find("refused 5 test/flood-a has 8 connections open already"), std::string::npos) << first.out->contents();
    // Others fill the directory up to the kernel's reserve: 48 connections, 8 kept for the kernel.
    std::vector<Guest> others;
    for (char const* name : { "test/flood-b", "test/flood-c", "test/flood-d", "test/flood-e" })
        others.push_back(start({ "flood" }, name));
    for (auto const& other : others)
        ASSERT_TRUE(other.wait_for("opened ")) << other.out->contents();
    std::string all;
    for (auto const& other : others)
        all += other.out->contents();
    EXPECT_NE(all.find("the last 8 connections are kept for the kernel"), std::string::npos) << all;
    // The kernel still connects new SIPs, and their requests are served.
    std::string out = run_to_end({ "bind", "/service/nothing" });
    EXPECT_NE(out.find("refused 1 no service is registered at /service/nothing"), std::string::npos) << out;
}

TEST_F(DirectoryTest, ThePeerPrincipalFollowsAnEndAsItTravels)
{
    start_directory();
    start_service("/service/echo", "echo");
    std::string out = run_to_end({ "handoff", "/service/echo" }, "test/parent");
    EXPECT_NE(out.find("before test/parent\n"), std::string::npos) << out;
    EXPECT_NE(out.find("local peer before test/parent\n"), std::string::npos) << out;
    EXPECT_NE(out.find("handoff peer test/dirguest <- test/parent\n"), std::string::npos) << out;
    EXPECT_NE(out.find("in transit: status " + std::to_string(SIGNET_WOULD_BLOCK) + "\n"), std::string::npos) << out;
    EXPECT_NE(out.find("local peer after test/dirguest <- test/parent\n"), std::string::npos) << out;
    // The service, asked over the end the child now holds, names the child.
    EXPECT_NE(out.find("after test/dirguest <- test/parent\n"), std::string::npos) << out;
    EXPECT_NE(out.find("after child: status " + std::to_string(SIGNET_CLOSED) + "\n"), std::string::npos) << out;
}

TEST_F(DirectoryTest, PeerPrincipalAndEndpointCheckGiveEveryDocumentedStatus)
{
    start_directory();
    std::string out = run_to_end({ "conformance" });
    EXPECT_NE(out.find("conformance: 0 failed"), std::string::npos) << out;
    EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
}

TEST_F(DirectoryTest, CreatingAChildWithoutThePrivilegeIsDenied)
{
    start_directory();
    std::string out = run_to_end({ "spawn" }, "test/unprivileged", false);
    EXPECT_NE(out.find("child_create: status " + std::to_string(SIGNET_DENIED)), std::string::npos) << out;
    EXPECT_NE(m_diagnostics->contents().find("cannot start dirguest: its manifest does not grant privileges.create_children"), std::string::npos);
    // With it, the same call starts the child (which ends at once: it was given no Handoff end).
    out = run_to_end({ "spawn" }, "test/privileged", true);
    EXPECT_NE(out.find("child_create: status 0"), std::string::npos) << out;
}

TEST_F(DirectoryTest, AChildInheritsTheRefusalFromItsProgram)
{
    // A program registered without the privilege: its SIPs, created by a privileged parent, cannot create children.
    Kernel::ProgramInfo info = *m_kernel->find_program_info("dirguest");
    info.may_create_children = false;
    info.principal = "test/restricted";
    m_kernel->register_program("dirguest", info);
    start_directory();
    start_service("/service/echo", "echo");
    std::string out = run_to_end({ "handoff", "/service/echo" }, "test/parent");
    // The parent may create the child; the child itself (test/restricted) could not.
    EXPECT_NE(out.find("handoff peer test/restricted <- test/parent"), std::string::npos) << out;
}

TEST_F(DirectoryTest, TheHostLooksUpWhoRegisteredAPath)
{
    start_directory();
    auto nobody = m_directory->lookup("/service/echo");
    ASSERT_TRUE(nobody.is_error());
    EXPECT_EQ(nobody.error().kind(), ErrorKind::NotFound);
    EXPECT_NE(nobody.error().message().find("no service is registered at /service/echo"), std::string::npos) << nobody.error().message();
    start_service("/service/echo", "echo", "0", "test/echo-server");
    auto found = m_directory->lookup("/service/echo");
    ASSERT_FALSE(found.is_error()) << found.error().message();
    EXPECT_EQ(found.value(), "test/echo-server");
    auto self = m_directory->lookup("/service/directory");
    ASSERT_FALSE(self.is_error()) << self.error().message();
    EXPECT_EQ(self.value(), "signet-system/directory");
    auto bad = m_directory->lookup("/service//echo");
    ASSERT_TRUE(bad.is_error());
    EXPECT_EQ(bad.error().kind(), ErrorKind::InvalidInput);
}

TEST_F(DirectoryTest, AwaitingARegistrationReturnsOnceTheServiceRegistered)
{
    start_directory();
    // It registers 300 ms after it starts; a lookup at once finds nothing.
    Guest late = start({ "late-service", "/service/late", "echo", "0" }, "test/late");
    auto registered = m_directory->await_registration(*late.sip, { "/service/late" }, 30s);
    ASSERT_FALSE(registered.is_error()) << registered.error().message();
    auto found = m_directory->lookup("/service/late");
    ASSERT_FALSE(found.is_error()) << found.error().message();
    EXPECT_EQ(found.value(), "test/late");
    // A SIP whose program declares nothing has nothing to wait for.
    EXPECT_FALSE(m_directory->await_registration(*late.sip, {}, 0s).is_error());
}

TEST_F(DirectoryTest, AwaitingARegistrationFailsNamingTheServiceWhenItEndsFirst)
{
    start_directory();
    Guest quitter = start({ "bind", "/service/nobody" }, "test/quitter");
    auto registered = m_directory->await_registration(*quitter.sip, { "/service/wanted" }, 30s);
    ASSERT_TRUE(registered.is_error());
    EXPECT_EQ(registered.error().message(), quitter.sip->name() + " ended before it registered /service/wanted: it exited with status 3");
}

TEST_F(DirectoryTest, AwaitingARegistrationFailsWhenAnotherSipHoldsThePathOrTheTimeoutPasses)
{
    start_directory();
    start_service("/service/echo", "echo", "0", "test/first");
    Guest second = start_service("/service/other", "echo", "0", "test/second");
    auto taken = m_directory->await_registration(*second.sip, { "/service/other", "/service/echo" }, 30s);
    ASSERT_TRUE(taken.is_error());
    EXPECT_EQ(taken.error().message(), second.sip->name() + " cannot serve /service/echo: test/first registered it first");
    auto late = m_directory->await_registration(*second.sip, { "/service/never" }, 200ms);
    ASSERT_TRUE(late.is_error());
    EXPECT_EQ(late.error().kind(), ErrorKind::Limit);
    EXPECT_EQ(late.error().message(), second.sip->name() + " did not register /service/never within 200 ms");
}

// Under `signet boot` the terminal is the console's alone: the directory gets the streams it is given.
TEST_F(DirectoryTest, TheDirectoryRunsWithTheStreamsItIsGiven)
{
    auto log = std::make_shared<BufferOutputStream>();
    auto directory = SystemDirectory::start(*m_kernel, "directory", {}, Stdio { nullptr, log, log });
    ASSERT_FALSE(directory.is_error()) << directory.error().message();
    Stdio const& streams = directory.value()->sip().stdio();
    EXPECT_EQ(streams.in, nullptr);
    EXPECT_EQ(streams.out, log);
    EXPECT_EQ(streams.err, log);
    m_directory = directory.release_value();
    EXPECT_FALSE(m_directory->connect().is_error()) << "the directory does not serve";
}

TEST_F(DirectoryTest, TheDirectoryRefusesAProgramThatIsNotADirectory)
{
    Kernel::ProgramInfo info = *m_kernel->find_program_info("dirguest");
    info.endpoints.push_back({ "client", "Echo", contracts::End::Exp, "Start", 0, {} });
    m_kernel->register_program("not-a-directory", info);
    auto directory = SystemDirectory::start(*m_kernel, "not-a-directory", {});
    ASSERT_TRUE(directory.is_error());
    EXPECT_NE(directory.error().message().find("is not the directory"), std::string::npos);
    EXPECT_TRUE(SystemDirectory::start(*m_kernel, "no-such-program", {}).is_error());
}

} // namespace
} // namespace signet::testing
