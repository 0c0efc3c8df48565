//! The system parameters (`$sys.<path>`, `$<resource>.sys.<path>`): one table
//! with each parameter's type and a doc line, read by the T004 rule, the
//! resolver, hovers and completion.
//!
//! Paths write list indexes as `[i]` (a spec writes `[0]`, `[1]`… or `[*]` for
//! every element, joined) and string keys as `["key"]` (a spec writes
//! `["6379"]`). Sources: the Omnistrate system-parameter docs and the
//! builder console's parameter list (see README, "Sources"), and the
//! parameters published specs use.

/// One system parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SysParam {
    /// `compute.nodes[i].name`
    pub path: &'static str,
    /// `string`, `int` or `bool`.
    pub ty: &'static str,
    /// `""` without the `docs` feature: read it through [`crate::docs::sys`].
    pub doc: &'static str,
}

const fn p(path: &'static str, ty: &'static str, doc: &'static str) -> SysParam {
    SysParam {
        path,
        ty,
        doc: crate::docs::gate(doc),
    }
}

pub const ALL: &[SysParam] = &[
    p("id", "string", "Unique identifier of the instance."),
    p("deterministicSeedValue", "int", "Seed that is stable per instance (e.g. to derive passwords)."),
    p("compute.numNodes", "int", "Number of nodes of this resource."),
    p("compute.node.poolName", "string", "Node pool the current node runs in."),
    p("compute.node.cores", "int", "CPU cores of the current node."),
    p("compute.node.memory", "int", "Memory of the current node, in GB."),
    p("compute.node.gpus", "int", "GPUs of the current node."),
    p("compute.node.instanceType", "string", "Instance type of the current node (`m5.large`)."),
    p("compute.node.name", "string", "Name of the current node."),
    p("compute.node.index", "int", "0-based index of the current node among the resource's nodes."),
    p("compute.node.region", "string", "Region of the current node."),
    p("compute.nodes[i].poolName", "string", "Node pool of node i."),
    p("compute.nodes[i].cores", "int", "CPU cores of node i."),
    p("compute.nodes[i].memory", "int", "Memory of node i, in GB."),
    p("compute.nodes[i].gpus", "int", "GPUs of node i."),
    p("compute.nodes[i].instanceType", "string", "Instance type of node i."),
    p("compute.nodes[i].name", "string", "Name of node i (`[*]`: every node's name, joined)."),
    p("compute.nodes[i].index", "int", "Index of node i."),
    p("compute.nodes[i].region", "string", "Region of node i."),
    p("network.node.internalEndpoint", "string", "Internal DNS name of the current node."),
    p("network.node.externalEndpoint", "string", "External DNS name of the current node."),
    p("network.node.availabilityZone.code", "string", "Availability zone code of the current node."),
    p("network.node.availabilityZone.id", "string", "Availability zone id of the current node."),
    p("network.node.internalIP", "string", "Internal IP address of the current node."),
    p("network.node.hostIP", "string", "Host IP address of the current node."),
    p("network.node.subnetID", "string", "Subnet of the current node."),
    p("network.node.networkID", "string", "Network of the current node."),
    p("network.node.cidrRange", "string", "CIDR range of the current node's network."),
    p("network.node.externalPorts[\"key\"]", "int", "External port the current node maps a container port to, keyed by that port (`[\"6379\"]`)."),
    p("network.nodes[i].internalEndpoint", "string", "Internal DNS name of node i."),
    p("network.nodes[i].externalEndpoint", "string", "External DNS name of node i."),
    p("network.nodes[i].availabilityZone.code", "string", "Availability zone code of node i."),
    p("network.nodes[i].availabilityZone.id", "string", "Availability zone id of node i."),
    p("network.nodes[i].internalIP", "string", "Internal IP address of node i."),
    p("network.nodes[i].hostIP", "string", "Host IP address of node i."),
    p("network.nodes[i].subnetID", "string", "Subnet of node i."),
    p("network.nodes[i].networkID", "string", "Network of node i."),
    p("network.nodes[i].cidrRange", "string", "CIDR range of node i's network."),
    p("network.nodes[i].externalPorts[\"key\"]", "int", "External port node i maps a container port to, keyed by that port."),
    p("network.internalClusterEndpoint", "string", "Internal endpoint of the resource's cluster."),
    p("network.externalClusterEndpoint", "string", "External endpoint of the resource's cluster."),
    p("network.availabilityZones[i].code", "string", "Code of availability zone i."),
    p("network.availabilityZones[i].id", "string", "Id of availability zone i."),
    p("network.internalClusterServerlessEndpoint.endpointName", "string", "Internal serverless endpoint name (compose specs only)."),
    p("network.internalClusterServerlessEndpoint.openPorts[i]", "int", "Open port i of the internal serverless endpoint (compose specs only)."),
    p("network.internalClusterServerlessEndpoint.partitionID", "string", "Partition of the internal serverless endpoint (compose specs only)."),
    p("network.externalClusterServerlessEndpoint.endpointName", "string", "External serverless endpoint name (compose specs only)."),
    p("network.externalClusterServerlessEndpoint.openPorts[i]", "int", "Open port i of the external serverless endpoint (compose specs only)."),
    p("network.externalClusterServerlessEndpoint.partitionID", "string", "Partition of the external serverless endpoint (compose specs only)."),
    p("storage.numVolumes", "int", "Number of volumes of the current node."),
    p("storage.volumes[i].name", "string", "Name of volume i (compose specs only)."),
    p("storage.volumes[i].size", "int", "Size of volume i, in GB."),
    p("storage.volumes[i].type", "string", "Type of volume i."),
    p("storage.volumes[i].mountPath", "string", "Mount path of volume i."),
    p("storage.volumes[i].id", "string", "Id of volume i."),
    p("storage.volumes[i].pvName", "string", "Persistent volume name of volume i."),
    p("tenant.userID", "string", "Id of the customer user who owns the instance."),
    p("tenant.name", "string", "Name of that user."),
    p("tenant.email", "string", "Email of that user."),
    p("tenant.orgId", "string", "Id of the customer's organization."),
    p("tenant.orgName", "string", "Name of the customer's organization."),
    p("deployment.serviceID", "string", "Id of the service."),
    p("deployment.planID", "string", "Id of the service plan."),
    p("deployment.planName", "string", "Name of the service plan."),
    p("deployment.planVersion", "string", "Version of the service plan."),
    p("deployment.resourceAlias", "string", "Alias of the resource."),
    p("deployment.resourceID", "string", "Id of the resource."),
    p("deployment.nodeAffinityRules", "string", "Node affinity rules of the deployment."),
    p("deployment.nodeSelectorRules", "string", "Node selector rules of the deployment."),
    p("deployment.tlsServerCertificateSecretName", "string", "Secret holding the TLS server certificate."),
    p("deployment.tlsCertMountPath", "string", "Where the TLS certificate is mounted."),
    p("deployment.imageNameWithTag", "string", "Image of the resource, with its tag."),
    p("deployment.imagePullSecretName", "string", "Secret used to pull the image."),
    p("deployment.iamWorkloadRoleARN", "string", "IAM role of the workload."),
    p("deployment.kubernetesServiceAccountName", "string", "Kubernetes service account of the workload."),
    p("deployment.cloudProvider", "string", "Cloud provider of the deployment (`aws`, `gcp`, `azure`)."),
    p("deployment.cloudProviderAccountID", "string", "Cloud account of the deployment."),
    p("deployment.gcpProjectNumber", "string", "GCP project number (GCP only)."),
    p("deployment.gcpBootstrapEmail", "string", "GCP bootstrap service account email (GCP only)."),
    p("deployment.kubernetesClusterID", "string", "Kubernetes cluster of the deployment."),
    p("deploymentCell.cloudProviderName", "string", "Cloud provider of the deployment cell."),
    p("deploymentCell.region", "string", "Region of the deployment cell."),
    p("deploymentCell.cloudProviderNetworkID", "string", "Cloud network (VPC) of the deployment cell."),
    p("deploymentCell.publicSubnetIDs[i].id", "string", "Public subnet i of the deployment cell."),
    p("deploymentCell.availabilityZones[i].id", "string", "Availability zone i of the deployment cell."),
    p("deploymentCell.securityGroupID", "string", "Security group of the deployment cell."),
    p("deploymentCell.environmentType", "string", "Environment type of the deployment cell (`PROD`, `DEV`…)."),
    p("deploymentCell.gcpProjectId", "string", "GCP project of the deployment cell (GCP only)."),
    p("deploymentCell.isImported", "bool", "Whether the deployment cell was imported rather than created."),
];

