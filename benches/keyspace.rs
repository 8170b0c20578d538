//! Keyspace GET/SET throughput with 1, 2 and 4 threads (each operation locks its key's shard,
//! as the server's dispatch does).
#![allow(missing_docs)] // criterion_group! generates undocumented items.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrodis_keyspace::{Keyspace, Now, Value};

const KEYS: usize = 100_000;

fn keys() -> Vec<Vec<u8>> {
    (0..KEYS)
        .map(|i| format!("key:{i:08}").into_bytes())
        .collect()
}

fn populated() -> Arc<Keyspace> {
    let ks = Arc::new(Keyspace::new(16));
    let now = Now::system();
    for k in keys() {
        let mut g = ks.lock_keys([&k[..]], now);
        let _ = g.set(0, &k, Value::string(b"value-of-16-byte"), false);
    }
    ks
}

/// Runs `ops` operations split over `threads` threads; returns the wall time.
fn run_threads(
    ks: &Arc<Keyspace>,
    keys: &Arc<Vec<Vec<u8>>>,
    threads: usize,
    ops: u64,
    write: bool,
) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let ks = ks.clone();
            let keys = keys.clone();
            std::thread::spawn(move || {
                let now = Now::system();
                let per = ops / threads as u64;
                let mut i = t * 7919;
                for _ in 0..per {
                    i = (i + 104_729) % KEYS;
                    let k = &keys[i];
                    let mut g = ks.lock_keys([&k[..]], now);
                    if write {
                        let _ = g.set(0, k, Value::string(b"value-of-16-byte"), false);
                    } else {
                        let _ = std::hint::black_box(g.lookup_read(0, k).map(|e| e.is_some()));
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let ks = populated();
    let keys = Arc::new(keys());
    for (name, write) in [("get", false), ("set", true)] {
        let mut group = c.benchmark_group(format!("keyspace_{name}"));
        for threads in [1usize, 2, 4] {
            group.throughput(Throughput::Elements(40_000));
            group.bench_function(format!("{threads}_threads"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| run_threads(&ks, &keys, threads, 40_000, write))
                        .sum()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
