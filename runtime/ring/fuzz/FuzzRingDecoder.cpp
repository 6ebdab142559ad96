// libFuzzer target: a hostile domain writing into its ring while the kernel
// reads requests and writes replies (RingFuzzDriver.h). Nothing may crash,
// touch memory outside the region, or hang.
#include "runtime/ring/fuzz/RingFuzzDriver.h"

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    (void)signet::ring::fuzz::drive_kernel_side({ data, size });
    return 0;
}
