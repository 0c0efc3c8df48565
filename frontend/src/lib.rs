//! The browser editor. Built for wasm32 into `dist/`; see the README.
