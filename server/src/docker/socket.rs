//! The shared socket directory of `specstudio/mysql` containers: each one's
//! `/run/mysqld` is bind-mounted from the host, so the endpoints reach
//! `mysqld` over its Unix socket (no loopback TCP, no docker-proxy).

use crate::plan::DesiredContainer;

/// Host directory under which each `specstudio/mysql` container's
/// `/run/mysqld` is bind-mounted, so the endpoints reach `mysqld` over its
/// Unix socket (no loopback TCP, no docker-proxy). Root-only `/run`: a server
/// that cannot create it (not root) keeps the TCP path.
pub const SOCKET_ROOT: &str = "/run/specstudio/sockets";

/// The group that may pass through [`SOCKET_ROOT`]: Debian's `nogroup`, the
/// group the endpoints' socket connector runs as.
pub const SOCKET_GROUP: u32 = 65534;

/// The image's socket directory (`images/mysql/entrypoint.sh`).
const IMAGE_RUN_DIR: &str = "/run/mysqld";

/// The host directory shared with `container` as its `/run/mysqld`.
pub fn socket_dir(container: &str) -> std::path::PathBuf {
    std::path::Path::new(SOCKET_ROOT).join(container)
}

/// The socket of `container`'s `mysqld` when the container shares its socket
/// directory and the server is up (the socket exists).
pub fn shared_socket(container: &str) -> Option<std::path::PathBuf> {
    if container.is_empty() || container.contains(['/', '.']) {
        return None;
    }
    let socket = socket_dir(container).join("mysqld.sock");
    socket.exists().then_some(socket)
}

/// The bind (`host:container`) sharing a `specstudio/mysql` container's
/// socket directory with the host; `None` for other images, a server that
/// cannot make the directory (not root), or a name that is not a plain file
/// name. A bind, not a mount: a remote Docker host creates the missing source
/// itself, and the endpoints, finding no socket here, use TCP.
pub(super) fn shared_socket_bind(c: &DesiredContainer) -> Option<String> {
    if !c.image.starts_with("specstudio/mysql") || c.name.is_empty() || c.name.contains(['/', '.'])
    {
        return None;
    }
    use std::os::unix::fs::PermissionsExt;
    let root = std::path::Path::new(SOCKET_ROOT);
    let dir = socket_dir(&c.name);
    let made = std::fs::create_dir_all(&dir)
        // only root and the endpoints' connector (group `nogroup`) pass
        // through: a host process whose uid happens to be the container's
        // `mysql` uid must not reach the socket (its peer-uid account)
        .and_then(|_| std::os::unix::fs::chown(root, Some(0), Some(SOCKET_GROUP)))
        .and_then(|_| std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o710)))
        // mysqld runs as the image's own `mysql` user
        .and_then(|_| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)));
    if let Err(e) = made {
        tracing::debug!(container = %c.name, "no shared socket directory ({e}); endpoints use TCP");
        return None;
    }
    Some(format!("{}:{IMAGE_RUN_DIR}", dir.to_str()?))
}

/// Forget a removed container's shared socket directory (best effort).
pub fn remove_socket_dir(container: &str) {
    if !container.is_empty() && !container.contains(['/', '.']) {
        let _ = std::fs::remove_dir_all(socket_dir(container));
    }
}
