// A hostile SIP: every call of the signet_v1 ABI, with arguments drawn at
// random — handles it made and handles it forged, pointers inside its memory
// and outside it, lengths small and huge, message ids and bytes at random.
//   abi_chaos SEED CALLS
// Whatever it does, the kernel must answer with statuses, stop it (a protocol
// violation, a trap) or, if it blocks for good, let the test kill it; never
// crash, hang or leak. Blocking calls get short timeouts where they take one.
#include <signet/abi.h>

#include "blockpipe.h"
#include "chaos_random.h"

enum { Pool = 16, Scratch = 1 << 16 };

static uint32_t s_handles[Pool];
// Pointers go into the first Scratch bytes; the rest catches what a long
// write from there runs over, so that the program corrupts only its scratch.
static _Alignas(16) uint8_t s_scratch[Scratch + 80 * 1024];

static uint32_t handle(void)
{
    switch (below(4)) {
    case 0:
    case 1:
        return s_handles[below(Pool)];
    case 2:
        return below(64);
    default:
        return next();
    }
}

static void keep(uint32_t value)
{
    if (value)
        s_handles[below(Pool)] = value;
}

static uint32_t scratch(void) { return (uint32_t)(uintptr_t)s_scratch; }

// A pointer: mostly into the scratch area, sometimes anywhere, or at the edges.
static void* pointer(void)
{
    switch (below(8)) {
    case 0:
        return (void*)(uintptr_t)(0x80000000u | next()); // past the end of memory
    case 1:
        return (void*)(uintptr_t)(0xFFFFFFFFu - below(16));
    default:
        return s_scratch + below(Scratch - 64);
    }
}

static uint32_t length(void) { return chaos_length(Scratch); }

static int64_t timeout(void) { return below(4) == 0 ? 0 : (int64_t)below(200000); }

static uint32_t number(char const* text, uint32_t length)
{
    uint32_t value = 0;
    for (uint32_t i = 0; i < length && text[i] >= '0' && text[i] <= '9'; ++i)
        value = value * 10 + (uint32_t)(text[i] - '0');
    return value;
}

static uint32_t argument(uint32_t index, uint32_t otherwise)
{
    char text[16];
    uint32_t got = 0;
    if (signet_arg_get(index, text, sizeof text, &got) != SIGNET_OK)
        return otherwise;
    return number(text, got);
}

// Whether a message waits at `endpoint` (or it is not one): most receives look
// first, so that few SIPs block for good before their calls are done.
static int may_receive(uint32_t endpoint)
{
    uint32_t ready = 0;
    return below(64) == 0 || signet_channel_select(&endpoint, 1, 0, &ready) != SIGNET_TIMED_OUT;
}

