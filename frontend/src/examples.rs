//! The examples gallery's specs (id, title, text): the seed first.

pub(crate) const SEED: &str = include_str!("../../examples/serverless-mysql-master-replica.yaml");

pub(crate) const EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "serverless",
        "Serverless MySQL master + replicas (seed)",
        SEED,
    ),
    (
        "hello-world",
        "Hello world MySQL",
        include_str!("../../examples/hello-world-mysql.yaml"),
    ),
    (
        "autoscaling",
        "Autoscaling read replicas",
        include_str!("../examples/autoscaling-mysql.yaml"),
    ),
    (
        "multi-zone",
        "Multi-zone master + replicas",
        include_str!("../examples/multi-zone-mysql.yaml"),
    ),
];
