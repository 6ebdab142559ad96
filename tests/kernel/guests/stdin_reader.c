// Reads stdin through WASI's fd_read (the C library's read), once: a target
// for kill while it waits for input that never comes.
#include <unistd.h>

int main(void)
{
    char buffer[64];
    return read(0, buffer, sizeof buffer) < 0;
}
