//! The generated bindings for the `ecosystem:certify/plugin` world: the only
//! `wit_bindgen::generate!` on the guest side. Plugin authors use the curated
//! API in the crate root instead of these types.

wit_bindgen::generate!({
    path: "wit",
    world: "ecosystem:certify/plugin@0.1.0",
    pub_export_macro: true,
    export_macro_name: "__export_certify_world",
    default_bindings_module: "certify_sdk::bindings",
});
