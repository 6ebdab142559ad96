/* signet_preempt_trampoline: where a preempted SIP thread resumes.
 *
 * The preemption signal handler does not switch fibers itself. It rewrites the
 * interrupted context so that, after sigreturn, the thread "calls" this
 * trampoline from the interrupted instruction: it steps over the 128-byte red
 * zone the interrupted code may be using, pushes the interrupted RIP, and sets
 * RIP here. We then run in ordinary context on the fiber's own stack, save
 * every register the C ABI lets signet_preempt_point clobber (and the flags
 * and SSE state), call it — it may switch to other fibers for a while, or
 * never return if the SIP is killed — restore everything, and return to the
 * interrupted instruction with `ret $128`, which also pops the red-zone gap.
 *
 * SIP images are compiled for baseline x86-64 (SSE2, no AVX), so fxsave
 * covers all vector state they can use.
 */
    .text
    .globl signet_preempt_trampoline
    .type signet_preempt_trampoline, @function
signet_preempt_trampoline:
    pushfq
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbx
    mov %rsp, %rbx
    and $-64, %rsp
    sub $512, %rsp
    fxsave64 (%rsp)
    call signet_preempt_point
    fxrstor64 (%rsp)
    mov %rbx, %rsp
    pop %rbx
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    popfq
    ret $128
    .size signet_preempt_trampoline, .-signet_preempt_trampoline
    .section .note.GNU-stack,"",@progbits
