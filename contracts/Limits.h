// Every limit of the contract language in one place. The checker enforces them on
// sources, the descriptor decoder on bytes, and docs/contracts.md lists them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace signet::contracts::limits {

inline constexpr size_t max_source_size = 4 * 1024 * 1024;
inline constexpr size_t max_identifier_length = 128;
// How deeply `( … or … )` may nest. The parser recurses once per level.
inline constexpr uint32_t max_nesting_depth = 64;
// How long a chain of imports may be, and how many files one compilation may read.
inline constexpr uint32_t max_import_depth = 32;
inline constexpr uint32_t max_files = 256;

inline constexpr uint32_t max_messages = 1024;   // per contract
inline constexpr uint32_t max_arguments = 64;    // per message
inline constexpr uint32_t max_states = 4096;     // per contract, named and intermediate
inline constexpr uint32_t max_referenced_contracts = 256; // in one contract's closure (its descriptor)

// N in bytes<N> and string<N>: 1 ≤ N ≤ 1 MiB.
inline constexpr uint64_t max_buffer_bound = 1024 * 1024;
// N in block<N>: 1 ≤ N ≤ 1 GiB.
inline constexpr uint64_t max_block_bound = 1024 * 1024 * 1024;
// A whole message buffer, arguments and padding included.
inline constexpr uint32_t max_message_size = 2 * 1024 * 1024;

// The largest descriptor the decoder looks at; real descriptors are far smaller.
inline constexpr size_t max_descriptor_size = 4 * 1024 * 1024;

} // namespace signet::contracts::limits
