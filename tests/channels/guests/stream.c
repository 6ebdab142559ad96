// Many producers stream numbered, checksummed items to one consumer, which
// takes them with select and checks that each stream arrives whole and in
// order. The Stream contract lets four items wait before a credit.
//   stream consume PRODUCERS ITEMS   the consumer; starts PRODUCERS children
//   stream produce ITEMS SEED        a producer (startup handle 0: a Stream importer)
#include "check.h"

enum { MAX_PRODUCERS = 64 };

#define SWAP(type, a, b) \
    do {                 \
        type swapped = a; \
        a = b;           \
        b = swapped;     \
    } while (0)

static uint32_t next_random(uint32_t* state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

// The item `seq` of the stream seeded with `seed`: deterministic contents and their checksum.
static uint32_t fill_item(Stream_Item* item, uint32_t seed, uint32_t seq)
{
    uint32_t state = seed * 2654435761u + seq;
    memset(item, 0, sizeof *item);
    item->seq = seq;
    item->data.length = next_random(&state) % (sizeof item->data.data + 1);
    uint32_t check = seq * 31u + item->data.length;
    for (uint32_t i = 0; i < item->data.length; ++i) {
        item->data.data[i] = (uint8_t)next_random(&state);
        check = check * 131u + item->data.data[i];
    }
    item->check = check;
    return check;
}

static int produce(uint32_t items, uint32_t seed)
{
    signet_handle stream = 0;
    if (signet_startup_handle(0, &stream) != SIGNET_OK)
        return 2;
    static Stream_Item item;
    for (uint32_t seq = 0; seq < items; ++seq) {
        fill_item(&item, seed, seq);
        if (Stream_Imp_send_Item_message(stream, &item) != SIGNET_OK)
            return 3;
        if (seq % 4 == 3) {
            Stream_Imp_message credit;
            if (Stream_Imp_recv(stream, &credit) != Stream_Imp_Credit || credit.as.Credit.received != seq + 1)
                return 4;
        }
    }
    return Stream_Imp_send_End(stream, items) == SIGNET_OK ? 0 : 5;
}

static int consume(uint32_t producers, uint32_t items)
{
    static signet_handle streams[MAX_PRODUCERS], children[MAX_PRODUCERS];
    static uint32_t received[MAX_PRODUCERS], seeds[MAX_PRODUCERS];
    static Stream_Item expected;
    CHECK(producers <= MAX_PRODUCERS && items % 4 == 0, "a sensible load");
    for (uint32_t i = 0; i < producers; ++i) {
        signet_handle importer = 0;
        CREATE_CHANNEL(Stream, importer, streams[i]);
        seeds[i] = i + 1;
        char args[64];
        int length = snprintf(args, sizeof args, "produce%c%u%c%u", 0, (unsigned)items, 0, (unsigned)(i + 1));
        CHECK(signet_child_create("stream", 6, &importer, 1, args, (uint32_t)length, &children[i]) == SIGNET_OK, "create a producer");
        CHECK(signet_child_start(children[i]) == SIGNET_OK, "start it");
    }
    uint32_t open = producers, total = 0, bad_order = 0, bad_check = 0;
    while (open) {
        uint32_t index = 0;
        Stream_Exp_message message;
        switch (Stream_Exp_select_recv(streams, open, SIGNET_WAIT_FOREVER, &index, &message)) {
        case Stream_Exp_Item: {
            uint32_t producer = index;
            uint32_t seq = message.as.Item.seq;
            if (seq != received[producer])
                ++bad_order;
            fill_item(&expected, seeds[producer], seq);
            if (message.as.Item.check != expected.check || message.as.Item.data.length != expected.data.length
                || memcmp(message.as.Item.data.data, expected.data.data, expected.data.length) != 0)
                ++bad_check;
            ++received[producer];
            ++total;
            if (received[producer] % 4 == 0)
                CHECK(Stream_Exp_send_Credit(streams[producer], received[producer]) == SIGNET_OK, "send a credit");
            break;
        }
        case Stream_Exp_End:
            CHECK(message.as.End.count == items && received[index] == items, "a stream ends after all its items");
            signet_handle_close(streams[index]);
            // Keep the live streams first: the finished one swaps places with the last live one.
            --open;
            SWAP(signet_handle, streams[index], streams[open]);
            SWAP(uint32_t, received[index], received[open]);
            SWAP(uint32_t, seeds[index], seeds[open]);
            SWAP(signet_handle, children[index], children[open]);
            break;
        default:
            CHECK(0, "only items and ends arrive");
            open = 0;
            break;
        }
    }
    CHECK(bad_order == 0, "every item arrives in order");
    CHECK(bad_check == 0, "every item arrives intact");
    CHECK(total == producers * items, "no item is lost");
    for (uint32_t i = 0; i < producers; ++i) {
        int32_t status = -1;
        CHECK(signet_child_wait(children[i], SIGNET_WAIT_FOREVER, &status) == SIGNET_OK && status == 0, "the producer exits 0");
    }
    printf("stream: %u producers, %u items\n", (unsigned)producers, (unsigned)total);
    return report("stream");
}

int main(int argc, char** argv)
{
    char const* role = arg_or_empty(argc, argv, 1);
    if (strcmp(role, "produce") == 0)
        return produce((uint32_t)atoi(arg_or_empty(argc, argv, 2)), (uint32_t)atoi(arg_or_empty(argc, argv, 3)));
    if (strcmp(role, "consume") == 0)
        return consume((uint32_t)atoi(arg_or_empty(argc, argv, 2)), (uint32_t)atoi(arg_or_empty(argc, argv, 3)));
    printf("stream: unknown role '%s'\n", role);
    return 99;
}
