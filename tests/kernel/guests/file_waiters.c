// A WASI program whose two threads open files under /data at once, for a kill
// while both wait: the test's file server never answers, so one thread waits
// for its reply and the other for its turn to make a file call.
#include <signet/thread.h>

#include <fcntl.h>

static _Alignas(16) unsigned char second_stack[16 * 1024];

static void second(void* unused)
{
    (void)unused;
    open("/data/second", O_RDONLY);
    signet_thread_exit(0);
}

int main(void)
{
    signet_handle thread = 0;
    if (signet_thread_start(second, 0, second_stack, sizeof second_stack, &thread) != SIGNET_OK)
        return 1;
    open("/data/first", O_RDONLY);
    return 2;
}
