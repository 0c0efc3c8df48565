//! A driver for instruction counts and CPU time: reads `argv[1]` and calls
//! `shared::check` on it `argv[2]` times (default 1). BENCHMARKS.md runs it
//! under `valgrind --tool=callgrind` with N and 1 iterations.

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: lint_n FILE [N]");
    let n: usize = args.next().map_or(1, |n| n.parse().expect("N"));
    let text = std::fs::read_to_string(path).expect("readable file");
    let mut findings = 0;
    for _ in 0..n {
        findings += shared::check(std::hint::black_box(&text)).len();
    }
    println!("{findings}");
}
