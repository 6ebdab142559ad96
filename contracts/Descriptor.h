// The descriptor: a checked contract as compact, versioned bytes. The C
// generator embeds it in the header, the installer records it, and the kernel
// decodes it to lay out queues and enforce the protocol. docs/contracts.md
// ("The descriptor") specifies the format.
#pragma once

#include "base/ErrorOr.h"
#include "contracts/Contract.h"

#include <cstdint>
#include <span>
#include <vector>

namespace signet::contracts {

inline constexpr uint8_t descriptor_magic[4] = { 'S', 'G', 'C', 'D' };
inline constexpr uint16_t descriptor_version = 2;
inline constexpr size_t descriptor_header_size = 12;

// Encodes a contract that passes validate().
std::vector<uint8_t> encode_descriptor(Contract const&);

// Decodes bytes from anywhere, hostile ones included: every count, offset,
// name and enum is checked, then the whole contract is validated (layouts
// recomputed, the state machine analysed, the queue bounds recomputed).
// Whatever decodes re-encodes to the same bytes.
ErrorOr<Contract> decode_descriptor(std::span<uint8_t const>);

} // namespace signet::contracts
