// Sends blocks, in the ways the tests need.
//
//   sender chain SIZE            startup handles: downstream Chain.Imp, [Probe.Imp]
//       The head of a chain: makes one block of SIZE bytes, stops at checkpoint 0
//       (the test notes the block's pages), passes it on, waits until it was
//       taken, then finishes the chain.
//   sender use-after-send SIZE   startup handles: downstream Chain.Imp
//       Passes a block on, waits until it was taken, prints "sent" and writes
//       to the block through its old address: the kernel must trap this SIP.
//   sender load COUNT SIZE       startup handles: Conveyor.Imp, [Probe.Imp]
//       Sends COUNT (1..4) blocks of SIZE bytes without waiting, stops at
//       checkpoint COUNT, then waits for the receiver's answer and prints it
//       ("unloaded N", or "receiver gone" if the receiver ended first).
//   sender stale-abi             startup handles: Chain.Imp
//   sender stale-fill            startup handles: Chain.Imp
//       Passes a block on, then hands its old address to an ABI call
//       (signet_time_now writes 8 bytes there), or fills it with memset (a
//       memory.fill when built with bulk memory): an OUT_OF_BOUNDS status or a
//       UseAfterSend trap, never a fault in the kernel's own code.
//   sender bounce SIZE ROUNDS    startup handles: Echo.Imp
//       Sends one block to an echo and back ROUNDS times, checking it each time,
//       and prints how often it came back to the offset it left from.
//   sender call-bounce SIZE ROUNDS   startup handles: Echo.Imp, Probe.Imp
//       The same with each round trip one signet_channel_call; stops at
//       checkpoint 1 after two rounds and at checkpoint 2 after the last, so the
//       test can count the page-table changes in between.
//   sender call-use-after-send SIZE  startup handles: downstream Chain.Imp
//       Passes a block on and waits for the answer in one signet_channel_call,
//       prints "sent" and writes to the block: the kernel must trap this SIP.
#include "exchange_guest.h"

static int chain(uint32_t size)
{
    signet_handle downstream = startup_handle(0);
    signet_handle probe = startup_handle(1);
    uint32_t checksum = 0;
    signet_handle block = make_block(size, 1, &checksum);
    uint32_t offset = 0, length = 0;
    CHECK_STATUS(signet_block_info(block, &offset, &length), SIGNET_OK, "inspect the block");
    checkpoint(probe, 0, offset, length);
    CHECK_STATUS(Chain_Imp_send_Pass(downstream, block, checksum), SIGNET_OK, "pass the block on");
    CHECK_STATUS(signet_block_info(block, &offset, &length), SIGNET_BAD_HANDLE, "a sent block is no longer the sender's");
    Chain_Imp_message taken;
    CHECK(Chain_Imp_recv(downstream, &taken) == Chain_Imp_Taken, "the first stage took the block");
    CHECK_STATUS(Chain_Imp_send_Finish(downstream), SIGNET_OK, "finish the chain");
    return report("sender");
}

static int use_after_send(uint32_t size)
{
    signet_handle downstream = startup_handle(0);
    uint32_t checksum = 0;
    signet_handle block = make_block(size, 2, &checksum);
    uint32_t offset = 0, length = 0;
    CHECK_STATUS(signet_block_info(block, &offset, &length), SIGNET_OK, "inspect the block");
    CHECK_STATUS(Chain_Imp_send_Pass(downstream, block, checksum), SIGNET_OK, "pass the block on");
    Chain_Imp_message taken;
    CHECK(Chain_Imp_recv(downstream, &taken) == Chain_Imp_Taken, "the receiver took the block");
    printf("sent\n");
    fflush(stdout);
    volatile uint8_t* stale = block_bytes(offset);
    stale[length / 2] = 42; // Use after send: traps.
    printf("FAIL the write after send did not trap\n");
    return 13;
}

static int load(uint32_t count, uint32_t size)
{
    signet_handle conveyor = startup_handle(0);
    signet_handle probe = startup_handle(1);
    CHECK(count >= 1 && count <= 4, "one to four blocks");
    for (uint32_t i = 0; i < count; ++i) {
        uint32_t checksum = 0;
        signet_handle block = make_block(size, 10 + i, &checksum);
        int32_t status = i + 1 < count ? Conveyor_Imp_send_Load(conveyor, block, checksum) : Conveyor_Imp_send_Last(conveyor, block, checksum);
        CHECK_STATUS(status, SIGNET_OK, "send a block");
    }
    checkpoint(probe, count, 0, 0);
    Conveyor_Imp_message answer;
    switch (Conveyor_Imp_recv(conveyor, &answer)) {
    case Conveyor_Imp_Unloaded:
        printf("unloaded %u\n", (unsigned)answer.as.Unloaded.count);
        break;
    case Conveyor_Imp_CLOSED:
        printf("receiver gone\n");
        break;
    default:
        CHECK(0, "the receiver's answer");
        break;
    }
    return report("sender");
}

