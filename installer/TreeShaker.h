// Tree shaking with binaryen: drop what no export can reach.
#pragma once

#include "base/ErrorOr.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace signet::installer {

// Runs binaryen's "dce", "vacuum" and "remove-unused-module-elements" on a module
// that wabt has already verified and re-encoded (VerifiedModule::encode), after
// removing every export not in keep_exports (when it is non-empty). Returns the
// new bytes, which the caller must verify again.
//
// binaryen 108 reports some problems by printing and calling exit() or abort(),
// so it runs in a forked child: whatever it does, the installer survives and
// the caller falls back to the unshaken module. An error here is never the
// module's fault; it is reported as a warning, not a refusal.
ErrorOr<std::vector<uint8_t>> tree_shake(std::span<uint8_t const> module, std::vector<std::string> const& keep_exports);

} // namespace signet::installer
