// Generates the C header for a checked contract file: for each contract, the
// message structs, message ids, typed send functions for each end, a typed
// receive and select for each end, and the descriptor bytes. The header is C11
// and C++ alike and needs nothing but the C library's headers, so it compiles
// for wasm32 SIPs and for the host. docs/contracts.md shows an example.
#pragma once

#include "contracts/Checker.h"

#include <string>

namespace signet::contracts {

struct GeneratedHeader {
    std::string file_name; // `<stem of the contract file>.h`
    std::string text;
};

GeneratedHeader generate_c(CheckedFile const&);

} // namespace signet::contracts
