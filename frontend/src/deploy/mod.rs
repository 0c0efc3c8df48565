//! The deploy drawer: the form ([`form`]), the deployment being followed
//! ([`progress`]) and the deployments list ([`list`]).

mod form;
mod list;
mod progress;
mod support;

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::deploy_link;
use crate::state::Ctx;
use form::DeployForm;
use list::DeploymentsList;
use progress::{Endpoints, GeneratedSecrets, Progress};

#[component]
pub fn DeployPanel() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let progress: RwSignal<Option<Progress>> = RwSignal::new(None);
    view! {
        {move || ctx.deploy_open.get().then(|| view! {
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
                    let status = p.deployment.as_ref().map(|d| d.status.clone()).unwrap_or_else(|| "provisioning".into());
                    view! {
                        <section class="progress" data-testid="deploy-progress" data-status=status.clone()>
                            <h3>{format!("Deployment {} — {status}", p.id)}</h3>
                            {(!p.generated.is_empty()).then(|| view! { <GeneratedSecrets progress=progress/> })}
                            <pre class="log">{p.lines.join("\n")}</pre>
                            {p.deployment.clone().filter(|d| !d.endpoints.is_empty()).map(|d| {
                                let exported: BTreeMap<String, String> = d.params.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect();
                                view! { <Endpoints deployment=d values=exported/> }
                            })}
                        </section>
                    }
                })}
                <DeploymentsList progress=progress/>
            </div>
        })}
    }
}
