// Cuts its exchange heap into as many host mappings as it can: one-page blocks
// until a LIMIT (or nearly all its handles), then frees every other one. Each
// block and each free page between two blocks is a mapping of the kernel's
// process; many of these together would reach the host's mapping limit
// (vm.max_map_count) if the kernel did not hold them under a budget.
//
//   fragment     startup handles: Probe.Imp
//       Stops at checkpoint 1 (size = blocks allocated, offset = 1 if an
//       allocation was refused with LIMIT) while it holds its fragments, frees
//       everything, stops at checkpoint 2 (so that the test can wait until all
//       have freed theirs), and checks that it can allocate again.
#include "exchange_guest.h"

enum { most = 4000 };

static signet_handle s_blocks[most];

int main(void)
{
    signet_handle probe = startup_handle(0);
    uint32_t count = 0, offset = 0;
    int32_t status = SIGNET_OK;
    while (count < most) {
        status = signet_block_alloc(4096, &s_blocks[count], &offset);
        if (status != SIGNET_OK)
            break;
        block_bytes(offset)[0] = 1;
        ++count;
    }
    CHECK(status == SIGNET_OK || status == SIGNET_LIMIT, "allocation ends with LIMIT at worst");
    for (uint32_t i = 0; i < count; i += 2)
        CHECK_STATUS(signet_block_free(s_blocks[i]), SIGNET_OK, "free every other block");
    checkpoint(probe, 1, status == SIGNET_LIMIT, count);
    for (uint32_t i = 1; i < count; i += 2)
        CHECK_STATUS(signet_block_free(s_blocks[i]), SIGNET_OK, "free the rest");
    checkpoint(probe, 2, 0, 0);
    uint32_t checksum = 0;
    signet_handle again = make_block(64 * 1024, 5, &checksum);
    CHECK(again != 0, "allocate again");
    printf("fragment: %u blocks%s\n", (unsigned)count, status == SIGNET_LIMIT ? ", then LIMIT" : "");
    return report("fragment");
}
