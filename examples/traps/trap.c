// One program per trap kind, selected at build time with -DTRAP_<KIND>.
// Each prints a line first, so a test can see that it ran up to the trap.
#include <stdint.h>
#include <stdio.h>

typedef int (*binary_fn)(int, int);
typedef int (*unary_fn)(int);

__attribute__((noinline)) int add(int a, int b) { return a + b; }

// Recursion the compiler cannot turn into a loop. Its values live in wasm
// locals, which wasm2c keeps on the native stack, so this exhausts the SIP's
// native stack (not the C library's shadow stack in linear memory).
__attribute__((noinline)) uint64_t recurse(uint64_t depth, uint64_t limit)
{
    if (depth == limit)
        return depth;
    uint64_t a = depth * 3;
    uint64_t b = depth ^ 7;
    // Two calls per frame: no compiler can turn this into a loop.
    uint64_t left = recurse(depth + 1, limit);
    return (left & 1) ? recurse(depth + 2, limit) * a : left + b;
}

int main(int argc, char** argv)
{
    (void)argv;
    printf("about to trap\n");
    fflush(stdout);
    int volatile zero = argc - 1; // 0 when run without arguments
    (void)zero;
#if defined(TRAP_OUT_OF_BOUNDS)
    int volatile* far = (int volatile*)(uintptr_t)0xFFFFFFF0u;
    return *far;
#elif defined(TRAP_STACK_EXHAUSTED)
    return (int)recurse(0, UINT64_MAX - (uint64_t)zero);
#elif defined(TRAP_DIVIDE_BY_ZERO)
    return 100 / zero;
#elif defined(TRAP_INTEGER_OVERFLOW)
    int volatile minimum = INT32_MIN;
    int volatile minus_one = -1 + zero;
    return minimum / minus_one;
#elif defined(TRAP_INVALID_CONVERSION)
    float volatile not_a_number = __builtin_nanf("");
    return __builtin_wasm_trunc_s_i32_f32(not_a_number);
#elif defined(TRAP_UNREACHABLE)
    __builtin_trap();
#elif defined(TRAP_BAD_INDIRECT_CALL)
    // Call a (int,int) function through a (int) pointer: the table entry's type does not match.
    binary_fn volatile good = add;
    unary_fn bad = (unary_fn)good;
    return bad(1);
#else
#error "define one TRAP_<KIND>"
#endif
}
