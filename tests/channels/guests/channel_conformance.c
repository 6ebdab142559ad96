// Every status of the handle and channel calls, from one SIP that holds both
// ends of its channels: handle_close, channel_create, channel_send,
// channel_recv, channel_select, startup_handle_count and startup_handle.
// A protocol violation would end this SIP, so none is made here (see
// child.c and ProtocolTests.cpp).
#include "check.h"

#include "large.h"

enum { TABLE_LIMIT = 4096, SELECT_LIMIT = 64 };

static signet_handle s_handles[TABLE_LIMIT];

// Sends a raw message; the kernel sees exactly these bytes.
static int32_t send_raw(signet_handle endpoint, uint32_t id, void const* data, uint32_t length)
{
    return signet_channel_send(endpoint, id, data, length);
}

static void handle_close(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CHECK(importer != 0 && exporter != 0 && importer != exporter, "channel_create gives two distinct nonzero handles");
    CHECK(signet_handle_close(importer) == SIGNET_OK, "handle_close ok");
    CHECK(signet_handle_close(importer) == SIGNET_BAD_HANDLE, "handle_close twice is BAD_HANDLE");
    CHECK(signet_handle_close(0) == SIGNET_BAD_HANDLE, "handle_close 0 is BAD_HANDLE");
    CHECK(signet_handle_close(0xFFFFFFFFu) == SIGNET_BAD_HANDLE, "handle_close of garbage is BAD_HANDLE");
    CHECK(signet_handle_close(exporter + 0x10000u) == SIGNET_BAD_HANDLE, "handle_close with another generation is BAD_HANDLE");

    // The freed slot is reused with a new generation: the stale handle names nothing.
    signet_handle importer2 = 0, exporter2 = 0;
    CREATE_CHANNEL(Probe, importer2, exporter2);
    CHECK(importer2 != importer && exporter2 != importer, "a reused slot gets a new handle");
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_BAD_HANDLE, "a stale handle is BAD_HANDLE");
    CHECK(Probe_Imp_send_Ping(importer2, 1) == SIGNET_OK, "the new handle works");
    CHECK(signet_handle_close(exporter) == SIGNET_OK, "handle_close of the other end ok");
    CHECK(signet_handle_close(importer2) == SIGNET_OK && signet_handle_close(exporter2) == SIGNET_OK, "close the second channel");
}

