//! Field tables of the objects *inside* `x-omnistrate-capabilities`,
//! `x-omnistrate-job-config`, `x-omnistrate-service-plan` and the
//! integration keys: sidecars, custom DNS, backups, schedules, prices,
//! metering, billing providers, integrations.
//!
//! Written from the plan schema of the Omnistrate CLI
//! (`service-plan-schema.json`: `BackupConfiguration`, `CustomDNSConfig`,
//! `ScheduleConfig`, `DimensionPricing`, `MeteringConfiguration`,
//! `BillingProvider`, `NodeWarmPoolConfiguration`, `ScalingMetric`), the
//! compose-spec docs and published specs (see README, "Sources checked
//! against"). Where the schema's Go names (`TargetPort`, `CronExpression`)
//! and the docs' spellings (`targetPort`) differ, both are listed: the
//! platform's decoder matches either.
//!
//! [`TENTATIVE`] names the tables we are not sure are complete (the schema
//! leaves `sidecars` free-form; integrations and schedules are documented
//! only by example): an unknown field there is never more than a warning.

use super::keys::{field as f, FieldType::*, ObjectSchema};

pub const HTTP_REVERSE_PROXY: ObjectSchema = ObjectSchema {
    name: "httpReverseProxy",
    fields: &[f(
        "targetPort",
        Int,
        "Container port the HTTP reverse proxy forwards to.",
    )],
};

pub const CUSTOM_DNS: ObjectSchema = ObjectSchema {
    name: "customDNS",
    fields: &[
        f(
            "targetPort",
            Int,
            "Container port the custom DNS name points to.",
        ),
        f("name", String, "Name of the DNS entry."),
        f(
            "targetKubernetesService",
            Map,
            "`{targetName, targetPort}`: a Kubernetes service to point to instead.",
        ),
        f(
            "TargetPort",
            Int,
            "Container port the custom DNS name points to (the schema's spelling).",
        ),
        f(
            "Name",
            String,
            "Name of the DNS entry (the schema's spelling).",
        ),
        f(
            "TargetKubernetesService",
            Map,
            "A Kubernetes service to point to instead (the schema's spelling).",
        ),
    ],
};

pub const KUBERNETES_SERVICE: ObjectSchema = ObjectSchema {
    name: "target Kubernetes service",
    fields: &[
        f("targetName", String, "Name of the Kubernetes service."),
        f("targetPort", Int, "Port of the Kubernetes service."),
        f(
            "TargetName",
            String,
            "Name of the Kubernetes service (the schema's spelling).",
        ),
        f(
            "TargetPort",
            Int,
            "Port of the Kubernetes service (the schema's spelling).",
        ),
    ],
};

pub const BACKUP: ObjectSchema = ObjectSchema {
    name: "backupConfiguration",
    fields: &[
        f("backupRetentionInDays", Int, "Days a backup is kept."),
        f(
            "backupPeriodInHours",
            Int,
            "Hours between automatic backups.",
        ),
        f(
            "snapshotBeforeDeletion",
            Bool,
            "Take a last snapshot before the instance is deleted (default `false`).",
        ),
    ],
};

pub const NODE_WARM_POOL: ObjectSchema = ObjectSchema {
    name: "nodeWarmPool",
    fields: &[f(
        "minFreeNodes",
        Int,
        "Free nodes kept ready for new instances.",
    )],
};

pub const SCALING_METRIC: ObjectSchema = ObjectSchema {
    name: "scalingMetric",
    fields: &[
        f(
            "metricEndpoint",
            String,
            "Prometheus endpoint the metric is read from.",
        ),
        f("metricName", String, "Name of the metric."),
        f("metricLabelName", String, "Label that selects the series."),
        f("metricLabelValue", String, "Value of that label."),
    ],
};

