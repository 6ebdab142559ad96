// WASI file calls served through channels (docs/filesystem.md, "WASI files").
//
// A WASI program's descriptors from 3 up are directories and files of
// file-system services: each preopened directory is a FileSystem.Imp endpoint
// the kernel holds for the SIP, and path_open, fd_read, fd_readdir, ... become
// FileSystem requests on it, spoken on the SIP's fiber. What a service does not
// serve, the program cannot reach: there is no other path to any file.
#pragma once

#include "base/ErrorOr.h"
#include "kernel/object/Channel.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace signet {

class Sip;

// A directory given to a WASI program: the name it sees (fd_prestat_dir_name)
// and a FileSystem.Imp endpoint in state Ready whose root it is.
struct WasiPreopen {
    std::string guest_path;
    std::shared_ptr<Endpoint> endpoint;
};

// The SIP's descriptors from 3 up. Give a SIP its preopens before it starts.
class WasiFileTable;
std::shared_ptr<WasiFileTable> make_wasi_file_table(std::vector<WasiPreopen>);

// Adds a preopened directory to a SIP that has not started: `endpoint` must be
// the Imp end of a FileSystem channel in state Ready with nothing waiting.
// Errors say what is wrong. For the host (`signet boot`) and child_bind_directory.
// With a `base` other than "/", the SIP sees only that directory of the file
// system; it is checked to be one first, by a request on the endpoint (so on the
// fiber of the SIP that holds it: child_bind_directory).
ErrorOr<void> add_wasi_preopen(Sip&, std::string guest_path, std::shared_ptr<Endpoint>, std::string const& base = "/");

namespace abi {

// For Wasi.cpp, which keeps descriptors 0-2: the calls on descriptors above 2.
uint32_t wasi_file_close(Sip&, uint32_t fd);
uint32_t wasi_file_fdstat_get(Sip&, uint32_t fd, uint32_t out);
uint32_t wasi_file_filestat_get(Sip&, uint32_t fd, uint32_t out);
// fd_filestat_set_times: the modification time (a file keeps no access time of its own).
uint32_t wasi_file_filestat_set_times(Sip&, uint32_t fd, uint64_t access_ns, uint64_t modified_ns, uint32_t flags);
// fd_read and fd_write; with an offset, fd_pread and fd_pwrite (the descriptor's position stays).
uint32_t wasi_file_read(Sip&, uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out_read, std::optional<uint64_t> offset = {});
uint32_t wasi_file_write(Sip&, uint32_t fd, uint32_t iovs, uint32_t count, uint32_t out_written, std::optional<uint64_t> offset = {});

} // namespace abi
} // namespace signet
