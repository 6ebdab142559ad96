// The forged contracts' descriptors, in their own unit: their names clash with probe.h's.
#include "forged.h"

unsigned char const* forged_token_descriptor(uint32_t* size)
{
    *size = Token_DESCRIPTOR_SIZE;
    return Token_descriptor;
}

uint32_t forged_token_wrap_id(void)
{
    return Token_MSG_Wrap;
}
