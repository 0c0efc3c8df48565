//! Share: a link with the spec deflated into the fragment (never sent to a
//! server), or — past 8 KB — a short `/s/<id>` link through `POST /api/specs`.
//! Literal secrets are flagged first, with their fixes offered.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::codec;
use crate::dialog::Modal;
use crate::monaco::MonacoRange;
use crate::state::{editor_text, origin, with_editor, Ctx};

#[derive(Clone, Debug, PartialEq)]
enum State {
    Closed,
    Busy,
    /// Secret findings (message, line) and whether fixes exist.
    Secrets(Vec<(String, u32)>, bool),
    Link(Links),
    Error(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Links {
    edit: String,
    preview: String,
    /// A stored spec: id (the deploy snippet needs one).
    stored: Option<String>,
    via_server: bool,
}

fn is_secret_rule(code: &str) -> bool {
    shared::rules::find(code).is_some_and(|r| r.meta().layer == shared::rules::Layer::Secrets)
}

/// (message, 1-based line) of each finding.
type Findings = Vec<(String, u32)>;
/// Edits that replace the literals with references.
type Edits = Vec<(MonacoRange, String)>;

/// Secret findings in the latest lint, and their fixes.
fn secret_findings() -> (Findings, Edits) {
    let Some(snapshot) = crate::lint::current() else {
        return (Vec::new(), Vec::new());
    };
    let mut found = Vec::new();
    let mut edits = Vec::new();
    for d in snapshot
        .analysis
        .diagnostics
        .iter()
        .filter(|d| is_secret_rule(d.code))
    {
        let line = snapshot.index.line_of(d.span.start) as u32 + 1;
        found.push((format!("{}: {}", d.code, d.message), line));
        if let Some(fix) = &d.fix {
            for e in &fix.edits {
                let range =
                    MonacoRange::from_range(snapshot.index.range_utf16(&snapshot.text, e.span));
                if !edits
                    .iter()
                    .any(|(r, _): &(MonacoRange, String)| *r == range)
                {
                    edits.push((range, e.replacement.clone()));
                }
            }
        }
    }
    (found, edits)
}

async fn make_links(text: String, force_server: bool) -> Result<Links, String> {
    let fragment = codec::fragment(&text);
    let base = origin();
    if !force_server && fragment.len() + base.len() + 2 <= codec::MAX_FRAGMENT_BYTES {
        return Ok(Links {
            edit: format!("{base}/#{fragment}"),
            preview: format!("{base}/?view=preview#{fragment}"),
            stored: None,
            via_server: false,
        });
    }
    let stored = crate::api::store_spec(&text)
        .await
        .map_err(|e| format!("Storing the spec failed: {e}"))?;
    let url = if stored.url.starts_with("http") {
        stored.url.clone()
    } else {
        format!("{base}{}", stored.url)
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    Ok(Links {
        preview: format!("{url}{sep}view=preview"),
        edit: url,
        stored: Some(stored.id),
        via_server: true,
    })
}

fn copy(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

#[component]
fn CopyField(value: String, testid: &'static str, label: &'static str) -> impl IntoView {
    let v = value.clone();
    view! {
        <label class="copy-field">
            <span>{label}</span>
            <input readonly data-testid=testid prop:value=value.clone() on:focus=|ev| {
                event_target::<web_sys::HtmlInputElement>(&ev).select();
            }/>
            <button on:click=move |_| copy(&v)>"Copy"</button>
        </label>
    }
}

/// A deploy link that prefills the deploy form's current non-secret values
/// (`/deploy?spec=<id>&param.<key>=<value>`).
#[component]
fn DeployLinkBuilder(id: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let link = move || {
        let fields: Vec<crate::form::Field> = ctx
            .parsed()
            .map(|s| crate::form::groups(&s.analysis.spec))
            .unwrap_or_default()
            .into_iter()
            .flat_map(|g| g.fields)
            .collect();
        let values = ctx.form_values.get();
        crate::deploy_link::build(&origin(), &id, &values, &fields)
    };
    view! {
        <label class="copy-field">
            <span>"With values"</span>
            <input readonly data-testid="deploy-link-with-values" prop:value=link.clone() on:focus=|ev| {
                event_target::<web_sys::HtmlInputElement>(&ev).select();
            }/>
            <button on:click=move |_| copy(&link())>"Copy"</button>
        </label>
        <p class="muted">"Prefills the deploy form's current values (secret ones are never put in a link)."</p>
    }
}

/// The Share button. What it opens — the secrets step, the links and the
/// dialogs — loads as its own module on the first click (`#[lazy]`, split out
/// by `build-ui`): the page's first load does not carry it.
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn ShareButton() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let state = RwSignal::new(State::Closed);
    let refusal: RwSignal<Option<String>> = RwSignal::new(None);
    let on_click = move |_| spawn_local(async move { start(ctx, state, refusal).await });
    // Mount the dialog once per opening (not on every state change inside it).
    let open = Memo::new(move |_| state.with(|s| *s != State::Closed));
    view! {
        <button data-testid="share-button" on:click=on_click>"Share"</button>
        {move || open.get().then(|| Suspend::new(async move { dialog(ctx, state, refusal).await }))}
    }
}

/// Share right away, or first show the secret findings.
#[lazy]
fn start(ctx: Ctx, state: RwSignal<State>, refusal: RwSignal<Option<String>>) {
    refusal.set(None);
    let (found, edits) = secret_findings();
    if found.is_empty() {
        share(ctx, state, false);
    } else {
        state.set(State::Secrets(found, !edits.is_empty()));
    }
}

fn share(ctx: Ctx, state: RwSignal<State>, force_server: bool) {
    state.set(State::Busy);
    // A link never carries a literal secret: whatever is left is masked.
    let text = shared::redact::mask_literal_secrets(&editor_text());
    spawn_local(async move {
        match make_links(text, force_server).await {
            Ok(links) => {
                if let Some(id) = &links.stored {
                    ctx.spec_id.set(Some(id.clone()));
                }
                copy(&links.edit);
                state.set(State::Link(links));
            }
            Err(e) => state.set(State::Error(e)),
        }
    });
}

#[lazy]
fn dialog(ctx: Ctx, state: RwSignal<State>, refusal: RwSignal<Option<String>>) -> AnyView {
    let share = move |force_server: bool| share(ctx, state, force_server);
    // Every literal secret becomes its own api-param reference (one undo
    // step), or the dialog says why and nothing is shared.
    let replace = move |_| match crate::secrets_fix::replace_literal_secrets(&editor_text()) {
        Ok(fixed) => {
            with_editor(|e| e.replace_all(&fixed));
            share(false);
        }
        Err(why) => {
            let (left, _) = secret_findings();
            state.set(State::Secrets(left, false));
            refusal.set(Some(why));
        }
    };
    let close = Callback::new(move |_| state.set(State::Closed));
    let dialog = move || {
        match state.get() {
            State::Closed => None,
            State::Busy => Some(view! {
                <Modal title="Share".into() testid="share-busy" on_close=close class="share-dialog">
                    <p>"Preparing the link…"</p>
                </Modal>
            }.into_any()),
            State::Error(e) => Some(
                view! {
                    <Modal title="Share failed".into() testid="share-dialog" on_close=close class="share-dialog">
                        <p class="error">{e}</p>
                        <div class="actions"><button on:click=move |_| close.run(())>"Close"</button></div>
                    </Modal>
                }
                .into_any(),
            ),
            State::Secrets(found, fixable) => Some(
                view! {
                    <Modal title="This spec holds literal secrets".into() testid="secrets-warning" on_close=close class="share-dialog">
                        <p>"A link must not carry them. Replace them with API-parameter references, or share a copy where they read ********?"</p>
                        {move || refusal.get().map(|why| view! { <p class="error" data-testid="replace-refused" role="alert">{format!("Not replaced: {why}")}</p> })}
                        <ul>
                            {found.iter().take(8).map(|(m, line)| view! { <li>{format!("line {line}: {m}")}</li> }).collect_view()}
                            {(found.len() > 8).then(|| view! { <li class="muted">{format!("…and {} more", found.len() - 8)}</li> })}
                        </ul>
                        <div class="actions">
                            {fixable.then(|| view! { <button class="primary" data-testid="replace-secrets" on:click=replace>"Replace with references"</button> })}
                            <button data-testid="share-anyway" on:click=move |_| share(false)>"Share with them masked"</button>
                            <button on:click=move |_| close.run(())>"Cancel"</button>
                        </div>
                    </Modal>
                }
                .into_any(),
            ),
            State::Link(links) => {
                let snippets = links.stored.as_deref().map(|id| crate::deploy_link::snippets(&origin(), id));
                let title = if links.via_server { "Share link (stored on the server: the spec is over 8 KB)" } else { "Share link (the spec travels in the link itself)" };
                Some(
                    view! {
                        <Modal title=title.into() testid="share-dialog" on_close=close class="share-dialog">
                            <CopyField value=links.edit.clone() testid="share-link" label="Editor"/>
                            <CopyField value=links.preview.clone() testid="preview-link" label="Preview"/>
                            {match snippets {
                                Some((md, html)) => view! {
                                    <h4>"Deploy with specstudio"</h4>
                                    <CopyField value=md testid="deploy-snippet-md" label="Markdown"/>
                                    <CopyField value=html testid="deploy-snippet-html" label="HTML"/>
                                    <DeployLinkBuilder id=links.stored.clone().unwrap_or_default()/>
                                }.into_any(),
                                None => view! {
                                    <button data-testid="store-spec" on:click=move |_| share(true)>"Store on the server for a short link and a Deploy button"</button>
                                }.into_any(),
                            }}
                            <div class="actions"><button on:click=move |_| close.run(())>"Close"</button></div>
                        </Modal>
                    }
                    .into_any(),
                )
            }
        }
    };
    view! { {dialog} }.into_any()
}
