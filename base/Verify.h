// VERIFY(): a kernel invariant. A failing VERIFY is a Signet bug, never a
// guest's fault: it prints where and aborts so the bug is seen at once.
#pragma once

namespace signet {
[[noreturn]] void verification_failed(char const* expression, char const* file, int line);
}

#define VERIFY(expression)                                                     \
    do {                                                                       \
        if (!(expression)) [[unlikely]]                                        \
            ::signet::verification_failed(#expression, __FILE__, __LINE__);    \
    } while (0)

#define VERIFY_NOT_REACHED() ::signet::verification_failed("not reached", __FILE__, __LINE__)