static void one_call(void)
{
    uint32_t* out = (uint32_t*)(s_scratch + 8 * below(64));
    switch (below(43)) {
    case 0: signet_yield(); break;
    case 1: signet_sleep(below(100000)); break;
    case 2: signet_time_now(below(6), pointer()); break;
    case 3: signet_self_id(); signet_abi_version(); break;
    case 4: signet_debug_log(pointer(), below(24)); break;
    case 5: signet_random_get(pointer(), length()); break;
    case 6: signet_arg_get(below(4), pointer(), length(), pointer()); break;
    case 7: signet_stdio_write(below(4), pointer(), length(), pointer()); break;
    case 8: signet_stdio_read(pointer(), length(), pointer()); break;
    case 9: signet_handle_close(handle()); break;
    case 10:
    case 11: {
        // Mostly a real contract, so that channels exist and messages flow.
        void const* descriptor = below(4) ? (void const*)BlockPipe_descriptor : pointer();
        uint32_t size = below(4) ? BlockPipe_DESCRIPTOR_SIZE : length();
        if (signet_channel_create(descriptor, size, &out[0], &out[1]) == SIGNET_OK) {
            keep(out[0]);
            keep(out[1]);
        }
        break;
    }
    case 12:
    case 13: {
        // A message id of the contract and bytes that may carry a handle.
        uint32_t* message = (uint32_t*)(s_scratch + 1024);
        message[0] = handle();
        signet_channel_send(handle(), below(6), below(3) ? (void const*)message : pointer(), below(3) ? 4 : length());
        break;
    }
    case 14: {
        uint32_t endpoint = handle();
        if (may_receive(endpoint))
            signet_channel_recv(endpoint, pointer(), pointer(), length(), pointer());
        break;
    }
    case 15: {
        uint32_t* set = (uint32_t*)(s_scratch + 2048);
        uint32_t count = below(70);
        for (uint32_t i = 0; i < count && i < 64; ++i)
            set[i] = handle();
        signet_channel_select(below(4) ? (uint32_t const*)set : pointer(), count, timeout(), pointer());
        break;
    }
    case 16: signet_startup_handle_count(); signet_startup_handle(below(4), pointer()); break;
    case 17: {
        uint32_t* handles = (uint32_t*)(s_scratch + 4096);
        for (uint32_t i = 0; i < 8; ++i)
            handles[i] = handle();
        if (signet_child_create(below(2) ? "abi-chaos" : (char const*)pointer(), below(2) ? 9 : length(), handles, below(9), pointer(), length(), &out[0]) == SIGNET_OK)
            keep(out[0]);
        break;
    }
    case 18: signet_child_start(handle()); break;
    case 19: signet_child_stop(handle()); break;
    case 20: signet_child_wait(handle(), timeout(), pointer()); break;
    case 21: signet_child_bind_stream(handle(), below(4) | (below(2) ? SIGNET_STREAM_TERMINAL : 0), handle()); break;
    case 22: signet_child_describe(handle(), pointer(), pointer(), length(), pointer()); break;
    case 23: signet_child_set_param(handle(), pointer(), length(), pointer(), length()); break;
    case 24:
        if (signet_block_alloc(below(4) ? below(70000) : next(), &out[0], &out[1]) == SIGNET_OK)
            keep(out[0]);
        break;
    case 25: signet_block_free(handle()); break;
    case 26: signet_block_info(handle(), pointer(), pointer()); break;
    case 27: {
        // A thread at a random table index, with a stack inside or outside memory.
        uint32_t top = below(2) ? (scratch() + Scratch - 16 * below(64)) & ~15u : next();
        if (signet_thread_create(below(8), next(), top, &out[0]) == SIGNET_OK)
            keep(out[0]);
        break;
    }
    case 28: signet_thread_join(handle(), timeout(), pointer()); break;
    case 29: signet_futex_wait(pointer(), next(), timeout()); break;
    case 30: signet_futex_wake(pointer(), next(), pointer()); break;
    case 31: signet_param_get(pointer(), length(), pointer(), length(), pointer()); break;
    case 32: signet_principal_get(pointer(), length(), pointer()); break;
    case 33:
        if (signet_disk_open(below(2) ? "probe" : (char const*)pointer(), below(2) ? 5 : length(), &out[0]) == SIGNET_OK)
            keep(out[0]);
        break;
    case 34: signet_disk_size(handle(), pointer()); break;
    case 35: signet_disk_read(handle(), ((uint64_t)next() << 32) | next(), pointer(), length()); break;
    case 36: signet_channel_peer_principal(handle(), pointer(), length(), pointer()); break;
    case 37: signet_endpoint_check(handle(), below(2) ? (void const*)BlockPipe_descriptor : pointer(), below(2) ? BlockPipe_DESCRIPTOR_SIZE : length(), below(3)); break;
    case 38: {
        // Nobody answers a call on a channel of its own: one in 64 only.
        uint32_t* message = (uint32_t*)(s_scratch + 1024);
        message[0] = handle();
        if (below(64) == 0)
            signet_channel_call(handle(), below(6), message, below(3) ? 4 : length(), handle(), pointer(), pointer(), length(), pointer());
        break;
    }
    case 39: signet_child_set_environment(handle(), pointer(), length()); break;
    case 40: {
        // Resumed at once: a child left suspended would outlive the test.
        uint32_t child = handle();
        signet_child_suspend(child);
        signet_yield();
        signet_child_resume(child);
        break;
    }
    case 41: {
        // A listener only for a SIP whose manifest declares the port: kept when one is had.
        if (signet_net_listen(below(2) ? "echo" : (char const*)pointer(), below(2) ? 4 : length(), &out[0]) == SIGNET_OK)
            keep(out[0]);
        uint32_t* into = below(2) ? &out[1] : (uint32_t*)pointer();
        if (signet_net_accept(handle(), timeout(), into, pointer(), length(), pointer()) == SIGNET_OK && into == &out[1])
            keep(out[1]);
        signet_net_recv(handle(), pointer(), length(), timeout(), pointer());
        signet_net_send(handle(), pointer(), length(), timeout(), pointer());
        signet_net_shutdown(handle());
        break;
    }
    default:
        signet_child_bind_directory(handle(), pointer(), length(), handle());
        signet_child_directories(handle(), pointer(), length(), pointer());
        break;
    }
}

void _start(void)
{
    chaos_seed(argument(1, 1));
    uint32_t calls = argument(2, 1000);
    for (uint32_t i = 0; i < calls; ++i)
        one_call();
    signet_exit(0);
}
