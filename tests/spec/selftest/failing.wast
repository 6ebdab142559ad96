;; The harness's own test: every command here must FAIL, so that a harness
;; that passes everything is caught. Run by ctest as spec.selftest.failing.

(module
  (global $counter (export "counter") (mut i32) (i32.const 0))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "bump") (result i32)
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (global.get $counter))
  (func (export "pair") (result i32 i32) (i32.const 1) (i32.const 2))
  (func (export "signaling") (result f32) (f32.reinterpret_i32 (i32.const 0x7fa00000)))
  (func (export "negative-nan") (result f64) (f64.reinterpret_i64 (i64.const 0xfff8000000000001)))
  (func (export "id-extern") (param externref) (result externref) (local.get 0))
  (func $deep (export "deep") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
      (else (call $deep (i32.sub (local.get 0) (i32.const 1)))))))

(assert_return (invoke "add" (i32.const 1) (i32.const 1)) (i32.const 3))
(assert_return (invoke "div_s" (i32.const 1) (i32.const 0)) (i32.const 0))
(assert_trap (invoke "add" (i32.const 1) (i32.const 1)) "integer overflow")
(assert_trap (invoke "div_s" (i32.const 1) (i32.const 0)) "integer overflow")
(assert_exhaustion (invoke "deep" (i32.const 10)) "call stack exhausted")
(assert_return (invoke "pair") (i32.const 1))
(assert_return (invoke "signaling") (f32.const nan:arithmetic))
(assert_return (invoke "negative-nan") (f64.const nan:canonical))
(assert_return (invoke "id-extern" (ref.extern 1)) (ref.extern 2))
(assert_return (invoke "id-extern" (ref.extern 1)) (ref.null extern))
(assert_return (invoke "nothing"))
(assert_return (invoke "add" (i32.const 1)) (i32.const 1))
(invoke "bump")
(assert_trap (invoke "div_s" (i32.const 1) (i32.const 0)) "integer divide by zero")
;; Replay restored the counter to 1, so 2 is right and 3 is wrong.
(assert_return (invoke "bump") (i32.const 3))

(assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")
(assert_malformed (module binary "\00asm\01\00\00\00") "unexpected end")
(assert_unlinkable (module (import "spectest" "memory" (memory 1))) "incompatible import type")
(assert_trap (module (memory 1) (data (i32.const 0) "x")) "out of bounds memory access")
(assert_trap (module (func $start unreachable) (start $start)) "out of bounds memory access")

;; A module that traps while instantiating fails, and so does what runs on it.
(module (func $start unreachable) (start $start) (func (export "f")))
(assert_return (invoke "f"))
