// A hostile pattern with two threads: the main thread waits for a message with
// its buffer inside an exchange-heap block, and its sibling sends that block
// away (a hole in memory now) and then the message. The receive must say
// OUT_OF_BOUNDS (the message stays queued), never write into the hole, and the
// kernel must go on.
#include <signet/thread.h>

#include "blockpipe.h"

#include <stdio.h>

static char s_memory_base[1];
static _Alignas(16) uint8_t s_stack[16 * 1024];
static signet_handle s_away, s_to_main, s_block;

static void sibling(void* argument)
{
    (void)argument;
    // Away goes the block that holds the main thread's buffer...
    if (BlockPipe_Imp_send_Data(s_away, s_block) != SIGNET_OK)
        signet_thread_exit(1);
    // ... and then the message the main thread waits for (a small block of its own).
    signet_handle small;
    uint32_t offset;
    if (signet_block_alloc(48, &small, &offset) != SIGNET_OK || BlockPipe_Imp_send_Small(s_to_main, small) != SIGNET_OK)
        signet_thread_exit(2);
    signet_thread_exit(0);
}

int main(void)
{
    signet_handle away_exporter, main_exporter, thread;
    uint32_t offset = 0;
    if (signet_channel_create(BlockPipe_descriptor, BlockPipe_DESCRIPTOR_SIZE, &s_away, &away_exporter) != SIGNET_OK
        || signet_channel_create(BlockPipe_descriptor, BlockPipe_DESCRIPTOR_SIZE, &s_to_main, &main_exporter) != SIGNET_OK
        || signet_block_alloc(64 * 1024, &s_block, &offset) != SIGNET_OK)
        return 10;
    uint8_t* inside = (uint8_t*)(s_memory_base - (uintptr_t)s_memory_base) + offset;
    if (signet_thread_start(sibling, 0, s_stack, sizeof s_stack, &thread) != SIGNET_OK)
        return 11;
    uint32_t id = 0, length = 0;
    int32_t status = signet_channel_recv(main_exporter, &id, inside, 64, &length);
    int32_t joined = -1;
    signet_thread_join(thread, SIGNET_WAIT_FOREVER, &joined);
    BlockPipe_Exp_message message;
    BlockPipe_Exp_tag tag = BlockPipe_Exp_recv(main_exporter, &message);
    printf("receive into the sent block: %d; sibling: %d; then the message: %s\n", (int)status, (int)joined,
        tag == BlockPipe_Exp_Small ? "Small" : "something else");
    return 0;
}
