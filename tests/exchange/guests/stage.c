// A stage of a chain of SIPs that hand a block along (contract Chain).
//
//   stage relay   startup handles: upstream Chain.Exp, downstream Chain.Imp, [Probe.Imp]
//   stage sink    startup handles: upstream Chain.Exp, [Probe.Imp]
//   stage echo    startup handles: Echo.Exp
//   stage echo-call   startup handles: Echo.Exp (the same, each reply and the
//                     wait for the next ball one signet_channel_call)
//
// Each stage checks every block it receives (size, checksum), counts itself in
// the block's first bytes, says where the block landed, stops at a checkpoint
// (step = the number of stages the block has reached) so the test can look at
// its pages, and passes it on. A sink keeps what it receives until its
// upstream finishes or goes away, then checks, rewrites and frees each block:
// the blocks stay its own whatever happened to the SIP that sent them. An
// echo sends every block straight back, counting itself in it, and says how
// often a block arrived where it had been the time before.
#include "exchange_guest.h"

enum { max_held = 16 };

static int echo(int call)
{
    signet_handle client = startup_handle(0);
    uint32_t received = 0, same = 0, previous = 0;
    Echo_Exp_message ball;
    Echo_Exp_tag tag = Echo_Exp_recv(client, &ball);
    for (;;) {
        if (tag != Echo_Exp_Ball)
            break;
        uint32_t offset = 0, size = 0;
        CHECK(block_intact(ball.as.Ball.payload, ball.as.Ball.checksum, &offset, &size), "the block arrives intact");
        count_hop(block_bytes(offset));
        same += received > 0 && offset == previous;
        previous = offset;
        ++received;
        if (call) {
            Echo_Back back;
            memset(&back, 0, sizeof back);
            back.payload = ball.as.Ball.payload;
            back.checksum = ball.as.Ball.checksum;
            tag = Echo_Exp_call_Back(client, &back, &ball);
            CHECK(tag == Echo_Exp_Ball || tag == Echo_Exp_CLOSED, "send it back and wait for the next");
            continue;
        }
        CHECK_STATUS(Echo_Exp_send_Back(client, ball.as.Ball.payload, ball.as.Ball.checksum), SIGNET_OK, "send it back");
        tag = Echo_Exp_recv(client, &ball);
    }
    printf("echo: at the offset of the time before %u of %u times\n", (unsigned)same, (unsigned)(received ? received - 1 : 0));
    return report("echo");
}

int main(int argc, char** argv)
{
    if (argc > 1 && strcmp(argv[1], "echo") == 0)
        return echo(0);
    if (argc > 1 && strcmp(argv[1], "echo-call") == 0)
        return echo(1);
    int sink = argc > 1 && strcmp(argv[1], "sink") == 0;
    signet_handle upstream = startup_handle(0);
    signet_handle downstream = sink ? 0 : startup_handle(1);
    signet_handle probe = startup_handle(sink ? 1 : 2);
    CHECK(upstream != 0 && (sink || downstream != 0), "started with its chain endpoints");

    signet_handle held[max_held];
    uint32_t held_checksums[max_held];
    uint32_t held_count = 0;
    uint32_t received = 0;
    int finished = 0;
    while (!finished && upstream) {
        Chain_Exp_message message;
        switch (Chain_Exp_recv(upstream, &message)) {
        case Chain_Exp_Pass: {
            ++received;
            signet_handle block = message.as.Pass.payload;
            uint32_t checksum = message.as.Pass.checksum;
            uint32_t offset = 0, size = 0;
            CHECK(block_intact(block, checksum, &offset, &size), "the block arrives intact");
            if (size < 4)
                break;
            count_hop(block_bytes(offset));
            CHECK_STATUS(Chain_Exp_send_Taken(upstream, offset), SIGNET_OK, "say where the block landed");
            checkpoint(probe, payload_hops(block_bytes(offset)), offset, size);
            if (sink) {
                CHECK(held_count < max_held, "room to hold the block");
                if (held_count < max_held) {
                    held[held_count] = block;
                    held_checksums[held_count++] = checksum;
                }
                break;
            }
            CHECK_STATUS(Chain_Imp_send_Pass(downstream, block, checksum), SIGNET_OK, "pass the block on");
            Chain_Imp_message taken;
            CHECK(Chain_Imp_recv(downstream, &taken) == Chain_Imp_Taken, "the next stage took the block");
            break;
        }
        case Chain_Exp_Finish:
            if (downstream)
                CHECK_STATUS(Chain_Imp_send_Finish(downstream), SIGNET_OK, "pass the finish on");
            finished = 1;
            break;
        case Chain_Exp_CLOSED:
            finished = 1;
            break;
        default:
            CHECK(0, "receive from upstream");
            finished = 1;
            break;
        }
    }

    // What a sink holds is its own: check it, write all of it, free it.
    for (uint32_t i = 0; i < held_count; ++i) {
        uint32_t offset = 0, size = 0;
        CHECK(block_intact(held[i], held_checksums[i], &offset, &size), "a held block is still intact");
        fill_payload(block_bytes(offset), size, 1000 + i);
        CHECK(payload_hops(block_bytes(offset)) == 0, "rewrite a held block");
        CHECK_STATUS(signet_block_free(held[i]), SIGNET_OK, "free a held block");
    }
    if (sink) {
        // And the exchange heap still works for it.
        uint32_t checksum = 0;
        signet_handle fresh = make_block(3 * 4096 + 5, 7, &checksum);
        CHECK_STATUS(signet_block_free(fresh), SIGNET_OK, "free a fresh block");
    }
    printf("%s: received %u blocks\n", sink ? "sink" : "relay", received);
    return report(sink ? "sink" : "relay");
}
