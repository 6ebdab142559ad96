// signet_v1 exchange heap: allocate, free and inspect blocks. Sending one is
// part of channel_send (see AbiChannel.cpp).
#include "kernel/abi/Abi.h"
#include "kernel/object/ExchangeBlock.h"

using namespace signet;
using namespace signet::abi;

extern "C" {

uint32_t Z_signet_v1Z_block_alloc(void* host, uint32_t size, uint32_t out_block, uint32_t out_offset)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out_block, 4) || !memory.valid(out_offset, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (size == 0)
        return SIGNET_INVALID_ARGUMENT;
    if (size > ExchangeBlock::max_size || sip.handles().free_slots() < 1)
        return SIGNET_LIMIT;
    auto block = ExchangeBlock::allocate(sip.runtime(), size);
    if (!block)
        return SIGNET_LIMIT;
    uint32_t handle = sip.handles().insert(block);
    VERIFY(handle);
    // The memory may have grown, but never moves: the pointers checked above still hold.
    GuestMemory after(sip.runtime());
    after.write(out_block, handle);
    after.write(out_offset, block->offset());
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_block_free(void* host, uint32_t handle)
{
    Sip& sip = sip_from(host);
    if (!sip.handles().get_as<ExchangeBlock>(handle))
        return SIGNET_BAD_HANDLE;
    auto block = std::static_pointer_cast<ExchangeBlock>(sip.handles().remove(handle));
    block->free_in_owner();
    return SIGNET_OK;
}

uint32_t Z_signet_v1Z_block_info(void* host, uint32_t handle, uint32_t out_offset, uint32_t out_size)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto block = sip.handles().get_as<ExchangeBlock>(handle);
    if (!block)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(out_offset, 4) || !memory.valid(out_size, 4))
        return SIGNET_OUT_OF_BOUNDS;
    memory.write(out_offset, block->offset());
    memory.write(out_size, block->size());
    return SIGNET_OK;
}

} // extern "C"
