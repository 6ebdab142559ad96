// A SIP's channel memory limit (limits.channel_memory), run by the test with a
// limit of 20 MiB: two Pool channels (8 MiB of inboxes each) fit, a third does
// not; a channel's charge comes back when the channel is destroyed (both its
// ends closed), not before.
#include "check.h"

#include "large.h"

static int32_t create_pool(signet_handle* importer, signet_handle* exporter)
{
    return signet_channel_create(Pool_descriptor, Pool_DESCRIPTOR_SIZE, importer, exporter);
}

int main(void)
{
    signet_handle importers[3] = { 0 }, exporters[3] = { 0 };
    CHECK(create_pool(&importers[0], &exporters[0]) == SIGNET_OK, "a first 8 MiB channel fits");
    CHECK(create_pool(&importers[1], &exporters[1]) == SIGNET_OK, "a second fits");
    signet_handle importer = 0xAAAA, exporter = 0xBBBB;
    CHECK(create_pool(&importer, &exporter) == SIGNET_LIMIT, "a third is over the limit");
    CHECK(importer == 0xAAAA && exporter == 0xBBBB, "a create refused for the quota writes no handles");
    CHECK(create_pool(&importer, &exporter) == SIGNET_LIMIT, "and so is the next try");

    signet_handle token_importer = 0, token_exporter = 0;
    CREATE_CHANNEL(Token, token_importer, token_exporter);
    CHECK(signet_handle_close(token_importer) == SIGNET_OK && signet_handle_close(token_exporter) == SIGNET_OK, "a small channel still fits");

    CHECK(signet_handle_close(importers[0]) == SIGNET_OK, "close one end of the first");
    CHECK(create_pool(&importer, &exporter) == SIGNET_LIMIT, "a channel with an end open is still charged");
    CHECK(signet_handle_close(exporters[0]) == SIGNET_OK, "close its other end");
    CHECK(create_pool(&importers[2], &exporters[2]) == SIGNET_OK, "once it is destroyed, its charge is back");
    CHECK(create_pool(&importer, &exporter) == SIGNET_LIMIT, "and the limit holds again");
    return report("channel_quota");
}
