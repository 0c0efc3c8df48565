//! The browser editor, built for wasm32 into `dist/` (see the README).
//!
//! [`abi`] exposes the spec core to plain JavaScript without any binding
//! generator, so a test can run the wasm build under node and compare it with
//! the native CLI byte for byte.
//!
//! With the `app` feature (what `cargo run -p xtask -- build-ui` builds) the
//! crate is also the Leptos page: Monaco driven through [`monaco`], live lint,
//! the dependency graph, share links and the deploy form. [`language`],
//! [`codec`] and [`form`] are plain Rust over `shared` and are tested natively.

// Also in the page build: `server/tests/wasm_parity.rs` runs the shipped module
// through these exports.
pub mod abi;
pub mod codec;
pub mod deploy_link;
pub mod deployment;
pub mod docs;
pub mod form;
pub mod language;
pub mod secrets_fix;

#[cfg(feature = "app")]
mod api;
#[cfg(feature = "app")]
mod app;
#[cfg(feature = "app")]
mod deploy;
#[cfg(feature = "app")]
mod dialog;
#[cfg(feature = "app")]
mod docs_view;
#[cfg(feature = "app")]
mod documents;
#[cfg(feature = "app")]
mod editor_pane;
#[cfg(feature = "app")]
mod examples;
#[cfg(feature = "app")]
mod graph_view;
#[cfg(feature = "app")]
mod lint;
#[cfg(feature = "app")]
mod lint_worker;
#[cfg(feature = "app")]
mod live_lint;
#[cfg(feature = "app")]
mod menu;
#[cfg(feature = "app")]
pub mod monaco;
#[cfg(feature = "app")]
mod problems;
#[cfg(feature = "app")]
mod providers;
#[cfg(feature = "app")]
mod share;
#[cfg(feature = "app")]
mod state;

/// Entry point: mount the app on `<body>`.
#[cfg(feature = "app")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    // In the lint worker there is no page to mount: it only calls `lint_view`.
    if web_sys::window().is_none() {
        return;
    }
    leptos::mount::mount_to_body(app::App);
}