static void channel_create(void)
{
    static unsigned char bad[Probe_DESCRIPTOR_SIZE];
    signet_handle importer = 0xAAAA, exporter = 0xBBBB;

    memcpy(bad, Probe_descriptor, sizeof bad);
    bad[0] = 'X';
    CHECK(signet_channel_create(bad, sizeof bad, &importer, &exporter) == SIGNET_INVALID_ARGUMENT, "a bad magic is INVALID_ARGUMENT");
    CHECK(importer == 0xAAAA && exporter == 0xBBBB, "a refused create writes no handles");
    CHECK(signet_channel_create(Probe_descriptor, Probe_DESCRIPTOR_SIZE - 1, &importer, &exporter) == SIGNET_INVALID_ARGUMENT,
        "a truncated descriptor is INVALID_ARGUMENT");
    CHECK(signet_channel_create(Probe_descriptor, 0, &importer, &exporter) == SIGNET_INVALID_ARGUMENT, "an empty descriptor is INVALID_ARGUMENT");
    // The exporter-to-importer bound sits after the header (12 bytes) and the name (2 + 5 bytes).
    memcpy(bad, Probe_descriptor, sizeof bad);
    bad[12 + 2 + 5] = 7;
    CHECK(signet_channel_create(bad, sizeof bad, &importer, &exporter) == SIGNET_INVALID_ARGUMENT,
        "a queue bound that disagrees with the state machine is INVALID_ARGUMENT");
    for (unsigned i = 0; i < sizeof bad; ++i)
        bad[i] = (unsigned char)(i * 131 + 7);
    CHECK(signet_channel_create(bad, sizeof bad, &importer, &exporter) == SIGNET_INVALID_ARGUMENT, "garbage is INVALID_ARGUMENT");
    CHECK(importer == 0xAAAA && exporter == 0xBBBB, "refused creates write no handles");

    CHECK(signet_channel_create(BAD_POINTER, 64, &importer, &exporter) == SIGNET_OUT_OF_BOUNDS, "a descriptor out of bounds");
    CHECK(signet_channel_create(Probe_descriptor, Probe_DESCRIPTOR_SIZE, BAD_POINTER, &exporter) == SIGNET_OUT_OF_BOUNDS,
        "out_importer out of bounds");
    CHECK(signet_channel_create(Probe_descriptor, Probe_DESCRIPTOR_SIZE, &importer, BAD_POINTER) == SIGNET_OUT_OF_BOUNDS,
        "out_exporter out of bounds");
    CHECK(importer == 0xAAAA && exporter == 0xBBBB, "out-of-bounds creates write no handles");

    // Longer than any descriptor may be (4 MiB), inside this SIP's memory.
    uint32_t huge_length = 4u * 1024 * 1024 + 1;
    unsigned char* huge = calloc(1, huge_length);
    CHECK(huge != NULL, "allocate 4 MiB");
    if (huge) {
        memcpy(huge, Probe_descriptor, Probe_DESCRIPTOR_SIZE);
        CHECK(signet_channel_create(huge, huge_length, &importer, &exporter) == SIGNET_LIMIT, "a descriptor over 4 MiB is LIMIT");
        free(huge);
    }

    // A contract whose inboxes would take more than 16 MiB of kernel memory.
    CHECK(signet_channel_create(Flood_descriptor, Flood_DESCRIPTOR_SIZE, &importer, &exporter) == SIGNET_LIMIT,
        "a channel whose inboxes need over 16 MiB is LIMIT");
    CHECK(importer == 0xAAAA && exporter == 0xBBBB, "a create refused for its size writes no handles");
    CHECK(signet_channel_create(Pool_descriptor, Pool_DESCRIPTOR_SIZE, &importer, &exporter) == SIGNET_OK,
        "a channel whose inboxes need 8 MiB is OK");
    CHECK(signet_handle_close(importer) == SIGNET_OK && signet_handle_close(exporter) == SIGNET_OK, "close it");
    importer = 0xAAAA;
    exporter = 0xBBBB;

    // Fill the handle table (4096 handles: 2048 channels), then free one slot at a time.
    unsigned count = 0;
    int32_t status = SIGNET_OK;
    while (count + 2 <= TABLE_LIMIT) {
        status = signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &s_handles[count], &s_handles[count + 1]);
        if (status != SIGNET_OK)
            break;
        count += 2;
    }
    CHECK(count == TABLE_LIMIT, "a SIP may hold 4096 handles");
    CHECK(signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &importer, &exporter) == SIGNET_LIMIT, "a full table is LIMIT");
    CHECK(signet_handle_close(s_handles[--count]) == SIGNET_OK, "free one slot");
    CHECK(signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &importer, &exporter) == SIGNET_LIMIT,
        "one free slot is not enough for a channel");
    CHECK(importer == 0xAAAA && exporter == 0xBBBB, "a create refused for room writes no handles");
    CHECK(signet_handle_close(s_handles[--count]) == SIGNET_OK, "free another slot");
    CHECK(signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &importer, &exporter) == SIGNET_OK, "two free slots are enough");
    int all_closed = signet_handle_close(importer) == SIGNET_OK && signet_handle_close(exporter) == SIGNET_OK;
    while (count)
        all_closed &= signet_handle_close(s_handles[--count]) == SIGNET_OK;
    CHECK(all_closed, "close all 4096 handles");
}

