//! Browser helpers the deploy drawer's parts share: the query string, the
//! remembered token, a timer, the clipboard, the spec's replica parameter.

/// `(name, value)` pairs of the page's query string.
pub(super) fn query_pairs() -> Vec<(String, String)> {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let entries = js_sys::try_iter(&params).ok().flatten();
    for entry in entries.into_iter().flatten().flatten() {
        let pair = js_sys::Array::from(&entry);
        if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
            out.push((k, v));
        }
    }
    out
}

pub(super) const TOKEN_KEY: &str = "specstudio.token";

pub(super) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

pub(super) fn copy(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// The replica-count api-param of the spec, if any (`numReadReplicas`), with
/// the service whose replicas it counts.
pub(super) fn replica_param() -> Option<ReplicaParam> {
    let snapshot = crate::lint::last_parsed()?;
    snapshot.analysis.spec.services.iter().find_map(|s| {
        s.compute
            .as_ref()?
            .replica_count_api_param
            .as_ref()
            .map(|p| ReplicaParam {
                service: s.name.value.clone(),
                key: p.value.clone(),
            })
    })
}

/// A service's replica-count api-param.
#[derive(Clone)]
pub(super) struct ReplicaParam {
    pub(super) service: String,
    pub(super) key: String,
}
