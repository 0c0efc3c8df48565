use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::{MountKind, Spanned};
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// In a plain compose file, two MySQL data directories (`/var/lib/mysql`,
    /// `/bitnami/mysql/data`, `/bitnami/mysql`) are backed by the same host
    /// directory or named volume — in two services, or twice in one.
    ///
    /// ## Why
    /// All services of a compose file run on one host, so both servers write
    /// the same InnoDB files: the second one fails to lock them or corrupts
    /// them. (In an Omnistrate spec each resource gets its own storage, so the
    /// rule does not apply there.)
    ///
    /// ## Example
    /// ```yaml
    /// services:
    ///   Master:
    ///     volumes: ["./data:/var/lib/mysql"]
    ///   Replica:
    ///     volumes: ["./data:/var/lib/mysql"]   # same host directory
    /// ```
    pub struct SharedDataDirectory {
        code: "M007",
        name: "shared-data-directory",
        severity: Error,
        layer: Mysql,
        summary: "Two MySQL servers share one data directory",
        help: "Give each MySQL server its own host directory or named volume.",
        fixable: true,
    }
}

pub(super) const DATA_DIRS: &[&str] = &["/var/lib/mysql", "/bitnami/mysql/data", "/bitnami/mysql"];

/// `./data`, `data` and `./data/` name one directory.
fn normalize_host_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

pub(super) fn is_data_dir(target: &str) -> bool {
    let trimmed = target.trim_end_matches('/');
    DATA_DIRS.contains(&trimmed)
}

struct Use<'a> {
    service: &'a str,
    key: String,
    kind: MountKind,
    source: &'a Spanned<String>,
}

impl Rule for SharedDataDirectory {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        if ctx.is_omnistrate() {
            return;
        }
        let mut uses: Vec<Use> = Vec::new();
        for service in ctx.spec.services.iter().filter(|s| !s.is_passive()) {
            for mount in &service.volumes {
                let (Some(source), Some(target)) = (&mount.source, &mount.target) else {
                    continue;
                };
                if !matches!(mount.kind, MountKind::Bind | MountKind::Volume)
                    || !is_data_dir(&target.value)
                {
                    continue;
                }
                let key = match mount.kind {
                    MountKind::Bind => normalize_host_path(&source.value),
                    _ => source.value.clone(),
                };
                uses.push(Use {
                    service: &service.name.value,
                    key,
                    kind: mount.kind,
                    source,
                });
            }
        }
        for (i, this) in uses.iter().enumerate() {
            let Some(first) = uses[..i]
                .iter()
                .find(|u| u.kind == this.kind && u.key == this.key)
            else {
                continue;
            };
            let what = if this.kind == MountKind::Bind {
                "host directory"
            } else {
                "volume"
            };
            let message = if first.service == this.service {
                format!(
                    "`{}` mounts the {what} `{}` as a MySQL data directory twice",
                    this.service, this.source.value
                )
            } else {
                format!(
                    "`{}` shares the {what} `{}` with `{}` as its MySQL data directory",
                    this.service, this.source.value, first.service
                )
            };
            let diagnostic = sink
                .at_span(this.source.span, Some(this.source.node), message)
                .related(
                    first.source.span,
                    format!("`{}` mounts it here", first.service),
                );
            if this.kind == MountKind::Bind && first.service != this.service {
                let written = this.source.value.trim_end_matches('/');
                let renamed = format!("{written}-{}", this.service.to_ascii_lowercase());
                let taken = uses
                    .iter()
                    .any(|u| u.kind == MountKind::Bind && u.key == normalize_host_path(&renamed));
                let exact = ctx.text.get(this.source.span.start..this.source.span.end)
                    == Some(this.source.value.as_str());
                if !taken && exact {
                    diagnostic.fix(Fix::replace(
                        format!("Use `{renamed}` for `{}`", this.service),
                        this.source.span,
                        renamed,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_host_path;

    #[test]
    fn normalizes_host_paths() {
        assert_eq!(normalize_host_path("./data"), "data");
        assert_eq!(normalize_host_path("data/"), "data");
        assert_eq!(normalize_host_path("./data//x/"), "data/x");
        assert_eq!(normalize_host_path("/srv/mysql/"), "/srv/mysql");
    }
}