static int stale(int fill, uint32_t size)
{
    signet_handle downstream = startup_handle(0);
    uint32_t checksum = 0, offset = 0, length = 0;
    signet_handle block = make_block(size, 4, &checksum);
    CHECK_STATUS(signet_block_info(block, &offset, &length), SIGNET_OK, "inspect the block");
    CHECK_STATUS(Chain_Imp_send_Pass(downstream, block, checksum), SIGNET_OK, "pass the block on");
    Chain_Imp_message taken;
    CHECK(Chain_Imp_recv(downstream, &taken) == Chain_Imp_Taken, "the receiver took the block");
    printf("sent\n");
    fflush(stdout);
    if (fill)
        memset(block_bytes(offset), 7, length - (uint32_t)(checksum & 1)); // traps: UseAfterSend
    else
        CHECK_STATUS(signet_time_now(SIGNET_CLOCK_MONOTONIC, (uint64_t*)(uintptr_t)offset), SIGNET_OUT_OF_BOUNDS, "a clock into a hole");
    return report("sender");
}

static int bounce(uint32_t size, uint32_t rounds)
{
    signet_handle echo = startup_handle(0);
    uint32_t checksum = 0, offset = 0, length = 0, home = 0, returned = 0;
    signet_handle block = make_block(size, 3, &checksum);
    CHECK_STATUS(signet_block_info(block, &home, &length), SIGNET_OK, "inspect the block");
    for (uint32_t round = 0; round < rounds && block; ++round) {
        CHECK_STATUS(Echo_Imp_send_Ball(echo, block, checksum), SIGNET_OK, "send the block");
        Echo_Imp_message back;
        if (Echo_Imp_recv(echo, &back) != Echo_Imp_Back) {
            CHECK(0, "the block comes back");
            break;
        }
        block = back.as.Back.payload;
        CHECK(block_intact(block, checksum, &offset, &length), "the block comes back intact");
        CHECK(payload_hops(block_bytes(offset)) == round + 1, "with the echo's count");
        returned += offset == home;
        home = offset;
    }
    CHECK_STATUS(signet_block_free(block), SIGNET_OK, "free the block");
    printf("sender: back at the offset it left from %u of %u times\n", (unsigned)returned, (unsigned)rounds);
    return report("sender");
}

static int call_bounce(uint32_t size, uint32_t rounds)
{
    signet_handle echo = startup_handle(0);
    signet_handle probe = startup_handle(1);
    uint32_t checksum = 0, offset = 0, length = 0, home = 0, returned = 0;
    signet_handle block = make_block(size, 5, &checksum);
    CHECK_STATUS(signet_block_info(block, &home, &length), SIGNET_OK, "inspect the block");
    for (uint32_t round = 0; round < rounds && block; ++round) {
        Echo_Ball ball;
        memset(&ball, 0, sizeof ball);
        ball.payload = block;
        ball.checksum = checksum;
        Echo_Imp_message back;
        if (Echo_Imp_call_Ball(echo, &ball, &back) != Echo_Imp_Back) {
            CHECK(0, "the block comes back");
            break;
        }
        block = back.as.Back.payload;
        CHECK(block_intact(block, checksum, &offset, &length), "the block comes back intact");
        CHECK(payload_hops(block_bytes(offset)) == round + 1, "with the echo's count");
        returned += offset == home;
        home = offset;
        if (round == 1)
            checkpoint(probe, 1, offset, length);
    }
    checkpoint(probe, 2, offset, length);
    CHECK_STATUS(signet_block_free(block), SIGNET_OK, "free the block");
    printf("sender: back at the offset it left from %u of %u times\n", (unsigned)returned, (unsigned)rounds);
    return report("sender");
}

static int call_use_after_send(uint32_t size)
{
    signet_handle downstream = startup_handle(0);
    uint32_t checksum = 0, offset = 0, length = 0;
    signet_handle block = make_block(size, 6, &checksum);
    CHECK_STATUS(signet_block_info(block, &offset, &length), SIGNET_OK, "inspect the block");
    Chain_Pass pass;
    memset(&pass, 0, sizeof pass);
    pass.payload = block;
    pass.checksum = checksum;
    Chain_Imp_message taken;
    CHECK(Chain_Imp_call_Pass(downstream, &pass, &taken) == Chain_Imp_Taken, "the receiver took the block");
    printf("sent\n");
    fflush(stdout);
    volatile uint8_t* stale = block_bytes(offset);
    stale[length / 2] = 42; // Use after send: traps.
    printf("FAIL the write after send did not trap\n");
    return 13;
}

int main(int argc, char** argv)
{
    char const* mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "chain") == 0)
        return chain(parse_number(argc > 2 ? argv[2] : "", 4096));
    if (strcmp(mode, "use-after-send") == 0)
        return use_after_send(parse_number(argc > 2 ? argv[2] : "", 4096));
    if (strcmp(mode, "load") == 0)
        return load(parse_number(argc > 2 ? argv[2] : "", 1), parse_number(argc > 3 ? argv[3] : "", 4096));
    if (strcmp(mode, "stale-abi") == 0 || strcmp(mode, "stale-fill") == 0)
        return stale(strcmp(mode, "stale-fill") == 0, 8192);
    if (strcmp(mode, "bounce") == 0)
        return bounce(parse_number(argc > 2 ? argv[2] : "", 4096), parse_number(argc > 3 ? argv[3] : "", 10));
    if (strcmp(mode, "call-bounce") == 0)
        return call_bounce(parse_number(argc > 2 ? argv[2] : "", 4096), parse_number(argc > 3 ? argv[3] : "", 10));
    if (strcmp(mode, "call-use-after-send") == 0)
        return call_use_after_send(parse_number(argc > 2 ? argv[2] : "", 4096));
    printf("sender: unknown mode '%s'\n", mode);
    return 2;
}
