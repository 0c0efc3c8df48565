//! Lint time in process: the seed spec, a generated 1,000-service spec, and a
//! corpus of 200 files (every rule fixture, topped up with generated specs of
//! 1–40 services) linted one after the other in one process.
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
    if services == 1000 {
        if let Ok(path) = std::env::var("SPEC_1000") {
            return std::fs::read_to_string(path).expect("SPEC_1000 file");
        }
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
    let corpus = corpus(200);
    let bytes: usize = corpus.iter().map(String::len).sum();
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.bench_function("corpus-200-files", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|text| shared::check(std::hint::black_box(text)).len())
                .sum::<usize>()
        })
    });
    group.finish();
}

/// `files` spec texts: the rule fixtures (valid and invalid, sorted), then
/// generated specs of growing size.
fn corpus(files: usize) -> Vec<String> {
    let mut paths = Vec::new();
    let fixtures = root().join("shared/tests/fixtures");
    for dir in std::fs::read_dir(&fixtures).expect("fixtures").flatten() {
        for file in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file.path().extension().is_some_and(|e| e == "yaml") {
                paths.push(file.path());
            }
        }
    }
    paths.sort();
    let mut texts: Vec<String> = paths
        .iter()
        .take(files)
        .map(|p| std::fs::read_to_string(p).expect("fixture"))
        .collect();
    let mut services = 1;
    while texts.len() < files {
        texts.push(large_spec(services));
        services = services % 40 + 1;
    }
    texts
}

criterion_group!(benches, bench);
criterion_main!(benches);
