// The versions that make up the installer's toolchain. All of them are part of
// every store key: a different installer, wabt or binaryen never reuses an image.
#pragma once

#include "runtime/ImageAbi.h"

#include <wabt/config.h>

namespace signet::installer {

// Set by installer/CMakeLists.txt.
inline constexpr char const* installer_version = SIGNET_INSTALLER_VERSION;
inline constexpr char const* binaryen_version = SIGNET_BINARYEN_VERSION;
inline constexpr char const* wabt_version = WABT_VERSION_STRING;
inline constexpr unsigned image_abi_version = SIGNET_IMAGE_ABI_VERSION;

} // namespace signet::installer
