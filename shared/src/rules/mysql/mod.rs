//! MySQL replication rules (the bitnami `mysql` env contract).

mod bitnami_data_path;
mod bitnami_legacy_image;
mod invalid_replication_mode;
mod master_host_loopback;
mod master_password_constraints;
mod master_without_root_password;
mod replication_credentials_mismatch;
mod shared_data_directory;
mod slave_without_master_host;
mod support;
mod user_without_password;

use super::Rule;

pub use bitnami_data_path::BitnamiDataPath;
pub use bitnami_legacy_image::BitnamiLegacyImage;
pub use invalid_replication_mode::InvalidReplicationMode;
pub use master_host_loopback::MasterHostLoopback;
pub use master_password_constraints::MasterPasswordConstraints;
pub use master_without_root_password::MasterWithoutRootPassword;
pub use replication_credentials_mismatch::ReplicationCredentialsMismatch;
pub use shared_data_directory::SharedDataDirectory;
pub use slave_without_master_host::SlaveWithoutMasterHost;
pub use user_without_password::UserWithoutPassword;

pub const RULES: &[&dyn Rule] = &[
    &InvalidReplicationMode,
    &SlaveWithoutMasterHost,
    &MasterHostLoopback,
    &MasterWithoutRootPassword,
    &UserWithoutPassword,
    &ReplicationCredentialsMismatch,
    &SharedDataDirectory,
    &BitnamiDataPath,
    &BitnamiLegacyImage,
    &MasterPasswordConstraints,
];
