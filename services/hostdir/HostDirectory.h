// A host directory served through FileSystem.contract (docs/filesystem.md,
// "Host directories"), for `signet run --dir HOST[::GUEST]`.
//
// The server is a host-driven SIP: kernel code on its own fiber that holds the
// Exp end of a FileSystem channel and a descriptor of the host directory, and
// nothing else. Every path is resolved beneath that descriptor with openat2
// and RESOLVE_BENEATH, so `..`, absolute paths and symbolic links cannot name
// anything outside it; the final component of a name it creates, removes or
// renames is a plain name in a parent resolved the same way.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/Kernel.h"

#include <memory>
#include <string>

namespace signet {

// Starts a server for `host_path` (which must be a directory) and returns the
// Imp end of its channel, in state Ready. `image` is any mapped image: the
// server SIP instantiates it but runs none of its code. The server ends when
// the Imp end closes.
ErrorOr<std::shared_ptr<Endpoint>> serve_host_directory(Kernel&, std::shared_ptr<Image> image, std::string const& host_path);

} // namespace signet
