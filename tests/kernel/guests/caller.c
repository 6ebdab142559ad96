// Calls the kernel forever (a yield at a time) and computes nothing else: in a
// protection domain, the kernel's side of its calls (its proxy threads) costs
// about as much CPU as its own.
#include <signet/abi.h>

void _start(void)
{
    for (;;)
        signet_yield();
}
