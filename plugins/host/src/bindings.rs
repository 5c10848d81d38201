//! Host bindings generated from `plugins/wit/guildhall.wit`, one module per world. The
//! generated code implements wasmtime's unsafe `ComponentType` traits for the WIT types.
#![allow(unsafe_code)]

pub mod role_mapper {
    wasmtime::component::bindgen!({ world: "role-mapper", path: "../wit" });
}

pub mod webhook_transform {
    wasmtime::component::bindgen!({ world: "webhook-transform", path: "../wit" });
}