/// One entry of `sidecars` (keyed by the sidecar's name).
pub const SIDECAR: ObjectSchema = ObjectSchema {
    name: "sidecar entry",
    fields: &[
        f(
            "imageNameWithTag",
            String,
            "Image of the sidecar container, with its tag.",
        ),
        f("command", List, "Command of the sidecar container."),
        f("args", List, "Arguments of the command."),
        f(
            "resourceLimits",
            Map,
            "`{cpu, memory}` limits (`250m`, `256Mi`).",
        ),
        f(
            "securityContext",
            Map,
            "`{runAsUser, runAsGroup, runAsNonRoot}`.",
        ),
    ],
};

pub const SIDECAR_RESOURCES: ObjectSchema = ObjectSchema {
    name: "resourceLimits",
    fields: &[
        f(
            "cpu",
            String,
            "CPU limit as a Kubernetes quantity (`250m`, `1`).",
        ),
        f(
            "memory",
            String,
            "Memory limit as a Kubernetes quantity (`256Mi`).",
        ),
    ],
};

pub const SECURITY_CONTEXT: ObjectSchema = ObjectSchema {
    name: "securityContext",
    fields: &[
        f("runAsUser", Int, "User id the sidecar runs as."),
        f("runAsGroup", Int, "Group id the sidecar runs as."),
        f("runAsNonRoot", Bool, "Refuse to start as root."),
    ],
};

/// `x-omnistrate-job-config.scheduleConfig`.
pub const SCHEDULE: ObjectSchema = ObjectSchema {
    name: "scheduleConfig",
    fields: &[
        f(
            "cronExpression",
            String,
            "When the job runs, as a cron expression (`0 3 * * *`).",
        ),
        f(
            "simpleInterval",
            String,
            "When the job runs, as an interval.",
        ),
        f("timezone", String, "Time zone of the cron expression."),
        f(
            "CronExpression",
            String,
            "When the job runs, as a cron expression (the schema's spelling).",
        ),
        f(
            "SimpleInterval",
            String,
            "When the job runs, as an interval (the schema's spelling).",
        ),
        f(
            "Timezone",
            String,
            "Time zone of the cron expression (the schema's spelling).",
        ),
    ],
};

/// One item of the service plan's `pricing`.
pub const PRICE: ObjectSchema = ObjectSchema {
    name: "pricing item",
    fields: &[
        f(
            "dimension",
            String,
            "What is priced: `cpu`, `memory`, `storage`, `replica`.",
        ),
        f("unit", String, "Unit of the dimension (`cores`, `GiB`…)."),
        f("timeUnit", String, "Time unit of the price (`hour`)."),
        f("price", Number, "Price per unit and time unit."),
    ],
};

pub const METERING: ObjectSchema = ObjectSchema {
    name: "metering",
    fields: &[
        f(
            "s3BucketARN",
            String,
            "S3 bucket usage is exported to (the docs' spelling).",
        ),
        f(
            "s3BucketArn",
            String,
            "S3 bucket usage is exported to (the schema's spelling).",
        ),
        f("s3BucketRegion", String, "Region of that bucket."),
        f("gcsBucketName", String, "GCS bucket usage is exported to."),
    ],
};

/// One item of the service plan's `billingProviders`.
pub const BILLING_PROVIDER: ObjectSchema = ObjectSchema {
    name: "billing provider",
    fields: &[
        f("name", String, "The provider (`stripe`, …)."),
        f("isDefault", Bool, "The default provider of the plan."),
        f("externalProductID", String, "Product id at the provider."),
        f("enablePaywall", Bool, "Require payment before use."),
        f(
            "disableInvoiceGeneration",
            Bool,
            "Do not generate invoices.",
        ),
    ],
};

pub const CUSTOMER_INTEGRATIONS: ObjectSchema = ObjectSchema {
    name: "x-customer-integrations",
    fields: &[
        f("logs", Map, "Logs offered to customers (empty, or `{provider: native}`)."),
        f("metrics", Map, "Metrics offered to customers (empty, or `{provider: native}`)."),
        f("licensing", Map, "Licences issued to customers: `licenseExpirationInDays`, `productPlanUniqueIdentifier`."),
    ],
};

