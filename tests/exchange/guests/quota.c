// The per-SIP exchange quota (SipLimits::exchange_bytes): the test runs this
// with a quota of QUOTA bytes (a multiple of 256 KiB). Exceeding it is a LIMIT
// status, never a crash, and whatever is freed or sent counts no more.
//
//   quota QUOTA [full]
//
// With `full` it first grows its own memory until that is refused (its memory
// limit): blocks have a quota of their own, apart from the memory limit, so
// every check after that passes all the same.
#include "exchange_guest.h"

enum { quarter = 256 * 1024 };

static void allocation(uint32_t quota)
{
    signet_handle blocks[256];
    uint32_t offset = 0;
    signet_handle block = 0;
    CHECK_STATUS(signet_block_alloc(quota + 1, &block, &offset), SIGNET_LIMIT, "one block over the quota");

    uint32_t count = quota / quarter;
    for (uint32_t i = 0; i < count && i < 256; ++i)
        CHECK_STATUS(signet_block_alloc(quarter, &blocks[i], &offset), SIGNET_OK, "fill the quota");
    CHECK_STATUS(signet_block_alloc(1, &block, &offset), SIGNET_LIMIT, "one byte more");
    CHECK_STATUS(signet_block_free(blocks[0]), SIGNET_OK, "free one block");
    CHECK_STATUS(signet_block_alloc(quarter, &blocks[0], &offset), SIGNET_OK, "its room is reused");
    for (uint32_t i = 0; i < count && i < 256; ++i)
        CHECK_STATUS(signet_block_free(blocks[i]), SIGNET_OK, "free the quota again");

    // Small blocks round up to pages: quota / 4096 of them fit.
    uint32_t pages = 0;
    static signet_handle small[4096];
    while (pages < 4096 && signet_block_alloc(1, &small[pages], &offset) == SIGNET_OK)
        ++pages;
    CHECK(pages == quota / 4096, "a one-byte block takes a page of the quota");
    for (uint32_t i = 0; i < pages; ++i)
        CHECK_STATUS(signet_block_free(small[i]), SIGNET_OK, "free a small block");
}

// Many times the quota travels through this SIP: sent blocks leave holes, and
// the holes are recycled when the quota would otherwise run out.
static void traffic(signet_handle importer, signet_handle exporter, uint32_t quota)
{
    uint32_t rounds = 50 * (quota / quarter), ok = 0;
    for (uint32_t round = 0; round < rounds; ++round) {
        uint32_t checksum = 0, offset = 0, size = 0;
        signet_handle block = make_block(quarter, round, &checksum);
        if (!block)
            break;
        int32_t sent = Ownership_Imp_send_One(importer, block);
        CHECK_STATUS(sent, SIGNET_OK, "send a block to itself");
        if (sent != SIGNET_OK)
            break; // Nothing would arrive: the receive below would wait for ever.
        Ownership_Exp_message message;
        CHECK(Ownership_Exp_recv(exporter, &message) == Ownership_Exp_One, "receive it");
        CHECK_STATUS(Ownership_Exp_send_Ack(exporter), SIGNET_OK, "answer");
        Ownership_Imp_message ack;
        CHECK(Ownership_Imp_recv(importer, &ack) == Ownership_Imp_Ack, "the answer arrives");
        if (block_intact(message.as.One.payload, checksum, &offset, &size))
            ++ok;
        CHECK_STATUS(signet_block_free(message.as.One.payload), SIGNET_OK, "free it");
    }
    CHECK(ok == rounds, "every block arrived intact");
    printf("%u blocks of 256 KiB went through a quota of %u KiB\n", (unsigned)rounds, (unsigned)(quota / 1024));
}

// A block in flight counts against nobody; receiving it counts against the receiver.
static void receiving_over_the_quota(signet_handle importer, signet_handle exporter, uint32_t quota)
{
    uint32_t checksum = 0, offset = 0, size = 0;
    signet_handle travelling = make_block(2 * quarter, 21, &checksum);
    CHECK(travelling != 0, "a block of half the quota");
    int32_t sent = Ownership_Imp_send_One(importer, travelling);
    CHECK_STATUS(sent, SIGNET_OK, "send half the quota to itself");
    if (sent != SIGNET_OK)
        return; // Nothing would arrive: the receives below would wait for ever.
    signet_handle ballast = 0;
    CHECK_STATUS(signet_block_alloc(quota - quarter, &ballast, &offset), SIGNET_OK, "the block in flight counts no more");

    Ownership_Exp_message message;
    uint32_t id = 0, length = 0;
    CHECK_STATUS(signet_channel_recv(exporter, &id, &message.as, sizeof message.as, &length), SIGNET_LIMIT, "receive over the quota");
    CHECK_STATUS(signet_block_free(ballast), SIGNET_OK, "make room");
    CHECK(Ownership_Exp_recv(exporter, &message) == Ownership_Exp_One, "then receive it");
    CHECK(block_intact(message.as.One.payload, checksum, &offset, &size), "intact");
    CHECK_STATUS(Ownership_Exp_send_Ack(exporter), SIGNET_OK, "answer");
    Ownership_Imp_message ack;
    CHECK(Ownership_Imp_recv(importer, &ack) == Ownership_Imp_Ack, "the answer arrives");
    CHECK_STATUS(signet_block_free(message.as.One.payload), SIGNET_OK, "free it");
}

int main(int argc, char** argv)
{
    uint32_t quota = parse_number(argc > 1 ? argv[1] : "", 1 << 20);
    CHECK(quota >= 4 * quarter && quota % quarter == 0, "a quota of at least 1 MiB, in 256 KiB");
    if (argc > 2 && strcmp(argv[2], "full") == 0) {
        // Nothing below allocates from the C heap: it could not grow any more.
        unsigned long pages = __builtin_wasm_memory_size(0);
        while (__builtin_wasm_memory_grow(0, 1) != (unsigned long)-1)
            ++pages;
        printf("its own memory is full at %lu pages\n", pages);
        fflush(stdout);
    }
    signet_handle importer = 0, exporter = 0;
    CHECK_STATUS(signet_channel_create(Ownership_descriptor, Ownership_DESCRIPTOR_SIZE, &importer, &exporter), SIGNET_OK, "a channel");
    allocation(quota);
    traffic(importer, exporter, quota);
    receiving_over_the_quota(importer, exporter, quota);
    return report("quota");
}
