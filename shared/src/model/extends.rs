//! `extends` for validation: a service's model gains what its same-file
//! bases define and it does not, so the rules judge the merged service as
//! compose runs it (a replica that inherits its image and credentials from a
//! base is still a MySQL replica).
//!
//! Compose's merge, for the fields the model reads: scalars and objects
//! (`image`, `build`, compute, capabilities) come from the nearest service
//! that sets them; lists keyed by something (`environment` by name, `volumes`
//! by target, `depends_on` by service, `networks` by name, api-params by key,
//! `ports` by their whole mapping) take the base's items the child does not
//! override. Inherited items keep the base's nodes and spans: a finding about
//! one is located where it is written, and `rules::run` reports a finding on
//! the same token once (see [`Spec::extends_merged`]). Bases from another
//! file (`extends.file`) are not merged: their tokens are not in this text.
//!
//! ```
//! let spec = "services:\n  base:\n    image: nginx\n    environment:\n      A: '1'\n  web:\n    extends: base\n    environment:\n      B: '2'\n";
//! let merged = shared::analyze(spec).spec.with_extends_merged().unwrap();
//! let web = merged.service("web").unwrap();
//! assert_eq!(web.image.as_ref().unwrap().value, "nginx");
//! let names: Vec<_> = web.environment.iter().map(|e| e.name.value.as_str()).collect();
//! assert_eq!(names, ["B", "A"]);
//! ```

use super::{Service, Spec};

impl Spec {
    /// The model with every service's same-file `extends` chain merged in,
    /// for the rules; `None` when no service extends another of this file.
    /// (The model itself stays as written: the editor's outline, references
    /// and renames work on what each service writes.)
    pub fn with_extends_merged(&self) -> Option<Spec> {
        if !self.services.iter().any(|s| s.extends.is_some()) {
            return None;
        }
        let chains: Vec<Vec<usize>> = (0..self.services.len())
            .map(|i| self.extends_chain(i).bases)
            .collect();
        if chains.iter().all(Vec::is_empty) {
            return None;
        }
        // Each base is merged as written (its own keys), nearest first, so a
        // chain merges like compose's recursive extends.
        let mut merged = self.clone();
        for (index, bases) in chains.into_iter().enumerate() {
            for base in bases {
                merge(&mut merged.services[index], &self.services[base]);
            }
        }
        merged.extends_merged = true;
        Some(merged)
    }

    /// Whether this model holds items inherited through `extends` (see
    /// [`Spec::with_extends_merged`]): a finding about one is reported once,
    /// on the base's token.
    pub fn extends_merged(&self) -> bool {
        self.extends_merged
    }
}

fn merge(child: &mut Service, base: &Service) {
    child.merged_bases.push(base.node);
    if child.image.is_none() {
        child.image.clone_from(&base.image);
    }
    if child.build.is_none() {
        child.build = base.build;
    }
    if child.compute.is_none() {
        child.compute.clone_from(&base.compute);
    }
    if child.capabilities.is_none() {
        child.capabilities.clone_from(&base.capabilities);
    }
    if child.api_params_node.is_none() {
        child.api_params_node = base.api_params_node;
    }
    extend_missing(&mut child.environment, &base.environment, |e| {
        e.name.value.clone()
    });
    extend_missing(&mut child.volumes, &base.volumes, |m| {
        m.target.as_ref().map(|t| t.value.clone())
    });
    extend_missing(&mut child.depends_on, &base.depends_on, |d| {
        d.service.value.clone()
    });
    extend_missing(&mut child.networks, &base.networks, |n| n.value.clone());
    extend_missing(&mut child.api_params, &base.api_params, |p| {
        p.key.as_ref().map(|k| k.value.clone())
    });
    extend_missing(&mut child.ports, &base.ports, |p| {
        (
            p.target,
            p.published,
            p.host_ip.clone(),
            p.protocol.as_ref().map(|s| s.value.clone()),
        )
    });
}

/// Append the base's items whose key the child's list does not hold.
fn extend_missing<T: Clone, K: PartialEq>(child: &mut Vec<T>, base: &[T], key: impl Fn(&T) -> K) {
    let keys: Vec<K> = child.iter().map(&key).collect();
    child.extend(base.iter().filter(|b| !keys.contains(&key(b))).cloned());
}
