// Manifests: in Signet, as in Singularity, no code runs without one. A
// manifest names the program and its publisher, its code (a module by path and
// content hash), the ABI and personality it was built for, the channels it
// needs at start and the services it exports (each with contract, end and
// state), its typed parameters, its resource limits and its privileges.
// docs/manifests.md describes every field.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace signet::installer {

struct ContractReference {
    std::string file;     // the .contract file, resolved against the manifest's folder
    std::string contract; // a contract that file declares
    std::string end;      // "Imp" or "Exp"
    std::string state;    // a named state of that contract
};

struct ManifestEndpoint {
    std::string name;
    ContractReference type;
};

struct ManifestService {
    std::string path; // in the directory namespace, e.g. /service/calculator
    ContractReference type;
};

// A host resource the program is given by the kernel: its disk
// ([[resource]] kind = "disk", name = "disk0", size = "64MiB") or a TCP port it
// listens on (kind = "tcp-listen", name = "http"; the host binds the address).
struct ManifestResource {
    enum class Kind { Disk, TcpListen };
    Kind kind { Kind::Disk };
    std::string name;
    uint64_t size_bytes { 0 }; // disks only
};

struct ManifestParameter {
    enum class Type { String, Integer, Boolean };
    std::string name;
    Type type { Type::String };
    std::string default_value; // as text; empty and absent for a required parameter
    bool required { false };
};

struct ManifestLimits {
    uint64_t memory_bytes { 256ull << 20 };
    uint64_t exchange_bytes { 64ull << 20 };
    uint64_t channel_bytes { 64ull << 20 }; // what the channels its SIPs create may cost the kernel
    uint32_t threads { 64 };
    uint64_t cpu_time_ns { 0 }; // 0: no limit
};

struct Manifest {
    std::string path; // the manifest file itself
    std::string name;
    std::string version;
    std::string publisher;
    std::string module_path;   // resolved against the manifest's folder
    std::string module_sha256; // empty if the manifest gives none
    std::string abi;           // "signet_v1"
    std::string personality;   // "native" or "wasi"
    // Contracts the code creates channels of itself ("file.contract#Name"), beyond
    // those of its endpoints and services.
    std::vector<ContractReference> uses;
    std::vector<ManifestEndpoint> endpoints;
    std::vector<ManifestService> services;
    std::vector<ManifestParameter> parameters;
    std::vector<ManifestResource> resources;
    // [[directory]] guest = "/data", path = "/notes": WASI paths at which it may
    // be given the system file system as a preopened directory
    // (child_bind_directory), each seeing the directory `path` of it ("/": all).
    struct Directory {
        std::string guest;
        std::string path { "/" };
    };
    std::vector<Directory> directories;
    ManifestLimits limits;
    bool may_create_children { false };
    // Where its SIPs run (docs/protection-domains.md): "kernel" (the default),
    // "own" (a sealed domain process each), or the name of a shared domain.
    std::string domain { "kernel" };

    std::string principal() const { return publisher + "/" + name; }
};

// Reads and checks a manifest's form: every field present and well-typed, names
// and values valid. Errors name the file, the field and the problem. What needs
// other files (the module, the contracts) is checked by install_program().
ErrorOr<Manifest> parse_manifest(std::string const& path);
ErrorOr<Manifest> parse_manifest_text(std::string const& text, std::string const& path);

// Parses "10s", "250ms", "1500us", "2m" into nanoseconds.
ErrorOr<uint64_t> parse_duration(std::string const& text);

} // namespace signet::installer
