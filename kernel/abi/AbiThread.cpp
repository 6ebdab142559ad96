// signet_v1 threads of a SIP and their synchronisation (futex wait/wake on the
// SIP's own memory; mutexes and condition variables are built on them in
// <signet/thread.h>).
#include "kernel/abi/Abi.h"
#include "kernel/object/Thread.h"

using namespace signet;
using namespace signet::abi;

uint32_t signet::abi::finish_thread_create(Sip& sip, uint32_t out_thread, std::function<ErrorOr<std::shared_ptr<ThreadHandle>>()> const& start)
{
    if (sip.handles().free_slots() < 1)
        return SIGNET_LIMIT;
    auto handle = start();
    if (handle.is_error())
        return SIGNET_LIMIT;
    uint32_t thread_handle = sip.handles().insert(handle.release_value());
    VERIFY(thread_handle);
    GuestMemory(sip.runtime()).write(out_thread, thread_handle);
    return SIGNET_OK;
}

extern "C" {

uint32_t Z_signet_v1Z_thread_create(void* host, uint32_t function, uint32_t argument, uint32_t stack_top, uint32_t out_thread)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (!memory.valid(out_thread, 4))
        return SIGNET_OUT_OF_BOUNDS;
    if (sip.image().entry().stack_pointer_offset == SIGNET_IMAGE_NO_STACK_POINTER)
        return SIGNET_UNSUPPORTED; // The module has no shadow-stack pointer to give the thread.
    // The new thread's shadow stack grows down from stack_top, inside memory.
    if (stack_top == 0 || stack_top % 16 != 0 || !memory.valid(stack_top - 16, 16))
        return SIGNET_INVALID_ARGUMENT;
    // `function` is a function pointer: an index into table 0, of type (i32) -> ().
    auto const& tables = sip.runtime().funcref_tables;
    if (tables.empty() || function >= tables[0]->size)
        return SIGNET_INVALID_ARGUMENT;
    wasm_rt_funcref_t const& target = tables[0]->data[function];
    static uint32_t const entry_type = wasm_rt_register_func_type(1, 0, WASM_RT_I32);
    if (!target.func || target.func_type != entry_type)
        return SIGNET_INVALID_ARGUMENT;
    Thread::Entry entry {
        reinterpret_cast<void (*)(void*, uint32_t)>(target.func),
        target.module_instance,
        argument,
    };
    return finish_thread_create(sip, out_thread, [&] { return sip.kernel().start_thread(sip, entry, stack_top); });
}

uint32_t Z_signet_v1Z_thread_join(void* host, uint32_t handle, uint64_t timeout, uint32_t out_status)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    auto thread = sip.handles().get_as<ThreadHandle>(handle);
    if (!thread)
        return SIGNET_BAD_HANDLE;
    if (!memory.valid(out_status, 4))
        return SIGNET_OUT_OF_BOUNDS;
    bool done = sip.kernel().join_thread(sip, *thread, deadline_after(static_cast<int64_t>(timeout)));
    int32_t status = done ? thread->status : 0;
    // Unwinding skips destructors: this thread may leave here only holding nothing.
    thread.reset();
    leave_if_killed();
    if (!done)
        return SIGNET_TIMED_OUT;
    memory.write(out_status, status);
    sip.handles().remove(handle);
    return SIGNET_OK;
}

void Z_signet_v1Z_thread_exit(void* host, uint32_t status)
{
    Sip& sip = sip_from(host);
    Thread* self = Worker::current_thread();
    if (self->is_main()) {
        // The first thread ending itself ends the program, as exit() would.
        sip.record_exit({ ExitInfo::How::Exited, static_cast<int32_t>(status), TrapKind::None, {} });
        unwind_current(static_cast<int>(Unwind::Exit));
    }
    self->handle()->status = static_cast<int32_t>(status);
    unwind_current(static_cast<int>(Unwind::ThreadExit));
}

uint32_t Z_signet_v1Z_futex_wait(void* host, uint32_t address, uint32_t expected, uint64_t timeout)
{
    require_stack_headroom();
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (address % 4 != 0)
        return SIGNET_INVALID_ARGUMENT;
    if (!memory.valid(address, 4))
        return SIGNET_OUT_OF_BOUNDS;
    int32_t status = sip.kernel().futex_wait(sip, address, expected, deadline_after(static_cast<int64_t>(timeout)));
    leave_if_killed();
    return static_cast<uint32_t>(status);
}

uint32_t Z_signet_v1Z_futex_wake(void* host, uint32_t address, uint32_t count, uint32_t out_woken)
{
    Sip& sip = sip_from(host);
    GuestMemory memory(sip.runtime());
    if (address % 4 != 0)
        return SIGNET_INVALID_ARGUMENT;
    if (!memory.valid(address, 4) || !memory.valid(out_woken, 4))
        return SIGNET_OUT_OF_BOUNDS;
    memory.write(out_woken, sip.kernel().futex_wake(sip, address, count));
    return SIGNET_OK;
}

} // extern "C"
