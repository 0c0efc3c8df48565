use super::support::{image_of, is_bitnami_mysql_image};
use crate::declare_rule;
use crate::diagnostic::Fix;
use crate::model::MountKind;
use crate::rules::{Context, Rule, Sink};

declare_rule! {
    /// ## What
    /// A bitnami MySQL image (or one following its contract) has its data
    /// mounted at `/var/lib/mysql`.
    ///
    /// ## Why
    /// Bitnami keeps the data in `/bitnami/mysql/data`; nothing is written to
    /// `/var/lib/mysql`, so the mount persists nothing and the data is lost
    /// with the container.
    ///
    /// ## Example
    /// ```yaml
    /// Master:
    ///   image: docker.io/bitnamilegacy/mysql:8.1.0
    ///   volumes:
    ///     - ./data:/var/lib/mysql   # use /bitnami/mysql/data
    /// ```
    pub struct BitnamiDataPath {
        code: "M008",
        name: "bitnami-data-path",
        severity: Warning,
        layer: Mysql,
        summary: "A bitnami MySQL data volume is mounted at `/var/lib/mysql`",
        help: "Mount the data volume at `/bitnami/mysql/data`, where bitnami MySQL keeps its data.",
        fixable: true,
    }
}

impl Rule for BitnamiDataPath {
    fn check(&self, ctx: &Context, sink: &mut Sink) {
        for service in &ctx.spec.services {
            let Some(image) = image_of(service).filter(|i| is_bitnami_mysql_image(i)) else {
                continue;
            };
            for mount in &service.volumes {
                let Some(target) = &mount.target else {
                    continue;
                };
                if matches!(mount.kind, MountKind::Tmpfs | MountKind::Other)
                    || target.value.trim_end_matches('/') != "/var/lib/mysql"
                {
                    continue;
                }
                let diagnostic = sink.at_span(
                    target.span,
                    Some(target.node),
                    format!(
                        "`{image}` keeps its data in `/bitnami/mysql/data`, not `/var/lib/mysql`"
                    ),
                );
                if ctx.text.get(target.span.start..target.span.end) == Some(target.value.as_str()) {
                    diagnostic.fix(Fix::replace(
                        "Mount at `/bitnami/mysql/data`",
                        target.span,
                        "/bitnami/mysql/data",
                    ));
                }
            }
        }
    }
}
