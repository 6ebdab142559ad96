// The reference for the tree-shaking table: linked with the whole of wasi-libc
// (--whole-archive) and every symbol exported, this is the C library an open
// process must carry, since code it loads later may call any of it. A sealed
// program carries only what its own entry point reaches.
int main(void)
{
    return 0;
}
