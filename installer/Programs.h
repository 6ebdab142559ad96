// Installed programs: what `signet install MANIFEST` puts in the system, and
// what the kernel launches by name.
//
// $SIGNET_HOME/programs/<name>/ holds the manifest as installed, a record of
// what the installer checked and built (installed.toml), and the descriptor of
// every contract the program's endpoints and services speak (*.sgcd).
#pragma once

#include "installer/Installer.h"
#include "installer/Manifest.h"

#include <map>
#include <string>
#include <vector>

namespace signet::installer {

// An endpoint or service type, resolved: the contract's descriptor and the
// index of the named state in its state machine.
struct ResolvedEndpointType {
    std::string name; // the endpoint's name, or the service's path
    std::string contract;
    std::string end;   // "Imp" or "Exp"
    std::string state;
    uint16_t state_index { 0 };
    std::string descriptor_sha256;
};

struct InstalledProgram {
    Manifest manifest;
    ImageInfo image;
    std::vector<ResolvedEndpointType> endpoints;
    std::vector<ResolvedEndpointType> services;
    // Contract name -> descriptor bytes, for every contract the program declares.
    std::map<std::string, std::vector<uint8_t>> descriptors;
};

// $SIGNET_HOME/programs (next to the store).
std::string programs_dir(std::string const& store_dir);

// Checks a manifest against its module and contracts, installs the module
// (tree-shaken to the manifest's entry points), and records the program. A bad
// manifest installs nothing; the error names the file, the field and the problem.
ErrorOr<InstalledProgram> install_program(std::string const& manifest_path, InstallOptions const&);
ErrorOr<void> uninstall_program(std::string const& store_dir, std::string const& name);
ErrorOr<std::vector<std::string>> list_programs(std::string const& store_dir);
// Reads an installed program back, with its image verified against the store.
ErrorOr<InstalledProgram> find_program(std::string const& store_dir, std::string const& name);

} // namespace signet::installer