static void channel_send(void)
{
    signet_handle importer = 0, exporter = 0, token_importer = 0, token_exporter = 0, other = 0, other_exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CREATE_CHANNEL(Token, token_importer, token_exporter);
    CREATE_CHANNEL(Probe, other, other_exporter);
    Probe_Exp_message request;

    // Handles.
    CHECK(Probe_Imp_send_Ping(0, 1) == SIGNET_BAD_HANDLE, "send on handle 0 is BAD_HANDLE");
    CHECK(Probe_Imp_send_Ping(0x12345678u, 1) == SIGNET_BAD_HANDLE, "send on garbage is BAD_HANDLE");

    // The message id.
    uint32_t seq = 5;
    CHECK(send_raw(importer, 0, &seq, 4) == SIGNET_INVALID_ARGUMENT, "message id 0 is INVALID_ARGUMENT");
    CHECK(send_raw(importer, 10, &seq, 4) == SIGNET_INVALID_ARGUMENT, "message id past the last is INVALID_ARGUMENT");
    CHECK(send_raw(importer, 0xFFFFFFFFu, &seq, 4) == SIGNET_INVALID_ARGUMENT, "message id 2^32-1 is INVALID_ARGUMENT");

    // The layout.
    CHECK(send_raw(importer, Probe_MSG_Ping, &seq, 3) == SIGNET_INVALID_ARGUMENT, "a short message is INVALID_ARGUMENT");
    CHECK(send_raw(importer, Probe_MSG_Ping, &seq, 0) == SIGNET_INVALID_ARGUMENT, "an empty Ping is INVALID_ARGUMENT");
    CHECK(send_raw(importer, Probe_MSG_Bye, &seq, 4) == SIGNET_INVALID_ARGUMENT, "a Bye with bytes is INVALID_ARGUMENT");
    static Probe_Say say;
    memset(&say, 0, sizeof say);
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say + 4) == SIGNET_INVALID_ARGUMENT, "a long message is INVALID_ARGUMENT");

    // The contents: string length, UTF-8, bool.
    say.text.length = 17;
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say) == SIGNET_INVALID_ARGUMENT, "a string longer than its bound is INVALID_ARGUMENT");
    say.text.length = 0xFFFFFFFFu;
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say) == SIGNET_INVALID_ARGUMENT, "a string length of 2^32-1 is INVALID_ARGUMENT");
    say.text.length = 2;
    say.text.data[0] = (char)0xC3;
    say.text.data[1] = 0x28;
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say) == SIGNET_INVALID_ARGUMENT, "ill-formed UTF-8 is INVALID_ARGUMENT");
    say.text.data[0] = (char)0xED; // a surrogate, U+D800
    say.text.data[1] = (char)0xA0;
    say.text.length = 2;
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say) == SIGNET_INVALID_ARGUMENT, "an encoded surrogate is INVALID_ARGUMENT");
    memcpy(say.text.data, "ok", 2);
    say.loud = 2;
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say) == SIGNET_INVALID_ARGUMENT, "a bool of 2 is INVALID_ARGUMENT");

    // Out of bounds: the id is checked first, then the range.
    CHECK(send_raw(importer, Probe_MSG_Ping, BAD_POINTER, 4) == SIGNET_OUT_OF_BOUNDS, "message bytes out of bounds");
    CHECK(send_raw(importer, Probe_MSG_Say, (char*)BAD_POINTER + 0xF0, sizeof say) == SIGNET_OUT_OF_BOUNDS, "message straddling the end");

    // None of that changed the protocol state: a whole turn still works.
    say.loud = 1;
    say.text.length = 5;
    memcpy(say.text.data, "h\xC3\xA9llo", 6);
    say.text.length = 6;
    CHECK(send_raw(importer, Probe_MSG_Say, &say, sizeof say) == SIGNET_OK, "a well-formed Say (with UTF-8) is OK");
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_Say && request.as.Say.text.length == 6 && request.as.Say.loud == 1
            && memcmp(request.as.Say.text.data, "h\xC3\xA9llo", 6) == 0,
        "the Say arrives intact");
    CHECK(Probe_Exp_send_Heard(exporter, 6) == SIGNET_OK, "the reply is OK");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Heard && reply.as.Heard.length == 6, "the reply arrives");

    // Endpoints in messages: live, of the declared contract, end and state, not twice, not of this channel.
    CHECK(Probe_Imp_send_Give(importer, 0) == SIGNET_BAD_HANDLE, "carrying handle 0 is BAD_HANDLE");
    CHECK(Probe_Imp_send_Give(importer, 0xDEAD0001u) == SIGNET_BAD_HANDLE, "carrying garbage is BAD_HANDLE");
    CHECK(Probe_Imp_send_Give(importer, token_exporter) == SIGNET_INVALID_ARGUMENT, "carrying the wrong end is INVALID_ARGUMENT");
    CHECK(Probe_Imp_send_Give(importer, other) == SIGNET_INVALID_ARGUMENT, "carrying the wrong contract is INVALID_ARGUMENT");
    CHECK(Probe_Imp_send_GiveTwo(importer, token_importer, token_importer) == SIGNET_INVALID_ARGUMENT,
        "carrying one endpoint twice is INVALID_ARGUMENT");
    CHECK(Probe_Imp_send_Forward(importer, importer) == SIGNET_INVALID_ARGUMENT, "carrying the sending end itself is INVALID_ARGUMENT");
    CHECK(Probe_Imp_send_Forward(importer, exporter) == SIGNET_INVALID_ARGUMENT, "carrying the peer end is INVALID_ARGUMENT");
    CHECK(Token_Imp_send_Pass(token_importer, 1) == SIGNET_OK, "move the token to Ready#1");
    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_INVALID_ARGUMENT,
        "carrying an endpoint in the wrong state (it would receive next) is INVALID_ARGUMENT");
    Token_Exp_message pass;
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_Pass && pass.as.Pass.hops == 1, "the token's Pass arrives");
    CHECK(Token_Exp_send_Passed(token_exporter, 2) == SIGNET_OK, "answer the Pass");
    // The token is back in Ready, but its importer has not received Passed: it receives next.
    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_INVALID_ARGUMENT,
        "carrying an endpoint with a message waiting for it is INVALID_ARGUMENT");
    Token_Imp_message passed;
    CHECK(Token_Imp_recv(token_importer, &passed) == Token_Imp_Passed && passed.as.Passed.hops == 2, "receive the Passed");
    CHECK(Probe_Imp_send_Forward(importer, other) == SIGNET_OK, "carrying a Probe importer of another channel is OK");
    CHECK(Probe_Imp_send_Ping(other, 1) == SIGNET_BAD_HANDLE, "the carried endpoint's handle is gone from the sender");
    signet_handle carried = 0;
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_Forward, "the Forward arrives");
    carried = request.as.Forward.next;
    CHECK(carried != 0 && carried != other, "the receiver gets a new handle");
    CHECK(Probe_Imp_send_Ping(carried, 9) == SIGNET_OK, "the received endpoint works");
    CHECK(Probe_Exp_recv(other_exporter, &request) == Probe_Exp_Ping && request.as.Ping.seq == 9, "its peer receives");
    CHECK(Probe_Exp_send_Took(exporter, 0) == SIGNET_OK, "finish the Forward turn");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Took, "the Took arrives");

    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_OK, "carrying the token in Ready is OK");
    CHECK(Token_Imp_send_Pass(token_importer, 3) == SIGNET_BAD_HANDLE, "the sent token's handle is gone");
    CHECK(signet_handle_close(token_importer) == SIGNET_BAD_HANDLE, "the sent token's handle cannot be closed either");
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_Give, "the Give arrives");
    signet_handle token = request.as.Give.token;
    CHECK(Token_Imp_send_Pass(token, 4) == SIGNET_OK, "the received token works");
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_Pass && pass.as.Pass.hops == 4, "its peer receives");
    CHECK(Probe_Exp_send_Took(exporter, 4) == SIGNET_OK, "finish the Give turn");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Took, "the Took arrives");

    // CLOSED: the peer is gone. Nothing is sent and nothing carried is lost.
    signet_handle spare_importer = 0, spare_exporter = 0;
    CREATE_CHANNEL(Token, spare_importer, spare_exporter);
    CHECK(signet_handle_close(exporter) == SIGNET_OK, "close the exporter");
    CHECK(Probe_Imp_send_Ping(importer, 1) == SIGNET_CLOSED, "send after the peer closed is CLOSED");
    CHECK(Probe_Imp_send_Give(importer, spare_importer) == SIGNET_CLOSED, "a Give to a closed peer is CLOSED");
    CHECK(Token_Imp_send_Pass(spare_importer, 1) == SIGNET_OK, "the endpoint of a refused Give stays with the sender");
    CHECK(Probe_Imp_send_Ping(importer, 2) == SIGNET_CLOSED, "send stays CLOSED");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "recv sees CLOSED");

    signet_handle_close(importer);
    signet_handle_close(token);
    signet_handle_close(token_exporter);
    signet_handle_close(carried);
    signet_handle_close(other_exporter);
    signet_handle_close(spare_importer);
    signet_handle_close(spare_exporter);
}

