// The fault handler decides, from a signal, whether SIP code faulted and how:
//
//  1. the address is in the guard region below the running fiber's stack
//     -> the SIP's call stack is exhausted;
//  2. the address is inside the running SIP's memory reservation and the
//     faulting instruction is in that SIP's image -> out-of-bounds access;
//  3. the kernel could not push a signal frame (si_code SI_KERNEL) and the
//     interrupted stack pointer is near the bottom of the fiber's stack
//     -> exhausted as well;
//  4. anything else is a Signet bug: restore the default action and return,
//     so the fault repeats and the process dies with a core dump instead of
//     a kernel bug being disguised as a guest trap.
//
// For 1-3 it leaves the handler with _longjmp to the fiber's trap target. The
// handler runs on the worker's alternate signal stack and the jump lands on the
// fiber's own stack; Linux decides "on the alternate stack" from the stack
// pointer, so nothing needs restoring except the signal mask.
#include "runtime/FaultHandler.h"
#include "runtime/SipContext.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <link.h>
#include <mutex>
#include <sys/mman.h>
#include <ucontext.h>

namespace signet {

namespace {

constexpr size_t alternate_stack_size = 64 * 1024; // AT_MINSIGSTKSZ is ~3.4 KiB with AVX-512.
constexpr uintptr_t kernel_forced_headroom = 16 * 1024;

thread_local void* t_alternate_stack __attribute__((tls_model("initial-exec"))) = nullptr;

// The C library's code. Generated code calls its memcpy/memmove/memset for the
// bulk-memory instructions, after its own bounds check; such a call can still
// fault on a hole left by a sent exchange-heap block, and that is the SIP's
// fault. Kernel code never faults there: it checks holes (GuestMemory).
uintptr_t s_libc_low = 0;
uintptr_t s_libc_high = 0;

int find_libc(dl_phdr_info* info, size_t, void*)
{
    if (!info->dlpi_name || !std::strstr(info->dlpi_name, "libc.so"))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        auto const& header = info->dlpi_phdr[i];
        if (header.p_type == PT_LOAD && (header.p_flags & PF_X)) {
            s_libc_low = info->dlpi_addr + header.p_vaddr;
            s_libc_high = s_libc_low + header.p_memsz;
        }
    }
    return 1;
}

void fault_handler(int signal, siginfo_t* info, void* raw_context)
{
    int saved_errno = errno;
    auto* context = static_cast<ucontext_t*>(raw_context);
    SipContext* sip = current_sip_context;
    if (sip && sip->trap_target) {
        auto address = reinterpret_cast<uintptr_t>(info->si_addr);
        auto pc = static_cast<uintptr_t>(context->uc_mcontext.gregs[REG_RIP]);
        auto sp = static_cast<uintptr_t>(context->uc_mcontext.gregs[REG_RSP]);
        int trap = 0;
        if (address >= sip->stack.guard_low && address < sip->stack.low)
            trap = static_cast<int>(TrapKind::StackExhausted);
        else if (signal == SIGSEGV && sip->memory.contains(info->si_addr) && (sip->pc_in_code(pc) || (pc >= s_libc_low && pc < s_libc_high)))
            trap = static_cast<int>(sip->blocks.in_hole(address - reinterpret_cast<uintptr_t>(sip->memory.base())) ? TrapKind::UseAfterSend : TrapKind::OutOfBounds);
        else if (info->si_code == SI_KERNEL && sp >= sip->stack.guard_low && sp < sip->stack.low + kernel_forced_headroom)
            trap = static_cast<int>(TrapKind::StackExhausted);
        if (trap) {
            sip->trap_target->fault_address = info->si_addr;
            sip->trap_target->fault_pc = reinterpret_cast<void const*>(pc);
            sigset_t unblock;
            sigemptyset(&unblock);
            sigaddset(&unblock, signal);
            pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
            errno = saved_errno;
            _longjmp(sip->trap_target->jump_buffer, trap);
        }
    }
    // Not a SIP fault: a bug in Signet. Let it crash visibly.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigaction(signal, &default_action, nullptr);
    errno = saved_errno;
}

} // namespace

void install_fault_handler()
{
    static std::once_flag once;
    std::call_once(once, [] {
        ::dl_iterate_phdr(find_libc, nullptr);
        struct sigaction action {};
        action.sa_sigaction = fault_handler;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        sigaction(SIGSEGV, &action, nullptr);
        sigaction(SIGBUS, &action, nullptr);
    });
}

ErrorOr<void> prepare_thread_for_sip_code()
{
    install_fault_handler();
    if (t_alternate_stack)
        return {};
    void* stack = ::mmap(nullptr, alternate_stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return Error::from_errno("cannot allocate a signal stack", errno);
    stack_t alternate {};
    alternate.ss_sp = stack;
    alternate.ss_size = alternate_stack_size;
    if (sigaltstack(&alternate, nullptr) != 0) {
        int err = errno;
        ::munmap(stack, alternate_stack_size);
        return Error::from_errno("cannot install a signal stack", err);
    }
    t_alternate_stack = stack;
    return {};
}

} // namespace signet
