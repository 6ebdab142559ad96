// Headers the generated C needs, embedded into the library at build time so an
// install works without the source tree: runtime/ImageAbi.h (the image/kernel
// interface) and wabt's wasm-rt.h (the runtime interface wasm2c output uses),
// exactly as the kernel was compiled against them.
#pragma once

#include <string_view>

namespace signet::installer {

std::string_view embedded_image_abi_header();
std::string_view embedded_wasm_rt_header();

} // namespace signet::installer
