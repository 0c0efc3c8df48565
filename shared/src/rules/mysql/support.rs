//! What the MySQL rules share: which services run MySQL, in which replication
//! role, and how to read their environment (not a rule).

use crate::model::{EnvVar, Service, Spec};
use crate::rules::Context;
use crate::template::{self, RefKind, RefScope};

/// An image reference split into registry, repository path and tag.
pub(super) struct ImageRef<'a> {
    pub registry: Option<&'a str>,
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: bool,
}

pub(super) fn parse_image(image: &str) -> ImageRef<'_> {
    let (base, digest) = match image.split_once('@') {
        Some((base, _)) => (base, true),
        None => (image, false),
    };
    let (name, tag) = match base.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (base, None),
    };
    let (registry, path) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    };
    ImageRef {
        registry,
        path,
        tag,
        digest,
    }
}

/// `mysql`, `mariadb`, `bitnami/mysql`, `bitnamilegacy/mysql`, `specstudio/mysql`…
pub(super) fn is_mysql_image(image: &str) -> bool {
    let path = parse_image(image).path.to_ascii_lowercase();
    let name = path.rsplit('/').next().unwrap_or_default();
    matches!(name, "mysql" | "mariadb" | "mysql-server")
}

/// Images that keep their data in `/bitnami/mysql/data` (bitnami and the
/// specstudio image that follows its contract).
pub(super) fn is_bitnami_mysql_image(image: &str) -> bool {
    let path = parse_image(image).path.to_ascii_lowercase();
    matches!(
        path.as_str(),
        "bitnami/mysql"
            | "bitnamilegacy/mysql"
            | "bitnamisecure/mysql"
            | "bitnamicharts/mysql"
            | "specstudio/mysql"
    )
}

pub(super) fn image_of(service: &Service) -> Option<&str> {
    service.image.as_ref().map(|i| i.value.as_str())
}

/// Whether the service runs a MySQL-family image.
pub(super) fn runs_mysql_image(service: &Service) -> bool {
    image_of(service).is_some_and(is_mysql_image)
}

/// Services the MySQL rules look at: a MySQL/MariaDB image or any `MYSQL_*`
/// variable; passive resources run nothing.
pub(super) fn applies(service: &Service) -> bool {
    !service.is_passive()
        && (runs_mysql_image(service)
            || service
                .environment
                .iter()
                .any(|e| e.name.value.starts_with("MYSQL_")))
}

pub(super) fn mysql_services(spec: &Spec) -> impl Iterator<Item = &Service> {
    spec.services.iter().filter(|s| applies(s))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Master,
    Slave,
    /// No (or an empty) `MYSQL_REPLICATION_MODE`.
    Standalone,
    /// A template, a value taken from the host, or an invalid mode.
    Unknown,
}

pub(super) fn role(service: &Service) -> Role {
    let Some(var) = service.env("MYSQL_REPLICATION_MODE") else {
        return Role::Standalone;
    };
    match literal(var) {
        Some("master") => Role::Master,
        Some("slave") => Role::Slave,
        Some("") => Role::Standalone,
        _ => Role::Unknown,
    }
}

/// The value of an env var when it is written out without templates or
/// `${…}` / `$NAME` interpolation.
pub(super) fn literal(var: &EnvVar) -> Option<&str> {
    let value = var.value.as_ref()?;
    let text = value.value.as_str();
    (template::scan(text).is_empty() && !has_interpolation(text)).then_some(text)
}

/// Compose interpolation (`${X}`, `$X`); `$$` is an escaped dollar.
pub(super) fn has_interpolation(text: &str) -> bool {
    text.replace("$$", "").contains('$')
}

/// Whether a variable (or its `_FILE` twin) is set to something possibly
/// non-empty: a non-empty literal, a template, or a value from the host.
pub(super) fn is_set(service: &Service, name: &str) -> bool {
    let set = |n: &str| {
        service
            .env(n)
            .is_some_and(|var| literal(var).is_none_or(|v| !v.is_empty()))
    };
    set(name) || set(&format!("{name}_FILE"))
}

/// `ALLOW_EMPTY_PASSWORD=yes` (bitnami), or the official images' equivalents.
pub(super) fn allows_empty_password(service: &Service) -> bool {
    let yes = |name: &str| {
        service.env(name).is_some_and(|var| {
            literal(var)
                .is_none_or(|v| matches!(v.to_ascii_lowercase().as_str(), "yes" | "true" | "1"))
        })
    };
    yes("ALLOW_EMPTY_PASSWORD")
        || yes("MYSQL_ALLOW_EMPTY_PASSWORD")
        || yes("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD")
}

/// `env_file:` can set any variable: absence checks must not guess.
pub(super) fn has_env_file(ctx: &Context, service: &Service) -> bool {
    ctx.tree.get_value(service.node, "env_file").is_some()
}

/// Services in master mode.
pub(super) fn masters(spec: &Spec) -> Vec<&Service> {
    mysql_services(spec)
        .filter(|s| role(s) == Role::Master)
        .collect()
}

/// The master a slave replicates from: the service a literal
/// `MYSQL_MASTER_HOST` names, or the one its `$<resource>.sys…` references.
pub(super) fn master_of<'a>(spec: &'a Spec, slave: &Service) -> Option<&'a Service> {
    let var = slave.env("MYSQL_MASTER_HOST")?;
    if let Some(host) = literal(var) {
        let host = host.trim();
        // Exact names and resource keys are hash lookups; only a host that
        // differs in case from every name needs the scan.
        return spec
            .service(host)
            .or_else(|| spec.service_by_resource_key(host))
            .or_else(|| {
                spec.services
                    .iter()
                    .find(|s| s.name.value.eq_ignore_ascii_case(host))
            });
    }
    let value = var.value.as_ref()?;
    let scan = template::scan(&value.value);
    scan.refs.iter().find_map(|r| match &r.scope {
        RefScope::Resource(key) if r.kind == RefKind::Sys => spec.service_by_resource_key(key),
        _ => None,
    })
}

/// Whether `text` covers exactly the env value's span in the source (so a fix
/// can replace it).
pub(super) fn value_is_exact(ctx: &Context, var: &EnvVar) -> bool {
    var.value
        .as_ref()
        .is_some_and(|v| ctx.text.get(v.span.start..v.span.end) == Some(v.value.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_images() {
        let i = parse_image("docker.io/bitnami/mysql:8.0.36");
        assert_eq!(
            (i.registry, i.path, i.tag),
            (Some("docker.io"), "bitnami/mysql", Some("8.0.36"))
        );
        let i = parse_image("localhost:5000/mysql");
        assert_eq!(
            (i.registry, i.path, i.tag),
            (Some("localhost:5000"), "mysql", None)
        );
        assert!(is_mysql_image("mariadb:11"));
        assert!(is_mysql_image("specstudio/mysql:dev"));
        assert!(!is_mysql_image("mysqld-exporter"));
        assert!(is_bitnami_mysql_image(
            "docker.io/bitnamilegacy/mysql:8.1.0"
        ));
        assert!(!is_bitnami_mysql_image("mysql:8"));
    }
}
