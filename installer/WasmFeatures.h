// The WebAssembly features Signet accepts, in wabt's terms. One list, used by
// verification, re-validation after tree shaking and translation alike.
#pragma once

#include <wabt/feature.h>

namespace signet::installer {

// wabt 1.0.32's defaults that wasm2c 1.0.32 translates: mutable-globals,
// saturating-float-to-int, sign-extension, multi-value, bulk-memory and
// reference-types. Everything else is off: SIMD (wasm2c aborts on it), threads
// and atomics (SIPs are single-threaded and own their memory), exceptions,
// tail calls, memory64, multi-memory, extended-const, GC and the rest.
inline wabt::Features signet_features()
{
    wabt::Features features;
#define WABT_FEATURE(variable, flag, default_, help) features.disable_##variable();
#include <wabt/feature.def>
#undef WABT_FEATURE
    features.enable_mutable_globals();
    features.enable_sat_float_to_int();
    features.enable_sign_extension();
    features.enable_multi_value();
    features.enable_bulk_memory();
    features.enable_reference_types();
    return features;
}

// Every feature whose binary encoding wabt can read, so that a module using a
// refused feature is parsed far enough to say which instruction is the problem.
inline wabt::Features diagnostic_features()
{
    wabt::Features features = signet_features();
    features.enable_simd();
    features.enable_relaxed_simd();
    features.enable_threads();
    features.enable_exceptions();
    features.enable_tail_call();
    features.enable_memory64();
    features.enable_multi_memory();
    features.enable_extended_const();
    return features;
}

} // namespace signet::installer
