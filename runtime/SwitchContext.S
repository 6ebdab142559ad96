/* signet_switch_context: Boost.Context's jump_fcontext, ending in `ret`.
 *
 * Same frame layout as Boost.Context 1.74's x86-64 SysV jump_fcontext (so
 * contexts made by make_fcontext, and contexts saved by either, work with
 * both), same arguments and result: (fcontext_t to, void* data) -> transfer_t
 * { fcontext_t from, void* data }.
 *
 * The one difference is how it leaves. Boost pops the target's return address
 * into a register and jumps to it, so the `call` that entered it pushed an
 * entry on the CPU's return-stack predictor that is never popped: every
 * `ret` of the resumed fiber is then predicted one frame off and mispredicts,
 * four or five of them per switch up through the kernel's call chain. Here the
 * target's return address is left on its stack and `ret` takes it: the
 * predictor stays balanced, and when both fibers switched from the same call
 * site (every yield, block and wake-up does, in Worker::switch_to) each of
 * those returns is predicted right.
 *
 * And it does not switch MXCSR and the x87 control word (their slots are left
 * as they are): every fiber of a worker shares the host thread's. Nothing in
 * the kernel changes them, and SIP code cannot: WebAssembly has no rounding
 * mode or exception-mask control, and the runtime never calls fesetenv. (The
 * preemption trampoline saves and restores all SSE/x87 state of the code it
 * interrupts around its switch.) Saving and loading them was most of the
 * cost of a switch: fldcw and ldmxcsr serialise.
 */
    .text
    .globl signet_switch_context
    .type signet_switch_context, @function
    .align 16
signet_switch_context:
    leaq  -0x38(%rsp), %rsp
    movq  %r12, 0x8(%rsp)
    movq  %r13, 0x10(%rsp)
    movq  %r14, 0x18(%rsp)
    movq  %r15, 0x20(%rsp)
    movq  %rbx, 0x28(%rsp)
    movq  %rbp, 0x30(%rsp)
    movq  %rsp, %rax            /* from: the context we leave */
    movq  %rdi, %rsp            /* to */
    movq  0x8(%rsp), %r12
    movq  0x10(%rsp), %r13
    movq  0x18(%rsp), %r14
    movq  0x20(%rsp), %r15
    movq  0x28(%rsp), %rbx
    movq  0x30(%rsp), %rbp
    leaq  0x38(%rsp), %rsp      /* the target's return address is now on top */
    movq  %rsi, %rdx            /* transfer_t { from, data } in RAX:RDX ... */
    movq  %rax, %rdi            /* ... and as the first argument of a new context's entry */
    ret
    .size signet_switch_context, .-signet_switch_context
    .section .note.GNU-stack,"",@progbits
