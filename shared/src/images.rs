//! Which images run a MySQL-compatible server, and with which environment
//! contract. One classification for the MySQL rules and the server's planner.
//!
//! ```
//! use shared::images::{mysql_image, Contract};
//! assert_eq!(mysql_image("docker.io/bitnamilegacy/mysql:8.1.0").unwrap().contract, Contract::Bitnami);
//! assert_eq!(mysql_image("mariadb:11").unwrap().contract, Contract::Official);
//! assert!(mysql_image("prom/mysqld-exporter").is_none());
//! assert!(mysql_image("myorg/app:1").is_none());
//! ```

use crate::interpolation::{self, Vars};

/// How the image is configured through its environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contract {
    /// bitnami's `MYSQL_*`/`MARIADB_*` contract with `*_REPLICATION_MODE`,
    /// `*_MASTER_HOST`… (bitnami, bitnamilegacy, bitnamisecure, and the
    /// project's own `specstudio/mysql` that follows it).
    Bitnami,
    /// The Docker official images (`mysql`, `mariadb`, `percona`) and the
    /// vendors' own (`mysql/mysql-server`, `percona/percona-server`): root
    /// password and a first database/user; no replication variables.
    Official,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Mysql,
    Mariadb,
    Percona,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MysqlImage {
    pub contract: Contract,
    pub flavor: Flavor,
}

/// An image reference split into registry, repository path and tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub registry: Option<&'a str>,
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: bool,
}

/// Split `registry/path:tag@digest`.
pub fn parse_image(image: &str) -> ImageRef<'_> {
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

/// Classify an image reference (compose interpolation in the tag is fine:
/// `mysql:${MYSQL_VERSION:-8}`). `None` for anything else, including custom
/// images that may or may not run MySQL: rules must not guess.
pub fn mysql_image(image: &str) -> Option<MysqlImage> {
    let interpolated;
    let image = if interpolation::needs_interpolation(image) {
        interpolated = interpolation::interpolate(image, &Vars::unknown())
            .ok()?
            .value;
        interpolated.as_str()
    } else {
        image
    };
    let path = parse_image(image.trim()).path.to_ascii_lowercase();
    let path = path.strip_prefix("library/").unwrap_or(&path);
    let (contract, flavor) = match path {
        "bitnami/mysql" | "bitnamilegacy/mysql" | "bitnamisecure/mysql" | "specstudio/mysql" => {
            (Contract::Bitnami, Flavor::Mysql)
        }
        "bitnami/mariadb" | "bitnamilegacy/mariadb" | "bitnamisecure/mariadb" => {
            (Contract::Bitnami, Flavor::Mariadb)
        }
        "mysql" | "mysql/mysql-server" | "mysql/community-server" | "mysql/enterprise-server" => {
            (Contract::Official, Flavor::Mysql)
        }
        "mariadb" | "mariadb/server" => (Contract::Official, Flavor::Mariadb),
        "percona" | "percona/percona-server" | "percona/percona-xtradb-cluster" => {
            (Contract::Official, Flavor::Percona)
        }
        _ => return None,
    };
    Some(MysqlImage { contract, flavor })
}

/// Whether the image speaks bitnami's MySQL contract (data in
/// `/bitnami/mysql/data`, replication through environment variables).
pub fn is_bitnami_mysql(image: &str) -> bool {
    mysql_image(image).is_some_and(|m| m.contract == Contract::Bitnami)
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
    }

    #[test]
    fn classifies_servers_not_clients() {
        for (image, contract, flavor) in [
            ("bitnami/mysql:8.4", Contract::Bitnami, Flavor::Mysql),
            (
                "docker.io/bitnamilegacy/mysql:8.1.0",
                Contract::Bitnami,
                Flavor::Mysql,
            ),
            (
                "bitnamisecure/mysql:latest",
                Contract::Bitnami,
                Flavor::Mysql,
            ),
            ("bitnami/mariadb:11.4", Contract::Bitnami, Flavor::Mariadb),
            ("specstudio/mysql:local", Contract::Bitnami, Flavor::Mysql),
            ("mysql:8", Contract::Official, Flavor::Mysql),
            ("docker.io/library/mysql", Contract::Official, Flavor::Mysql),
            (
                "mysql:${MYSQL_VERSION:-8.4}",
                Contract::Official,
                Flavor::Mysql,
            ),
            ("mariadb:11@sha256:abc", Contract::Official, Flavor::Mariadb),
            ("percona:8.0", Contract::Official, Flavor::Percona),
            (
                "percona/percona-server:8.0",
                Contract::Official,
                Flavor::Percona,
            ),
        ] {
            assert_eq!(
                mysql_image(image),
                Some(MysqlImage { contract, flavor }),
                "{image}"
            );
        }
        for image in [
            "prom/mysqld-exporter",
            "phpmyadmin",
            "adminer",
            "wordpress:6",
            "myorg/mysql-backup",
            "$var.image",
            "bitnamicharts/mysql",
        ] {
            assert_eq!(mysql_image(image), None, "{image}");
        }
        assert!(is_bitnami_mysql("bitnami/mariadb"));
        assert!(!is_bitnami_mysql("mysql:8"));
    }
}