/// `logs` / `metrics` of `x-customer-integrations`.
pub const CUSTOMER_INTEGRATION: ObjectSchema = ObjectSchema {
    name: "customer integration",
    fields: &[f("provider", String, "Who provides it (`native`).")],
};

pub const LICENSING: ObjectSchema = ObjectSchema {
    name: "licensing",
    fields: &[
        f(
            "licenseExpirationInDays",
            Int,
            "Days a licence is valid (default 7).",
        ),
        f(
            "productPlanUniqueIdentifier",
            String,
            "Identifier of the plan in the licence.",
        ),
    ],
};

pub const INTERNAL_INTEGRATIONS: ObjectSchema = ObjectSchema {
    name: "x-internal-integrations",
    fields: &[
        f(
            "logs",
            Map,
            "Where the provider's logs go: `provider`, `endpoint`, `secretLocators`…",
        ),
        f(
            "metrics",
            Map,
            "Where the provider's metrics go: `provider`, `endpoint`, `additionalMetrics`…",
        ),
        f(
            "multiTenantGpu",
            Map,
            "GPU sharing: `instanceType`, `timeSlicingReplicas`, `migProfile`.",
        ),
    ],
};

/// `logs` / `metrics` of `x-internal-integrations`.
pub const INTERNAL_INTEGRATION: ObjectSchema = ObjectSchema {
    name: "internal integration",
    fields: &[
        f(
            "provider",
            String,
            "`native`, `newRelic`, `signoz` or `datadog`.",
        ),
        f("endpoint", String, "Endpoint of the provider."),
        f(
            "secretLocators",
            Map,
            "Where the provider's credentials are, per cloud (`aws`, `gcp`, `azure`).",
        ),
        f(
            "serviceComponentsConfiguration",
            Map,
            "Settings per resource.",
        ),
        f(
            "additionalMetrics",
            Map,
            "Extra Prometheus metrics per resource.",
        ),
    ],
};

pub const MULTI_TENANT_GPU: ObjectSchema = ObjectSchema {
    name: "multiTenantGpu",
    fields: &[
        f(
            "instanceType",
            String,
            "GPU instance type shared between tenants.",
        ),
        f(
            "timeSlicingReplicas",
            Int,
            "Tenants per GPU by time slicing.",
        ),
        f("migProfile", String, "Multi-instance GPU profile."),
    ],
};

/// Tables whose unknown fields are at most a warning (see the module doc).
pub const TENTATIVE: &[&ObjectSchema] = &[
    &CUSTOM_DNS,
    &KUBERNETES_SERVICE,
    &SIDECAR,
    &SIDECAR_RESOURCES,
    &SECURITY_CONTEXT,
    &SCHEDULE,
    &CUSTOMER_INTEGRATIONS,
    &CUSTOMER_INTEGRATION,
    &LICENSING,
    &INTERNAL_INTEGRATIONS,
    &INTERNAL_INTEGRATION,
    &MULTI_TENANT_GPU,
];

/// Whether unknown fields of `schema` are at most a warning.
pub fn is_tentative(schema: &ObjectSchema) -> bool {
    TENTATIVE.iter().any(|t| t.name == schema.name)
}

pub const ALL: &[&ObjectSchema] = &[
    &HTTP_REVERSE_PROXY,
    &CUSTOM_DNS,
    &KUBERNETES_SERVICE,
    &BACKUP,
    &NODE_WARM_POOL,
    &SCALING_METRIC,
    &SIDECAR,
    &SIDECAR_RESOURCES,
    &SECURITY_CONTEXT,
    &SCHEDULE,
    &PRICE,
    &METERING,
    &BILLING_PROVIDER,
    &CUSTOMER_INTEGRATIONS,
    &CUSTOMER_INTEGRATION,
    &LICENSING,
    &INTERNAL_INTEGRATIONS,
    &INTERNAL_INTEGRATION,
    &MULTI_TENANT_GPU,
];
