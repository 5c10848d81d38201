;; TEST FIXTURE: a valid component that implements neither plugin world; it exports
;; `hello: func() -> u32` instead of `map-role` or `transform`.
(component
  (core module $m
    (func (export "hello") (result i32) i32.const 42))
  (core instance $i (instantiate $m))
  (func $hello (result u32) (canon lift (core func $i "hello")))
  (export "hello" (func $hello)))
