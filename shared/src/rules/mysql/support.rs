//! What the MySQL rules share: which services run MySQL, in which replication
//! role, and how to read their environment (not a rule).

use crate::images;
use crate::model::{EnvVar, Service, Spec};
use crate::rules::Context;
use crate::template::{self, RefKind, RefScope};

/// A MySQL-compatible server image (see [`crate::images`]).
pub(super) fn is_mysql_image(image: &str) -> bool {
    images::mysql_image(image).is_some()
}

/// Images that keep their data in `/bitnami/mysql/data` (bitnami and the
/// specstudio image that follows its contract).
pub(super) fn is_bitnami_mysql_image(image: &str) -> bool {
    images::is_bitnami_mysql(image)
}

pub(super) fn image_of(service: &Service) -> Option<&str> {
    service.image.as_ref().map(|i| i.value.as_str())
}

/// Whether the service runs a MySQL-family image.
pub(super) fn runs_mysql_image(service: &Service) -> bool {
    image_of(service).is_some_and(is_mysql_image)
}

/// Services the MySQL rules look at: those that run a MySQL-compatible
/// server image. A client or an app that sets `MYSQL_*` variables is not one.
pub(super) fn applies(service: &Service) -> bool {
    !service.is_passive() && runs_mysql_image(service)
}

/// A `MYSQL_*` variable, or its `MARIADB_*` twin (bitnami's MariaDB images
/// and the official `mariadb` image read those).
pub(super) fn var<'a>(service: &'a Service, name: &str) -> Option<&'a EnvVar> {
    service.env(name).or_else(|| {
        name.strip_prefix("MYSQL_")
            .and_then(|rest| service.env(&format!("MARIADB_{rest}")))
    })
}

/// The services [`applies`] selects, classified once per analysis (eight
/// rules ask).
pub(super) fn mysql_services<'c>(ctx: &'c Context) -> impl Iterator<Item = &'c Service> + 'c {
    ctx.mysql_services
        .get_or_init(|| {
            (0..ctx.spec.services.len())
                .filter(|i| applies(&ctx.spec.services[*i]))
                .collect()
        })
        .iter()
        .map(|i| &ctx.spec.services[*i])
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
    let Some(mode) = var(service, "MYSQL_REPLICATION_MODE") else {
        return Role::Standalone;
    };
    match literal(mode) {
        Some("master") => Role::Master,
        Some("slave") => Role::Slave,
        Some("") => Role::Standalone,
        _ => Role::Unknown,
    }
}

/// The value of an env var when it is known: written out without templates,
/// or with `${…}` / `$NAME` interpolation whose variables are all known.
pub(super) fn literal(var: &EnvVar) -> Option<&str> {
    let value = var.value.as_ref()?;
    let text = value
        .interpolated
        .as_deref()
        .unwrap_or(value.value.as_str());
    (template::scan(text).is_empty() && (value.interpolated.is_some() || !has_interpolation(text)))
        .then_some(text)
}

/// Compose interpolation (`${X}`, `$X`); `$$` is an escaped dollar.
pub(super) fn has_interpolation(text: &str) -> bool {
    crate::interpolation::has_unescaped_dollar(text)
}

/// Whether a variable (or its `_FILE` twin) is set to something possibly
/// non-empty: a non-empty literal, a template, or a value from the host.
pub(super) fn is_set(service: &Service, name: &str) -> bool {
    let set = |n: &str| var(service, n).is_some_and(|v| literal(v).is_none_or(|v| !v.is_empty()));
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
    service.key_value(ctx.tree, "env_file").is_some()
}

/// Services in master mode.
pub(super) fn masters<'c>(ctx: &'c Context) -> Vec<&'c Service> {
    mysql_services(ctx)
        .filter(|s| role(s) == Role::Master)
        .collect()
}

/// The master a slave replicates from: the service a literal
/// `MYSQL_MASTER_HOST` names, or the one its `$<resource>.sys…` references.
pub(super) fn master_of<'a>(spec: &'a Spec, slave: &Service) -> Option<&'a Service> {
    let host_var = var(slave, "MYSQL_MASTER_HOST")?;
    if let Some(host) = literal(host_var) {
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
    let value = host_var.value.as_ref()?;
    let scan = template::scan(&value.value);
    scan.refs.iter().find_map(|r| match &r.scope {
        RefScope::Resource(key) if r.kind == RefKind::Sys => spec.service_by_resource_key(key),
        _ => None,
    })
}

/// Whether `text` covers exactly the env value's span in the source (so a fix
/// can replace it).
pub(super) fn value_is_exact(ctx: &Context, var: &EnvVar) -> bool {
    var.value.as_ref().is_some_and(|v| {
        v.interpolated.is_none() && ctx.text.get(v.span.start..v.span.end) == Some(v.value.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_through_the_shared_table() {
        assert!(is_mysql_image("mariadb:11"));
        assert!(is_mysql_image("specstudio/mysql:dev"));
        assert!(!is_mysql_image("mysqld-exporter"));
        assert!(is_bitnami_mysql_image(
            "docker.io/bitnamilegacy/mysql:8.1.0"
        ));
        assert!(!is_bitnami_mysql_image("mysql:8"));
    }
}
