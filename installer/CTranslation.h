// Translation to C: wasm2c (libwabt's C writer, in-process) plus the glue unit
// that defines the image's `signet_image` table (runtime/ImageAbi.h).
#pragma once

#include "base/ErrorOr.h"

#include <string>

namespace wabt {
struct Module;
}

namespace signet::installer {

// Every wasm2c symbol of an image is Z_sip*: the module name is always "sip".
inline constexpr char const* translated_module_name = "sip";
inline constexpr char const* translated_source_name = "sip.c";
inline constexpr char const* translated_header_name = "sip.h";
inline constexpr char const* glue_source_name = "glue.c";

struct CTranslation {
    std::string source; // sip.c; includes "sip.h"
    std::string header; // sip.h
};

// Names the module's items (GenerateNames + ApplyNames, as the wasm2c tool does),
// which changes `module`, then writes C. The module must be verified.
ErrorOr<CTranslation> translate_to_c(wabt::Module& module);

// The glue unit: includes "ImageAbi.h" and "sip.h", defines `signet_image` with
// default visibility, then appends extra_c_source. The instantiate wrapper passes
// `host` once for every import-module parameter of Z_sip_instantiate, counted
// from the generated header itself.
// `stack_pointer_global` is true when global 0 is a defined, mutable i32 (the C
// shadow-stack pointer of clang's wasm32 ABI): the glue then records where the
// instance keeps it, so the kernel can give each SIP thread its own stack.
ErrorOr<std::string> generate_glue(std::string const& header, std::string const& module_hash, bool has_start, bool stack_pointer_global,
    std::string const& extra_c_source);

} // namespace signet::installer
