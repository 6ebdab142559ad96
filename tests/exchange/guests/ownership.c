// Every ownership rule of the exchange heap, as statuses: a block has one
// owner, and whatever else a SIP tries with it fails without changing anything.
//
//   ownership            talks to itself over an Ownership channel, and creates
//                        itself as a child ("exchange-ownership") to try the parent's handle
//   ownership foreign H  (the child) startup handle: Ownership.Imp; H is a handle of
//                        its parent's, which must mean nothing here
#include "exchange_guest.h"

enum { child_block_size = 777, child_block_seed = 11 };

// Whether nothing is waiting at `endpoint`: a failed send must not have sent anything.
static int nothing_queued(signet_handle endpoint)
{
    uint32_t ready = 0;
    return signet_channel_select(&endpoint, 1, 0, &ready) == SIGNET_TIMED_OUT;
}

// Receives one message at the exporter, answers it, and collects the answer at the importer.
static Ownership_Exp_tag take(signet_handle importer, signet_handle exporter, Ownership_Exp_message* message)
{
    Ownership_Exp_tag tag = Ownership_Exp_recv(exporter, message);
    CHECK_STATUS(Ownership_Exp_send_Ack(exporter), SIGNET_OK, "answer");
    Ownership_Imp_message ack;
    CHECK(Ownership_Imp_recv(importer, &ack) == Ownership_Imp_Ack, "the answer arrives");
    return tag;
}

static void free_and_reuse(void)
{
    signet_handle block = 0;
    uint32_t offset = 0, size = 0;
    CHECK_STATUS(signet_block_alloc(100, &block, &offset), SIGNET_OK, "allocate");
    CHECK(offset % 4096 == 0 && offset != 0, "a block starts on a page of this SIP's memory");
    CHECK_STATUS(signet_block_free(block), SIGNET_OK, "free");
    CHECK_STATUS(signet_block_free(block), SIGNET_BAD_HANDLE, "free twice");
    CHECK_STATUS(signet_block_info(block, &offset, &size), SIGNET_BAD_HANDLE, "inspect a freed block");

    CHECK_STATUS(signet_block_alloc(100, &block, &offset), SIGNET_OK, "allocate again");
    CHECK_STATUS(signet_handle_close(block), SIGNET_OK, "closing a block's handle frees it");
    CHECK_STATUS(signet_block_free(block), SIGNET_BAD_HANDLE, "free after close");

    CHECK_STATUS(signet_block_alloc(0, &block, &offset), SIGNET_INVALID_ARGUMENT, "an empty block");
    CHECK_STATUS(signet_block_alloc((1u << 30) + 1, &block, &offset), SIGNET_LIMIT, "a block over 1 GiB");
    CHECK_STATUS(signet_block_alloc(100, &block, (uint32_t*)(uintptr_t)0xFFFFFF00u), SIGNET_OUT_OF_BOUNDS, "a bad out-pointer");
}

static void send_rules(signet_handle importer, signet_handle exporter)
{
    uint32_t checksum = 0, offset = 0, size = 0;
    Ownership_Exp_message message;

    // Free after send, send twice.
    signet_handle sent = make_block(5000, 3, &checksum);
    CHECK_STATUS(Ownership_Imp_send_One(importer, sent), SIGNET_OK, "send a block");
    CHECK_STATUS(signet_block_free(sent), SIGNET_BAD_HANDLE, "free after send");
    CHECK_STATUS(signet_block_info(sent, &offset, &size), SIGNET_BAD_HANDLE, "inspect after send");
    CHECK_STATUS(Ownership_Imp_send_One(importer, sent), SIGNET_BAD_HANDLE, "send twice (a status, not a protocol violation)");
    CHECK(take(importer, exporter, &message) == Ownership_Exp_One, "receive the block");
    signet_handle received = message.as.One.payload;
    CHECK(received != sent, "the receiver gets a new handle");
    CHECK(block_intact(received, checksum, &offset, &size) && size == 5000, "the block arrives intact");
    CHECK_STATUS(signet_block_free(received), SIGNET_OK, "the receiver owns it and frees it");

    // Blocks this SIP does not own: none at all, a freed one, an endpoint.
    CHECK_STATUS(Ownership_Imp_send_One(importer, 0), SIGNET_BAD_HANDLE, "send handle 0");
    CHECK_STATUS(Ownership_Imp_send_One(importer, 0x7fff1234u), SIGNET_BAD_HANDLE, "send a made-up handle");
    CHECK_STATUS(Ownership_Imp_send_One(importer, received), SIGNET_BAD_HANDLE, "send a freed block");
    CHECK_STATUS(Ownership_Imp_send_One(importer, exporter), SIGNET_BAD_HANDLE, "send an endpoint as a block");
    CHECK(nothing_queued(exporter), "failed sends sent nothing");

    // The same block twice in one message, and a block over the contract's bound:
    // INVALID_ARGUMENT, and the block stays with its owner, usable.
    signet_handle kept = make_block(65, 4, &checksum);
    CHECK_STATUS(Ownership_Imp_send_Two(importer, kept, kept), SIGNET_INVALID_ARGUMENT, "the same block twice in one message");
    CHECK_STATUS(Ownership_Imp_send_Bounded(importer, kept), SIGNET_INVALID_ARGUMENT, "a block over block<64>");
    CHECK(nothing_queued(exporter), "refused sends sent nothing");
    CHECK(block_intact(kept, checksum, &offset, &size), "a refused block is still its owner's");
    fill_payload(block_bytes(offset), size, 5); // and writable: no trap
    uint32_t kept_checksum = payload_checksum(block_bytes(offset), size);

    signet_handle small = make_block(64, 6, &checksum);
    CHECK_STATUS(Ownership_Imp_send_Bounded(importer, small), SIGNET_OK, "a block of exactly the bound");
    CHECK(take(importer, exporter, &message) == Ownership_Exp_Bounded, "receive the bounded block");
    CHECK(block_intact(message.as.Bounded.payload, checksum, &offset, &size) && size == 64, "it arrives intact");
    CHECK_STATUS(signet_block_free(message.as.Bounded.payload), SIGNET_OK, "free it");

    uint32_t second_checksum = 0;
    signet_handle second = make_block(3 * 4096, 7, &second_checksum);
    CHECK_STATUS(Ownership_Imp_send_Two(importer, kept, second), SIGNET_OK, "two blocks in one message");
    CHECK(take(importer, exporter, &message) == Ownership_Exp_Two, "receive both");
    CHECK(block_intact(message.as.Two.first, kept_checksum, &offset, &size), "the first arrives intact");
    CHECK(block_intact(message.as.Two.second, second_checksum, &offset, &size), "the second arrives intact");
    CHECK_STATUS(signet_block_free(message.as.Two.first), SIGNET_OK, "free the first");
    CHECK_STATUS(signet_block_free(message.as.Two.second), SIGNET_OK, "free the second");
}

