// A SIP that offers an endpoint of an impostor Token (impostor.contract: the
// real one's name, state names and turns, other messages) where probe.contract
// declares a Token.Imp:Ready. The kernel must refuse it (INVALID_ARGUMENT) and
// take the real Token's importer in the same place.
#include "check.h"

unsigned char const* impostor_token_descriptor(uint32_t* size);

int main(void)
{
    uint32_t size = 0;
    unsigned char const* impostor = impostor_token_descriptor(&size);
    signet_handle probe_importer = 0, probe_exporter = 0, fake_importer = 0, fake_exporter = 0, token_importer = 0, token_exporter = 0;
    CREATE_CHANNEL(Probe, probe_importer, probe_exporter);
    CHECK(signet_channel_create(impostor, size, &fake_importer, &fake_exporter) == SIGNET_OK, "create an impostor Token channel");
    CREATE_CHANNEL(Token, token_importer, token_exporter);

    CHECK(Probe_Imp_send_Give(probe_importer, fake_importer) == SIGNET_INVALID_ARGUMENT, "an impostor Token's importer cannot travel as a Token.Imp:Ready");
    signet_handle pair[2] = { fake_importer, token_importer };
    CHECK(signet_channel_send(probe_importer, Probe_MSG_GiveTwo, pair, sizeof pair) == SIGNET_INVALID_ARGUMENT,
        "nor beside a real one (and the real one stays here)");
    CHECK(Probe_Imp_send_Give(probe_importer, token_importer) == SIGNET_OK, "the real Token's importer travels in the same place");

    Probe_Exp_message received;
    CHECK(Probe_Exp_recv(probe_exporter, &received) == Probe_Exp_Give, "the exporter receives the real Token's importer");
    CHECK(Token_Imp_send_Pass(received.as.Give.token, 1) == SIGNET_OK, "and it speaks Token");
    Token_Exp_message pass;
    CHECK(Token_Exp_recv(token_exporter, &pass) == Token_Exp_Pass && pass.as.Pass.hops == 1, "the Token's exporter hears it");
    return report("impostor");
}
