// A hostile SIP: it presents a contract that borrows the name (and state
// index) of the real Token but receives first in that state, and tries to
// send its importer where a Token.Imp:Ready is expected. Were that accepted,
// the in-flight endpoint could still receive, and two endpoints could end up
// in each other's queues, unreachable from any SIP: kernel memory lost for
// good. The kernel must refuse the send (INVALID_ARGUMENT). Prints what it
// managed; the host checks that no channel outlives the SIP.
#include "check.h"

unsigned char const* forged_token_descriptor(uint32_t* size);
uint32_t forged_token_wrap_id(void);

int main(int argc, char** argv)
{
    unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 100;
    unsigned tied = 0;
    for (unsigned round = 0; round < rounds; ++round) {
        uint32_t size = 0;
        unsigned char const* forged = forged_token_descriptor(&size);
        signet_handle probe_importer = 0, probe_exporter = 0, token_importer = 0, token_exporter = 0;
        CREATE_CHANNEL(Probe, probe_importer, probe_exporter);
        CHECK(signet_channel_create(forged, size, &token_importer, &token_exporter) == SIGNET_OK, "create a forged Token channel");

        // 1. The forged importer (it receives next) into the real Probe exporter's queue.
        int32_t status = Probe_Imp_send_Give(probe_importer, token_importer);
        CHECK(status == SIGNET_INVALID_ARGUMENT, "an endpoint that would receive next cannot travel, whatever its contract is named");
        if (status == SIGNET_OK) {
            // 2. Bring the Probe to its terminal state, where its exporter may travel.
            int32_t took = Probe_Exp_send_Took(probe_exporter, 0);
            int32_t bye = Probe_Imp_send_Bye(probe_importer);
            if (round == 0)
                printf("forge: took %d bye %d\n", (int)took, (int)bye);
            // 3. The Probe exporter into the forged importer's queue: each now holds the other.
            signet_handle carried = probe_exporter;
            int32_t wrapped = signet_channel_send(token_exporter, forged_token_wrap_id(), &carried, sizeof carried);
            if (wrapped == SIGNET_OK)
                ++tied;
            else if (round == 0)
                printf("forge: the second step failed with status %d\n", (int)wrapped);
        } else {
            signet_handle_close(token_importer);
            signet_handle_close(probe_exporter);
        }
        signet_handle_close(probe_importer);
        signet_handle_close(token_exporter);
    }
    printf("forge: tied %u of %u knots\n", tied, rounds);
    return report("forge");
}
