//! A minimal C ABI over the spec core: strings in, JSON strings out.
//!
//! Memory protocol: the host calls `specstudio_alloc(len)`, writes UTF-8 bytes
//! there, calls a function with `(ptr, len)`, gets back `ptr << 32 | len` of a
//! result buffer, reads it, and releases both with `specstudio_free`.

use std::alloc::{alloc, dealloc, Layout};

/// Allocate `len` bytes for the host to write into.
#[no_mangle]
#[allow(unreachable_pub)] // exported by symbol name
pub extern "C" fn specstudio_alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return std::ptr::NonNull::<u8>::dangling().as_ptr();
    }
    // SAFETY: the layout has a non-zero size and alignment 1.
    unsafe { alloc(Layout::from_size_align(len, 1).expect("valid layout")) }
}

/// Release a buffer from `specstudio_alloc` or a result.
///
/// # Safety
/// `ptr` and `len` must come from one `specstudio_alloc` call or one result.
#[no_mangle]
#[allow(unreachable_pub)] // exported by symbol name
pub unsafe extern "C" fn specstudio_free(ptr: *mut u8, len: usize) {
    if len != 0 {
        // SAFETY: guaranteed by the caller (same pointer and size as allocated).
        unsafe { dealloc(ptr, Layout::from_size_align(len, 1).expect("valid layout")) }
    }
}

fn input<'a>(ptr: *const u8, len: usize) -> std::borrow::Cow<'a, str> {
    if len == 0 {
        return std::borrow::Cow::Borrowed("");
    }
    // SAFETY: the host wrote `len` bytes at `ptr` (see the module protocol).
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    String::from_utf8_lossy(bytes)
}

fn output(text: String) -> u64 {
    let bytes = text.into_bytes().into_boxed_slice();
    let len = bytes.len();
    let ptr = Box::into_raw(bytes) as *mut u8;
    ((ptr as usize as u64) << 32) | len as u64
}

/// `specstudio lint --format json` for one file: `path` names it in the output.
#[no_mangle]
#[allow(unreachable_pub)] // exported by symbol name
pub extern "C" fn specstudio_lint_json(
    path_ptr: *const u8,
    path_len: usize,
    ptr: *const u8,
    len: usize,
) -> u64 {
    let path = input(path_ptr, path_len);
    let text = input(ptr, len);
    let diagnostics = shared::check(&text);
    output(shared::output::json_report_string(
        &path,
        &text,
        &diagnostics,
    ))
}

/// `specstudio graph --format json`.
#[no_mangle]
#[allow(unreachable_pub)] // exported by symbol name
pub extern "C" fn specstudio_graph_json(ptr: *const u8, len: usize) -> u64 {
    let text = input(ptr, len);
    let analysis = shared::analyze(&text);
    output(serde_json::to_string(&analysis.graph).expect("graph serializes"))
}
