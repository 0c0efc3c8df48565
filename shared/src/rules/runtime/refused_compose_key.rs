use crate::declare_rule;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::docker_verdicts::{Verdict, SERVICE_KEYS};
use crate::rules::{Context, Rule, Sink};
use crate::syntax::Shape;

declare_rule! {
    /// ## What
    /// A compose service key the specstudio server refuses to deploy: keys
    /// that let a container escape to the host (`privileged`,
    /// `network_mode`, `pid: host`, `cap_add`, `devices`, …) and keys it
    /// cannot honour (`build`, `secrets`, `configs`, `env_file`, …). The
    /// verdicts come from one table, `shared::docker_verdicts`, which the server
    /// also applies; the server README lists it.
    ///
    /// ## Why
    /// A key that is silently dropped is a setting the user believes holds.
    /// The server answers `422` naming the key and the reason (an operator
    /// may allow a host-escaping key with `--allow-host-key`). The finding is
    /// a warning, not an error: the file is valid compose (and may deploy
    /// elsewhere); it is this server that will not run it.
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Web:
    ///     image: nginx
    ///     privileged: true    # refused: a privileged container controls the host
    /// ```
    pub struct RefusedComposeKey {
        code: "C101",
        name: "refused-compose-key",
        severity: Warning,
        layer: Compose,
        summary: "The server refuses this compose key",
        help: "Remove the key; the message says why it is refused and what to use instead.",
        fixable: false,
    }
}

impl Rule for RefusedComposeKey {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        let tree = ctx.tree;
        for service in &ctx.spec.services {
            if tree.shape(service.node) != Shape::Mapping {
                continue;
            }
            for e in tree.entries(service.node) {
                let Some(key) = tree.str(e.key) else { continue };
                let Some(v) = verdict(key) else { continue };
                let v = *v;
                if !v.refused() || tree.shape(e.value) == Shape::Null {
                    continue;
                }
                let what = match v {
                    Verdict::HostEscaping(_) => "refused (host-escaping)",
                    _ => "not supported by the specstudio server",
                };
                sink.at_span(
                    tree.span(e.key),
                    Some(e.value),
                    format!(
                        "`{key}` of service `{}` is {what}: {}",
                        service.name.value,
                        v.reason()
                    ),
                );
            }
        }
    }
}

/// [`crate::docker_verdicts::verdict`] through a map built once: every key of
/// every service is looked up on each analysis.
fn verdict(key: &str) -> Option<&'static Verdict> {
    static BY_KEY: OnceLock<HashMap<&'static str, Verdict>> = OnceLock::new();
    BY_KEY
        .get_or_init(|| SERVICE_KEYS.iter().copied().collect())
        .get(key)
}
