// The impostor Token's descriptor, in its own unit: its names clash with probe.h's.
#include "impostor.h"

unsigned char const* impostor_token_descriptor(uint32_t* size)
{
    *size = Token_DESCRIPTOR_SIZE;
    return Token_descriptor;
}
