//! The host against real components: the examples and the fixtures in `plugins/examples`,
//! built for wasm32-wasip2 by `guildhall_plugin_host::testing`. One test binary.

mod cache;
mod limits;
mod loading;
mod measure;
mod role_mapper;
mod support;
mod transform;
