// A ring of SIPs passing a token. Run with no startup handles it is the head:
//   ring N LAPS   creates N-1 links, each a child "ring" started with two
//                 Token endpoints: 0 the exporter from its left neighbour, 1 the
//                 importer to its right; then sends the token round LAPS times.
// A link receives Pass(hops) on its left, acknowledges, passes Pass(hops + 1)
// to its right and waits for the acknowledgement; when its left closes it
// returns, which closes its right, so closing the head's right ends the ring.
#include "check.h"

static int link_main(void)
{
    signet_handle left = 0, right = 0;
    if (signet_startup_handle(0, &left) != SIGNET_OK || signet_startup_handle(1, &right) != SIGNET_OK)
        return 2;
    for (;;) {
        Token_Exp_message pass;
        Token_Imp_message passed;
        switch (Token_Exp_recv(left, &pass)) {
        case Token_Exp_Pass:
            break;
        case Token_Exp_CLOSED:
            return 0;
        default:
            return 3;
        }
        uint32_t hops = pass.as.Pass.hops;
        if (Token_Exp_send_Passed(left, hops) != SIGNET_OK || Token_Imp_send_Pass(right, hops + 1) != SIGNET_OK
            || Token_Imp_recv(right, &passed) != Token_Imp_Passed || passed.as.Passed.hops != hops + 1)
            return 4;
    }
}

int main(int argc, char** argv)
{
    if (signet_startup_handle_count() == 2)
        return link_main();
    uint32_t count = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000;
    uint32_t laps = argc > 2 ? (uint32_t)atoi(argv[2]) : 3;

    signet_handle right = 0, left = 0;
    CREATE_CHANNEL(Token, right, left);
    uint32_t started = 1;
    for (uint32_t i = 1; i < count; ++i) {
        signet_handle next_importer = 0, next_exporter = 0;
        CHECK(signet_channel_create(Token_descriptor, Token_DESCRIPTOR_SIZE, &next_importer, &next_exporter) == SIGNET_OK, "create a channel");
        signet_handle given[2] = { left, next_importer };
        signet_handle child = 0;
        if (signet_child_create("ring", 4, given, 2, "link", 4, &child) != SIGNET_OK || signet_child_start(child) != SIGNET_OK) {
            CHECK(0, "create and start a link");
            break;
        }
        signet_handle_close(child); // The link runs on; it ends when its left closes.
        left = next_exporter;
        ++started;
    }
    CHECK(started == count, "every link started");

    uint32_t hops = 0;
    for (uint32_t lap = 0; lap < laps; ++lap) {
        Token_Imp_message passed;
        Token_Exp_message pass;
        CHECK(Token_Imp_send_Pass(right, hops) == SIGNET_OK, "pass the token right");
        CHECK(Token_Imp_recv(right, &passed) == Token_Imp_Passed && passed.as.Passed.hops == hops, "the first link acknowledges");
        CHECK(Token_Exp_recv(left, &pass) == Token_Exp_Pass, "the token comes back from the left");
        CHECK(pass.as.Pass.hops == hops + count - 1, "after one hop per link");
        hops = pass.as.Pass.hops;
        CHECK(Token_Exp_send_Passed(left, hops) == SIGNET_OK, "acknowledge the last link");
        ++hops;
    }
    // Closing the right end takes the ring down, link by link, back to our left.
    signet_handle_close(right);
    Token_Exp_message end;
    CHECK(Token_Exp_recv(left, &end) == Token_Exp_CLOSED, "the last link's end closes");
    printf("ring: %u SIPs, %u laps, %u hops\n", (unsigned)count, (unsigned)laps, (unsigned)hops);
    return report("ring");
}
