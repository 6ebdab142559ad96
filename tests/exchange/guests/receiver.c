// Receives blocks from a Conveyor, or pointedly does not.
//
//   receiver die     startup handles: Conveyor.Exp, Probe.Imp
//       Stops at checkpoint 1 without receiving anything; once let go, traps.
//       (The test may also kill it while it waits there.)
//   receiver close   startup handles: Conveyor.Exp, Probe.Imp
//       Stops at checkpoint 1; once let go, closes its end with whatever is
//       queued in it, stops at checkpoint 2, and exits.
//   receiver quota BALLAST   startup handles: Conveyor.Exp
//       Fills its exchange quota with a block of BALLAST bytes, so receiving a
//       block must fail with LIMIT and leave the message queued; then frees the
//       ballast, receives the block after all and checks it.
//   receiver hoard END   startup handles: Conveyor.Exp, Probe.Imp
//       Allocates four blocks of 1 MiB, receives blocks until a Last, stops at
//       checkpoint 1 owning all of them, then ends without freeing any: END is
//       "exit" (returns), "trap" (traps) or "wait" (stops at checkpoint 2, where
//       the test kills it).
#include "exchange_guest.h"

static int die(void)
{
    checkpoint(startup_handle(1), 1, 0, 0);
    __builtin_trap();
}

static int close_queued(void)
{
    signet_handle conveyor = startup_handle(0);
    signet_handle probe = startup_handle(1);
    checkpoint(probe, 1, 0, 0);
    CHECK_STATUS(signet_handle_close(conveyor), SIGNET_OK, "close the end with blocks queued");
    checkpoint(probe, 2, 0, 0);
    return report("receiver");
}

static int quota(uint32_t ballast_size)
{
    signet_handle conveyor = startup_handle(0);
    signet_handle ballast = 0;
    uint32_t ballast_offset = 0;
    CHECK_STATUS(signet_block_alloc(ballast_size, &ballast, &ballast_offset), SIGNET_OK, "fill the quota");
    uint32_t one = 0;
    signet_handle more = 0;
    CHECK_STATUS(signet_block_alloc(1, &more, &one), SIGNET_LIMIT, "the quota is full");

    Conveyor_Exp_message message;
    uint32_t id = 0, length = 0;
    // The receive waits for the block, then cannot take it.
    CHECK_STATUS(signet_channel_recv(conveyor, &id, &message.as, sizeof message.as, &length), SIGNET_LIMIT,
        "receiving a block over the quota");
    uint32_t ready = 99;
    CHECK_STATUS(signet_channel_select(&conveyor, 1, 0, &ready), SIGNET_OK, "the message is still queued");
    CHECK(ready == 0, "the conveyor is the ready endpoint");
    CHECK_STATUS(signet_channel_recv(conveyor, &id, &message.as, sizeof message.as, &length), SIGNET_LIMIT,
        "receiving it again, still over the quota");

    CHECK_STATUS(signet_block_free(ballast), SIGNET_OK, "free the ballast");
    CHECK(Conveyor_Exp_recv(conveyor, &message) == Conveyor_Exp_Last, "now the block is received");
    uint32_t offset = 0, size = 0;
    CHECK(block_intact(message.as.Last.payload, message.as.Last.checksum, &offset, &size), "the block arrived intact");
    CHECK_STATUS(Conveyor_Exp_send_Unloaded(conveyor, 1), SIGNET_OK, "answer");
    CHECK_STATUS(signet_block_free(message.as.Last.payload), SIGNET_OK, "free the block");
    printf("received a block of %u bytes after freeing the ballast\n", (unsigned)size);
    return report("receiver");
}

static int hoard(char const* end)
{
    signet_handle conveyor = startup_handle(0);
    signet_handle probe = startup_handle(1);
    for (uint32_t i = 0; i < 4; ++i) {
        uint32_t checksum = 0;
        CHECK(make_block(1 << 20, 30 + i, &checksum) != 0, "allocate a block to keep");
    }
    uint32_t received = 0;
    for (;;) {
        Conveyor_Exp_message message;
        Conveyor_Exp_tag tag = Conveyor_Exp_recv(conveyor, &message);
        if (tag == Conveyor_Exp_Load || tag == Conveyor_Exp_Last)
            ++received;
        if (tag != Conveyor_Exp_Load)
            break;
    }
    CHECK(received > 0, "received blocks to keep");
    checkpoint(probe, 1, 0, received);
    if (strcmp(end, "trap") == 0)
        __builtin_trap();
    if (strcmp(end, "wait") == 0)
        checkpoint(probe, 2, 0, 0);
    return report("receiver");
}

int main(int argc, char** argv)
{
    char const* mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "die") == 0)
        return die();
    if (strcmp(mode, "close") == 0)
        return close_queued();
    if (strcmp(mode, "quota") == 0)
        return quota(parse_number(argc > 2 ? argv[2] : "", 1 << 20));
    if (strcmp(mode, "hoard") == 0)
        return hoard(argc > 2 ? argv[2] : "exit");
    printf("receiver: unknown mode '%s'\n", mode);
    return 2;
}
