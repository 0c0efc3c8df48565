//! Lint time in process: the seed spec and a generated 1,000-service spec.
//!
//! `cargo bench -p specstudio-shared --bench lint` (the large spec is generated
//! with `scripts/gen-spec.py`; set `SPEC_1000` to reuse a file).

use std::path::Path;
use std::process::Command;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn large_spec(services: usize) -> String {
    if let Ok(path) = std::env::var("SPEC_1000") {
        return std::fs::read_to_string(path).expect("SPEC_1000 file");
    }
    let out = Command::new("python3")
        .arg(root().join("scripts/gen-spec.py"))
        .arg(services.to_string())
        .output()
        .expect("python3 runs scripts/gen-spec.py");
    String::from_utf8(out.stdout).expect("utf-8 spec")
}

fn bench(c: &mut Criterion) {
    let seed =
        std::fs::read_to_string(root().join("examples/serverless-mysql-master-replica.yaml"))
            .unwrap();
    let mut group = c.benchmark_group("lint");
    group.throughput(Throughput::Bytes(seed.len() as u64));
    group.bench_function("seed", |b| {
        b.iter(|| shared::check(std::hint::black_box(&seed)))
    });
    group.bench_function("seed/parse-only", |b| {
        b.iter(|| shared::syntax::parse(std::hint::black_box(&seed)))
    });
    for services in [250, 1000] {
        let spec = large_spec(services);
        group.throughput(Throughput::Bytes(spec.len() as u64));
        group.sample_size(20);
        group.bench_function(format!("generated-{services}"), |b| {
            b.iter_batched(
                || (),
                |_| shared::check(std::hint::black_box(&spec)),
                BatchSize::SmallInput,
            )
        });
        group.bench_function(format!("generated-{services}/parse-only"), |b| {
            b.iter(|| shared::syntax::parse(std::hint::black_box(&spec)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
