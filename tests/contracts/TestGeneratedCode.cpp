// Runs the generated C of golden/calculator.contract against an in-memory
// channel standing in for the kernel: typed sends build the right bytes, typed
// receives decode them, and both refuse what breaks the contract's limits.
// The header is generated at build time by signet_add_contract().
#include "calculator.h"

#include "CheckSource.h"

#include "contracts/Descriptor.h"

#include <signet/abi.h>

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <map>

using namespace signet::contracts;

namespace {

// Endpoints come in pairs: 1 and 2, 3 and 4, ... An odd endpoint is the
// importer of its channel, the even one after it the exporter.
struct Channels {
    struct Queued {
        uint32_t id;
        std::vector<uint8_t> bytes;
    };
    std::map<uint32_t, std::deque<Queued>> queues; // By receiving endpoint.
    std::map<uint32_t, bool> closed;               // By closing endpoint.

    static uint32_t peer(uint32_t endpoint) { return endpoint % 2 == 1 ? endpoint + 1 : endpoint - 1; }
    bool ready(uint32_t endpoint) { return !queues[endpoint].empty() || closed[peer(endpoint)]; }
};

Channels channels;

class GeneratedCode : public ::testing::Test {
protected:
    void SetUp() override { channels = {}; }
};

constexpr signet_handle importer = 1;
constexpr signet_handle exporter = 2;

}

extern "C" int32_t signet_channel_send(uint32_t endpoint, uint32_t message_id, void const* message, uint32_t length)
{
    if (endpoint == 0)
        return SIGNET_BAD_HANDLE;
    auto const* bytes = static_cast<uint8_t const*>(message);
    channels.queues[Channels::peer(endpoint)].push_back({ message_id, std::vector<uint8_t>(bytes, bytes + length) });
    return SIGNET_OK;
}

extern "C" int32_t signet_channel_recv(uint32_t endpoint, uint32_t* out_message_id, void* buffer, uint32_t capacity, uint32_t* out_length)
{
    auto& queue = channels.queues[endpoint];
    if (queue.empty())
        return channels.closed[Channels::peer(endpoint)] ? SIGNET_CLOSED : SIGNET_WOULD_BLOCK;
    auto message = std::move(queue.front());
    queue.pop_front();
    if (message.bytes.size() > capacity)
        return SIGNET_LIMIT;
    if (!message.bytes.empty())
        std::memcpy(buffer, message.bytes.data(), message.bytes.size());
    *out_message_id = message.id;
    *out_length = static_cast<uint32_t>(message.bytes.size());
    return SIGNET_OK;
}

extern "C" int32_t signet_channel_select(uint32_t const* endpoints, uint32_t count, int64_t, uint32_t* out_ready_index)
{
    for (uint32_t i = 0; i < count; ++i) {
        if (channels.ready(endpoints[i])) {
            *out_ready_index = i;
            return SIGNET_OK;
        }
    }
    return SIGNET_TIMED_OUT;
}

static_assert(int(Calculator_Exp_Add) == int(Calculator_MSG_Add) && int(Calculator_Imp_Sum) == int(Calculator_MSG_Sum), "tags are message ids");
static_assert(SIGNET_CONTRACT_PROTOCOL == SIGNET_PROTOCOL && SIGNET_CONTRACT_CLOSED == SIGNET_CLOSED, "statuses match signet/status.def");

TEST_F(GeneratedCode, TheImporterSendsAddAndTheExporterReceivesItsArguments)
{
    ASSERT_EQ(Calculator_Imp_send_Add(importer, 40, -2), SIGNET_OK);
    Calculator_Exp_message received;
    ASSERT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_Add);
    EXPECT_EQ(received.tag, Calculator_Exp_Add);
    EXPECT_EQ(received.status, SIGNET_OK);
    EXPECT_EQ(received.as.Add.a, 40);
    EXPECT_EQ(received.as.Add.b, -2);
}

TEST_F(GeneratedCode, TheExporterAnswersWithBytesAndTheImporterGetsThemBack)
{
    char const text[] = "forty-two";
    ASSERT_EQ(Calculator_Exp_send_Text(exporter, text, sizeof text - 1), SIGNET_OK);
    ASSERT_EQ(Calculator_Exp_send_Overflow(exporter), SIGNET_OK);

    Calculator_Imp_message received;
    ASSERT_EQ(Calculator_Imp_recv(importer, &received), Calculator_Imp_Text);
    EXPECT_EQ(std::string(reinterpret_cast<char const*>(received.as.Text.data.data), received.as.Text.data.length), "forty-two");
    ASSERT_EQ(Calculator_Imp_recv(importer, &received), Calculator_Imp_Overflow);
}