static void closed_peer(void)
{
    signet_handle importer = 0, exporter = 0;
    CHECK_STATUS(signet_channel_create(Ownership_descriptor, Ownership_DESCRIPTOR_SIZE, &importer, &exporter), SIGNET_OK, "a channel");
    CHECK_STATUS(signet_handle_close(exporter), SIGNET_OK, "close its exporter");
    uint32_t checksum = 0, offset = 0, size = 0;
    signet_handle block = make_block(8192, 8, &checksum);
    CHECK_STATUS(Ownership_Imp_send_One(importer, block), SIGNET_CLOSED, "send a block to a closed peer");
    CHECK(block_intact(block, checksum, &offset, &size), "the block stays with its owner");
    block_bytes(offset)[size - 1] ^= 1; // and writable: no trap
    CHECK_STATUS(signet_block_free(block), SIGNET_OK, "free it");
    CHECK_STATUS(signet_handle_close(importer), SIGNET_OK, "close the importer");
}

// Gives the child one of this SIP's block handles: in the child's table it names nothing.
static void foreign_handle(void)
{
    signet_handle importer = 0, exporter = 0, child = 0;
    CHECK_STATUS(signet_channel_create(Ownership_descriptor, Ownership_DESCRIPTOR_SIZE, &importer, &exporter), SIGNET_OK, "a channel");
    uint32_t checksum = 0, offset = 0, size = 0;
    signet_handle mine = make_block(4096, 9, &checksum);
    char args[32];
    int length = snprintf(args, sizeof args, "foreign%c%u", 0, (unsigned)mine);
    char const program[] = "exchange-ownership";
    CHECK_STATUS(signet_child_create(program, sizeof program - 1, &importer, 1, args, (uint32_t)length, &child), SIGNET_OK,
        "create the child");
    CHECK_STATUS(signet_child_start(child), SIGNET_OK, "start the child");

    Ownership_Exp_message message;
    CHECK(Ownership_Exp_recv(exporter, &message) == Ownership_Exp_One, "the child sends its own block");
    static uint8_t expected[child_block_size];
    fill_payload(expected, child_block_size, child_block_seed);
    CHECK(block_intact(message.as.One.payload, payload_checksum(expected, child_block_size), &offset, &size) && size == child_block_size,
        "the child's block arrives intact");
    CHECK_STATUS(Ownership_Exp_send_Ack(exporter), SIGNET_OK, "answer the child");
    CHECK_STATUS(signet_block_free(message.as.One.payload), SIGNET_OK, "free the child's block");
    int32_t status = -1;
    CHECK_STATUS(signet_child_wait(child, SIGNET_WAIT_FOREVER, &status), SIGNET_OK, "wait for the child");
    CHECK(status == 0, "the child's checks passed");
    CHECK(block_intact(mine, checksum, &offset, &size), "the parent's block is untouched and still the parent's");
    CHECK_STATUS(signet_block_free(mine), SIGNET_OK, "free it");
}

static int child(uint32_t foreign)
{
    signet_handle importer = startup_handle(0);
    uint32_t offset = 0, size = 0;
    CHECK_STATUS(signet_block_free(foreign), SIGNET_BAD_HANDLE, "free another SIP's block");
    CHECK_STATUS(signet_block_info(foreign, &offset, &size), SIGNET_BAD_HANDLE, "inspect another SIP's block");
    CHECK_STATUS(Ownership_Imp_send_One(importer, foreign), SIGNET_BAD_HANDLE, "send another SIP's block");
    uint32_t checksum = 0;
    signet_handle own = make_block(child_block_size, child_block_seed, &checksum);
    CHECK_STATUS(Ownership_Imp_send_One(importer, own), SIGNET_OK, "send its own block");
    Ownership_Imp_message ack;
    CHECK(Ownership_Imp_recv(importer, &ack) == Ownership_Imp_Ack, "the parent answers");
    return report("ownership child");
}

int main(int argc, char** argv)
{
    if (argc > 2 && strcmp(argv[1], "foreign") == 0)
        return child(parse_number(argv[2], 0));
    signet_handle importer = 0, exporter = 0;
    CHECK_STATUS(signet_channel_create(Ownership_descriptor, Ownership_DESCRIPTOR_SIZE, &importer, &exporter), SIGNET_OK, "a channel");
    free_and_reuse();
    send_rules(importer, exporter);
    closed_peer();
    foreign_handle();
    return report("ownership");
}
