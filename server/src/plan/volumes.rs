//! Named volumes as the plan makes them, and read back: one volume per
//! container and compose mount, `ss-<deployment>-<alias>-<replica>-<mount>`.
//! The diff reads an observed volume's owner from its name, so a volume
//! whose container is already gone (a scale-down a crash interrupted) is
//! still known as a replica's — and one the plan does not name is never
//! taken for one.

use shared::model::{Mount, MountKind};

use super::{DesiredStack, ServicePolicy};

/// The volume of `replica` of the service with network alias `alias` for
/// its `mount`th compose volume entry.
pub fn volume_name(deployment: &str, alias: &str, replica: u32, mount: usize) -> String {
    format!("ss-{deployment}-{alias}-{replica}-{mount}")
}

/// Whether a compose mount becomes a named volume of each container: named
/// and anonymous volumes and relative binds (`./data`); absolute host paths
/// are refused, tmpfs and unknown kinds get none.
pub(crate) fn makes_named_volume(m: &Mount) -> bool {
    let source = m.source.as_ref().map_or("", |s| s.value.as_str());
    m.target.is_some()
        && match m.kind {
            MountKind::Bind => source.starts_with('.'),
            MountKind::Tmpfs | MountKind::Other => false,
            MountKind::Volume | MountKind::Anonymous => true,
        }
}

/// A run of ASCII digits as a number (no sign, not empty).
fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl DesiredStack {
    /// The service and replica index a volume of this deployment was made
    /// for, read from its name ([`volume_name`]): `None` unless the name is
    /// exactly that of a mount the service has, for some replica index
    /// (planned or not). Unambiguous: after a service's alias exactly two
    /// numbers must follow.
    pub fn volume_owner(&self, name: &str) -> Option<(&ServicePolicy, u32)> {
        let rest = name
            .strip_prefix("ss-")?
            .strip_prefix(self.deployment.as_str())?
            .strip_prefix('-')?;
        self.services.iter().find_map(|s| {
            let (replica, mount) = rest
                .strip_prefix(s.alias.as_str())?
                .strip_prefix('-')?
                .split_once('-')?;
            let mount: usize = number(mount)?;
            s.volume_mounts
                .contains(&mount)
                .then_some((s, number(replica)?))
        })
    }
}
