//! The deploy drawer: the form ([`form`]), the deployment being followed
//! ([`progress`]) and the deployments list ([`list`]).

mod form;
mod list;
mod progress;
mod support;

use leptos::prelude::*;

use crate::deploy_link;
use crate::deployment::Shown;
use crate::state::Ctx;
use form::DeployForm;
use list::DeploymentsList;
use progress::{Endpoints, GeneratedSecrets, Progress};

/// The drawer's frame: its contents load as their own module the first time it
/// opens (`#[lazy]`, split out by `build-ui`), so the page's first load does not
/// carry the form, the progress follower and the list.
#[allow(unreachable_pub)] // leptos's #[component] expands to `pub` items
#[component]
pub(crate) fn DeployPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    // Outside the lazy part: the deployment being followed survives closing the drawer.
    let progress: RwSignal<Option<Progress>> = RwSignal::new(None);
    move || {
        ctx.deploy_open
            .get()
            .then(|| Suspend::new(async move { drawer(progress).await }))
    }
}

#[lazy]
fn drawer(progress: RwSignal<Option<Progress>>) -> AnyView {
    let ctx = expect_context::<Ctx>();
    view! {
        <div class="drawer" data-testid="deploy-panel">
            <header>
                <h2>"Deploy"</h2>
                <span class="spacer"></span>
                <button class="link" on:click=move |_| ctx.deploy_open.set(false)>"close"</button>
            </header>
            {move || (ctx.counts.get().errors > 0).then(|| view! {
                <p class="warn">{format!("The spec has {} error(s); the server will refuse it until they are fixed.", ctx.counts.get().errors)}</p>
            })}
            {move || ctx.spec_id.get().map(|id| {
                let (md, html) = deploy_link::snippets(&crate::state::origin(), &id);
                view! {
                    <details class="snippet"><summary>"Deploy with specstudio button"</summary>
                        <pre data-testid="deploy-snippet-md">{md}</pre><pre>{html}</pre>
                    </details>
                }
            })}
            <DeployForm progress=progress/>
            {move || progress.get().map(|p| {
                let status = if p.deleted { "deleted" } else { p.status.as_str() };
                view! {
                    <section class="progress" data-testid="deploy-progress" data-status=status>
                        <h3>{format!("Deployment {} — {status}", p.id)}</h3>
                        {(!p.generated.is_empty()).then(|| view! { <GeneratedSecrets progress=progress/> })}
                        <pre class="log">{p.lines.join("\n")}</pre>
                        {p.deployment.as_ref().filter(|d| !d.endpoints.is_empty()).map(|d| view! { <Endpoints shown=Shown::from(d)/> })}
                    </section>
                }
            })}
            <DeploymentsList progress=progress/>
        </div>
    }
    .into_any()
}