static void channel_recv(void)
{
    signet_handle importer = 0, exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    static Probe_Say say;
    static unsigned char buffer[64];
    uint32_t id = 0, length = 0;

    CHECK(Probe_Imp_send_Say(importer, "hello", 5, true) == SIGNET_OK, "send a Say");
    CHECK(signet_channel_recv(exporter, &id, buffer, 4, &length) == SIGNET_LIMIT && length == sizeof(Probe_Say),
        "a small buffer is LIMIT with the length needed");
    CHECK(signet_channel_recv(exporter, &id, BAD_POINTER, 64, &length) == SIGNET_OUT_OF_BOUNDS, "a buffer out of bounds");
    CHECK(signet_channel_recv(exporter, BAD_POINTER, buffer, 64, &length) == SIGNET_OUT_OF_BOUNDS, "out_id out of bounds");
    CHECK(signet_channel_recv(exporter, &id, buffer, 64, BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "out_length out of bounds");
    CHECK(signet_channel_recv(0, &id, buffer, 64, &length) == SIGNET_BAD_HANDLE, "recv on handle 0 is BAD_HANDLE");
    length = 0;
    CHECK(signet_channel_recv(exporter, &id, &say, sizeof say, &length) == SIGNET_OK && id == Probe_MSG_Say && length == sizeof say,
        "the message is still there after LIMIT");
    CHECK(say.text.length == 5 && memcmp(say.text.data, "hello", 5) == 0 && say.loud == 1, "and intact");
    CHECK(Probe_Exp_send_Heard(exporter, 5) == SIGNET_OK, "reply");

    // The peer's messages are all received before CLOSED.
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_Heard, "receive the reply");
    CHECK(Probe_Imp_send_Bye(importer) == SIGNET_OK, "send Bye");
    CHECK(signet_handle_close(importer) == SIGNET_OK, "close the importer with Bye in flight");
    CHECK(signet_channel_recv(exporter, &id, buffer, 0, &length) == SIGNET_OK && id == Probe_MSG_Bye && length == 0,
        "an empty message fits a 0-byte buffer, and arrives after the sender closed");
    CHECK(signet_channel_recv(exporter, &id, buffer, 64, &length) == SIGNET_CLOSED, "then recv is CLOSED");
    CHECK(signet_channel_recv(exporter, &id, buffer, 64, &length) == SIGNET_CLOSED, "and stays CLOSED");
    CHECK(signet_handle_close(exporter) == SIGNET_OK, "close the exporter");
    CHECK(signet_channel_recv(exporter, &id, buffer, 64, &length) == SIGNET_BAD_HANDLE, "recv on a closed handle is BAD_HANDLE");

    // A closed end drops what waited for it, and closes the endpoints travelling in it.
    signet_handle token_importer = 0, token_exporter = 0;
    CREATE_CHANNEL(Probe, importer, exporter);
    CREATE_CHANNEL(Token, token_importer, token_exporter);
    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_OK, "send a token");
    CHECK(signet_handle_close(exporter) == SIGNET_OK, "close the receiver with the token in its queue");
    Token_Exp_message pass;
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_CLOSED, "the token was closed with the queue");
    CHECK(Probe_Imp_recv(importer, &reply) == Probe_Imp_CLOSED, "the sender sees CLOSED");
    signet_handle_close(importer);
    signet_handle_close(token_exporter);

    // A receiver whose table has no room for a carried endpoint gets LIMIT; the message waits.
    CREATE_CHANNEL(Probe, importer, exporter);
    CREATE_CHANNEL(Token, token_importer, token_exporter);
    CHECK(Probe_Imp_send_Give(importer, token_importer) == SIGNET_OK, "send a token");
    unsigned count = 0;
    signet_handle spare = 0;
    // 3 handles are held (importer, exporter, token_exporter): fill the other 4093 slots.
    while (count + 2 <= TABLE_LIMIT - 3 && signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &s_handles[count], &s_handles[count + 1]) == SIGNET_OK)
        count += 2;
    CHECK(count == TABLE_LIMIT - 4, "fill all but one slot");
    CHECK(signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &spare, &s_handles[count]) == SIGNET_LIMIT, "no room for a channel");
    // Close one end of the last pair and create one more channel: no slot is left.
    signet_handle_close(s_handles[--count]);
    CHECK(signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &s_handles[count], &s_handles[count + 1]) == SIGNET_OK,
        "take the last two slots");
    count += 2;
    length = 0;
    CHECK(signet_channel_recv(exporter, &id, buffer, 64, &length) == SIGNET_LIMIT, "no room for the carried endpoint is LIMIT");
    signet_handle_close(s_handles[--count]);
    Probe_Exp_message request;
    CHECK(Probe_Exp_recv(exporter, &request) == Probe_Exp_Give && request.as.Give.token != 0, "with room it arrives");
    signet_handle_close(request.as.Give.token);
    while (count)
        signet_handle_close(s_handles[--count]);
    signet_handle_close(importer);
    signet_handle_close(exporter);
    signet_handle_close(token_exporter);
}

