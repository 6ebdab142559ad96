// What the harness's wabt-facing files share: the features the scripts are
// written in, and wabt's value types in the harness's terms.
#pragma once

#include "base/ErrorOr.h"
#include "tests/spec/WastScript.h"

#include <wabt/feature.h>
#include <wabt/type.h>

namespace signet::spec {

// Every proposal the suite's scripts use, so that SIMD and the rest parse and
// reach the installer (which refuses what Signet does not support). Not
// function-references or GC: with them wabt types (ref.func $f) as a
// non-nullable (ref 0), which the 2.0 scripts do not expect.
wabt::Features script_features();

ErrorOr<ValueType> value_type_of(wabt::Type);

} // namespace signet::spec
