//! Codec throughput: request parsing of pipelined SET/GET commands and reply encoding.
//!
//! Run with `cargo bench -p ferrodis-benches --bench codec`.
#![allow(missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ferrodis_resp::{encode, Bytes, BytesMut, DecodeLimits, Frame, Protocol, RequestDecoder};

/// Commands per pipelined buffer.
const PIPELINE: usize = 1000;

fn command(out: &mut BytesMut, argv: &[&[u8]]) {
    let frame = Frame::Array(argv.iter().map(|a| Frame::bulk_from_slice(a)).collect());
    encode(&frame, Protocol::Resp2, out);
}

/// `PIPELINE` commands alternating SET key:<i> <value> and GET key:<i>.
fn pipeline(value_len: usize) -> BytesMut {
    let value = vec![b'v'; value_len];
    let mut out = BytesMut::new();
    for i in 0..PIPELINE {
        let key = format!("key:{i:06}");
        if i % 2 == 0 {
            command(&mut out, &[b"SET", key.as_bytes(), &value]);
        } else {
            command(&mut out, &[b"GET", key.as_bytes()]);
        }
    }
    out
}

fn decode_all(wire: &BytesMut) -> usize {
    let mut decoder = RequestDecoder::new(DecodeLimits::default());
    let mut buf = wire.clone();
    let mut count = 0;
    while let Ok(Some(argv)) = decoder.decode(&mut buf) {
        count += argv.len();
    }
    count
}

fn bench_parse(c: &mut Criterion) {
    for (name, value_len) in [("3B", 3), ("1KiB", 1024)] {
        let wire = pipeline(value_len);
        let mut group = c.benchmark_group(format!("parse_pipeline_{name}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        // Both measurements decode the same buffer (cloned, as a fresh read would be).
        group.bench_function("bytes", |b| b.iter(|| black_box(decode_all(&wire))));
        group.throughput(Throughput::Elements(PIPELINE as u64));
        group.bench_function("commands", |b| b.iter(|| black_box(decode_all(&wire))));
        group.finish();
    }

    let mut group = c.benchmark_group("parse_single");
    let mut one = BytesMut::new();
    command(&mut one, &[b"SET", b"key", b"val"]);
    group.throughput(Throughput::Elements(1));
    group.bench_function("SET key val", |b| {
        let mut decoder = RequestDecoder::new(DecodeLimits::default());
        let mut buf = BytesMut::with_capacity(4096);
        b.iter(|| {
            buf.extend_from_slice(&one);
            black_box(decoder.decode(&mut buf).ok().flatten())
        })
    });
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    for (name, len) in [("3B", 3), ("1KiB", 1024)] {
        let reply = Frame::Bulk(Bytes::from(vec![b'v'; len]));
        let mut group = c.benchmark_group(format!("encode_bulk_{name}"));
        group.throughput(Throughput::Elements(PIPELINE as u64));
        let mut out = BytesMut::with_capacity(PIPELINE * (len + 16));
        group.bench_function("replies", |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..PIPELINE {
                    encode(black_box(&reply), Protocol::Resp2, &mut out);
                }
                black_box(out.len())
            })
        });
        group.finish();
    }

    let array = Frame::Array(
        (0..100)
            .map(|i| Frame::Bulk(Bytes::from(format!("member:{i:04}"))))
            .collect(),
    );
    let mut sizing = BytesMut::new();
    encode(&array, Protocol::Resp3, &mut sizing);
    let mut group = c.benchmark_group("encode_array_100_bulks");
    group.throughput(Throughput::Bytes(sizing.len() as u64));
    let mut out = BytesMut::with_capacity(sizing.len());
    group.bench_function("resp3", |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&array), Protocol::Resp3, &mut out);
            black_box(out.len())
        })
    });
    let map = Frame::Map(
        (0..50)
            .map(|i| {
                (
                    Frame::Bulk(Bytes::from(format!("f{i}"))),
                    Frame::Double(i as f64 / 3.0),
                )
            })
            .collect(),
    );
    group.bench_function("map_50_doubles_resp2", |b| {
        b.iter(|| {
            out.clear();
            encode(black_box(&map), Protocol::Resp2, &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parse, bench_encode);
criterion_main!(benches);