static void channel_select(void)
{
    static signet_handle importers[SELECT_LIMIT + 1], exporters[SELECT_LIMIT + 1];
    for (unsigned i = 0; i <= SELECT_LIMIT; ++i)
        CREATE_CHANNEL(Probe, importers[i], exporters[i]);
    uint32_t index = 999;

    CHECK(signet_channel_select(exporters, SELECT_LIMIT, 0, &index) == SIGNET_TIMED_OUT && index == 999,
        "select on 64 endpoints with timeout 0 polls: TIMED_OUT");
    CHECK(Probe_Imp_send_Ping(importers[37], 37) == SIGNET_OK, "send on the 38th channel");
    CHECK(signet_channel_select(exporters, SELECT_LIMIT, 0, &index) == SIGNET_OK && index == 37, "select finds it");
    index = 999;
    CHECK(signet_channel_select(exporters, SELECT_LIMIT, SIGNET_WAIT_FOREVER, &index) == SIGNET_OK && index == 37,
        "select without a time limit returns at once when an endpoint is ready");
    CHECK(signet_channel_select(exporters, SELECT_LIMIT + 1, 0, &index) == SIGNET_INVALID_ARGUMENT, "65 endpoints is INVALID_ARGUMENT");
    CHECK(signet_channel_select(exporters, 0, 0, &index) == SIGNET_INVALID_ARGUMENT, "0 endpoints is INVALID_ARGUMENT");
    CHECK(signet_channel_select(BAD_POINTER, 4, 0, &index) == SIGNET_OUT_OF_BOUNDS, "endpoints out of bounds");
    CHECK(signet_channel_select(exporters, 4, 0, BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "out_index out of bounds");
    signet_handle with_bad[3] = { exporters[0], 0x7777u, exporters[37] };
    CHECK(signet_channel_select(with_bad, 3, 0, &index) == SIGNET_BAD_HANDLE, "a bad handle in the set is BAD_HANDLE");
    signet_handle twice[2] = { exporters[37], exporters[37] };
    CHECK(signet_channel_select(twice, 2, 0, &index) == SIGNET_OK && index == 0, "the same endpoint twice is allowed");

    Probe_Exp_message request;
    CHECK(Probe_Exp_recv(exporters[37], &request) == Probe_Exp_Ping && request.as.Ping.seq == 37, "receive what select found");
    CHECK(Probe_Exp_send_Pong(exporters[37], 37) == SIGNET_OK, "reply");

    // A timeout expires: at least as late as asked.
    uint64_t before = monotonic_ns();
    CHECK(signet_channel_select(exporters, 8, 5000000, &index) == SIGNET_TIMED_OUT, "select with a 5 ms timeout expires: TIMED_OUT");
    CHECK(monotonic_ns() - before >= 5000000, "not before the timeout");

    // Importers wait for replies; one is there.
    CHECK(signet_channel_select(importers, SELECT_LIMIT, 0, &index) == SIGNET_OK && index == 37, "select on importers");
    Probe_Imp_message reply;
    CHECK(Probe_Imp_recv(importers[37], &reply) == Probe_Imp_Pong, "receive the Pong");

    // A closed peer makes an endpoint ready, for good.
    CHECK(signet_handle_close(importers[5]) == SIGNET_OK, "close one importer");
    CHECK(signet_channel_select(exporters, SELECT_LIMIT, SIGNET_WAIT_FOREVER, &index) == SIGNET_OK && index == 5,
        "a closed peer makes its endpoint ready");
    CHECK(Probe_Exp_recv(exporters[5], &request) == Probe_Exp_CLOSED, "and recv there is CLOSED");
    CHECK(signet_channel_select(&exporters[5], 1, SIGNET_WAIT_FOREVER, &index) == SIGNET_OK && index == 0, "it stays ready");
    CHECK(signet_channel_select(&exporters[6], 4, 0, &index) == SIGNET_TIMED_OUT, "the others are not ready");

    for (unsigned i = 0; i <= SELECT_LIMIT; ++i) {
        if (i != 5)
            signet_handle_close(importers[i]);
        signet_handle_close(exporters[i]);
    }
}

static void startup_handles(void)
{
    signet_handle handle = 0x1234;
    CHECK(signet_startup_handle_count() == 0, "a SIP the host started has no startup handles");
    CHECK(signet_startup_handle(0, &handle) == SIGNET_NOT_FOUND && handle == 0x1234, "startup_handle 0 is NOT_FOUND");
    CHECK(signet_startup_handle(0, BAD_POINTER) == SIGNET_OUT_OF_BOUNDS, "startup_handle out of bounds");
}

int main(void)
{
    handle_close();
    channel_create();
    channel_send();
    channel_recv();
    channel_select();
    startup_handles();
    return report("channel conformance");
}