/// A path with list indexes written `[i]` and string keys `["key"]`.
pub fn normalize(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(']') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = rest[open + 1..open + close].trim();
        if inner.starts_with(['"', '\'']) {
            out.push_str("[\"key\"]");
        } else {
            out.push_str("[i]");
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The parameter a path names (indexes and keys in any form).
pub fn lookup(path: &str) -> Option<&'static SysParam> {
    let normalized = normalize(path);
    ALL.iter().find(|p| p.path == normalized)
}

/// `(path, type)` pairs, for the older tuple API in [`crate::template`].
pub(crate) const fn pairs<const N: usize>() -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let mut i = 0;
    while i < N {
        out[i] = (ALL[i].path, ALL[i].ty);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_index_and_key() {
        for path in [
            "compute.nodes[0].name",
            "compute.nodes[*].name",
            "compute.node.gpus",
            "deployment.serviceID",
            "network.node.externalPorts[\"6379\"]",
            "network.nodes[2].externalPorts['8080']",
            "network.externalClusterServerlessEndpoint.openPorts[0]",
        ] {
            assert!(lookup(path).is_some(), "{path}");
        }
        assert!(lookup("compute.node.gpuz").is_none());
        assert_eq!(normalize("a[0].b[\"x\"].c[*]"), "a[i].b[\"key\"].c[i]");
    }

    #[test]
    fn paths_are_unique_and_documented() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(
                !a.doc.is_empty() && matches!(a.ty, "string" | "int" | "bool"),
                "{}",
                a.path
            );
            assert_eq!(
                normalize(a.path),
                a.path,
                "{} is not in normal form",
                a.path
            );
            assert!(
                ALL[i + 1..].iter().all(|b| b.path != a.path),
                "{} twice",
                a.path
            );
        }
    }
}
