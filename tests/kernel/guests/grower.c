// Grows its memory page by page until the kernel refuses; prints the page count.
#include <stdio.h>

int main(void)
{
    unsigned long pages = __builtin_wasm_memory_size(0);
    while (__builtin_wasm_memory_grow(0, 1) != (unsigned long)-1)
        ++pages;
    printf("pages=%lu\n", pages);
    return 0;
}
