#include "base/Error.h"
#include "base/Verify.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace signet {

void verification_failed(char const* expression, char const* file, int line)
{
    std::fprintf(stderr, "signet: internal error: VERIFY(%s) failed at %s:%d\n", expression, file, line);
    std::abort();
}

Error Error::from_errno(std::string const& what, int err)
{
    return Error(ErrorKind::Io, what + ": " + std::strerror(err));
}

} // namespace signet