TEST_F(GeneratedCode, SendsZeroThePartOfABufferTheyDoNotUse)
{
    ASSERT_EQ(Calculator_Imp_send_Describe(importer, "ab", 2), SIGNET_OK);
    auto const& queued = channels.queues[exporter].front();
    EXPECT_EQ(queued.id, static_cast<uint32_t>(Calculator_MSG_Describe));
    ASSERT_EQ(queued.bytes.size(), sizeof(Calculator_Describe));
    std::vector<uint8_t> expected(sizeof(Calculator_Describe), 0);
    expected[0] = 2;
    expected[4] = 'a';
    expected[5] = 'b';
    EXPECT_EQ(queued.bytes, expected);
}

TEST_F(GeneratedCode, SendsRefuseAStringLongerThanItsBound)
{
    std::string name(65, 'x');
    EXPECT_EQ(Calculator_Imp_send_Describe(importer, name.data(), static_cast<uint32_t>(name.size())), SIGNET_CONTRACT_INVALID_ARGUMENT);
    EXPECT_TRUE(channels.queues[exporter].empty());
}

TEST_F(GeneratedCode, SendsRefuseAStringThatIsNotUtf8)
{
    EXPECT_EQ(Calculator_Imp_send_Describe(importer, "\xc3\x28", 2), SIGNET_CONTRACT_INVALID_ARGUMENT);
    EXPECT_EQ(Calculator_Imp_send_Describe(importer, "\xf0\x9f\x8c\x8d", 4), SIGNET_OK);
}

TEST_F(GeneratedCode, ReceivesRejectAMessageOfTheWrongLength)
{
    int32_t half = 7;
    signet_channel_send(importer, Calculator_MSG_Add, &half, sizeof half);
    Calculator_Exp_message received;
    EXPECT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_FAILED);
    EXPECT_EQ(received.status, SIGNET_CONTRACT_PROTOCOL);
}

TEST_F(GeneratedCode, ReceivesRejectAMessageThisEndDoesNotReceive)
{
    Calculator_Sum sum {};
    signet_channel_send(importer, Calculator_MSG_Sum, &sum, sizeof sum);
    Calculator_Exp_message received;
    EXPECT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_FAILED);
    EXPECT_EQ(received.status, SIGNET_CONTRACT_PROTOCOL);
}

TEST_F(GeneratedCode, ReceivesRejectALengthFieldBeyondTheBound)
{
    Calculator_Describe describe {};
    describe.name.length = 65;
    signet_channel_send(importer, Calculator_MSG_Describe, &describe, sizeof describe);
    Calculator_Exp_message received;
    EXPECT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_FAILED);
    EXPECT_EQ(received.status, SIGNET_CONTRACT_PROTOCOL);
}

TEST_F(GeneratedCode, ReceivesReportAClosedPeerAfterItsLastMessage)
{
    ASSERT_EQ(Calculator_Imp_send_Bye(importer), SIGNET_OK);
    channels.closed[importer] = true;
    Calculator_Exp_message received;
    EXPECT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_Bye);
    EXPECT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_CLOSED);
    EXPECT_EQ(received.status, SIGNET_CLOSED);
}

TEST_F(GeneratedCode, ReceivesPassOtherFailuresThrough)
{
    Calculator_Exp_message received;
    EXPECT_EQ(Calculator_Exp_recv(exporter, &received), Calculator_Exp_FAILED);
    EXPECT_EQ(received.status, SIGNET_WOULD_BLOCK);
}

TEST_F(GeneratedCode, SelectReceivesFromTheEndpointThatIsReady)
{
    signet_handle const exporters[] = { 2, 4, 6 };
    ASSERT_EQ(Calculator_Imp_send_Add(3, 1, 2), SIGNET_OK);
    Calculator_Exp_message received;
    uint32_t index = 99;
    ASSERT_EQ(Calculator_Exp_select_recv(exporters, 3, -1, &index, &received), Calculator_Exp_Add);
    EXPECT_EQ(index, 1u);
    EXPECT_EQ(Calculator_Exp_select_recv(exporters, 3, 0, &index, &received), Calculator_Exp_FAILED);
    EXPECT_EQ(received.status, SIGNET_TIMED_OUT);
}

TEST_F(GeneratedCode, TheEmbeddedDescriptorDecodesToTheCheckedContract)
{
    auto result = check(test_directory + "/golden/calculator.contract");
    ASSERT_TRUE(result.ok()) << result.diagnostics_text();
    auto decoded = decode_descriptor(std::span(Calculator_descriptor, Calculator_DESCRIPTOR_SIZE));
    ASSERT_FALSE(decoded.is_error()) << decoded.error().message();
    EXPECT_EQ(decoded.value(), result.file->contracts[0].contract);
}
