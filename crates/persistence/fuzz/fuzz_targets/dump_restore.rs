//! Fuzz RESTORE: arbitrary payloads never panic; a payload that restores dumps again to a
//! payload that restores to the same contents.
//!
//! Random bytes almost never carry a valid CRC-64, so each input is tried twice: as it is, and
//! as the body of a payload with a valid version-10 footer appended.
#![no_main]

use ferrodis_keyspace::{EncodingLimits, Value, ValueRef};
use ferrodis_persistence::{crc64, dump};
use libfuzzer_sys::fuzz_target;

/// A value's type and contents in a canonical order (hash and set iteration order depends on
/// the encoding, so members are sorted).
fn contents(v: &Value) -> (&'static str, Vec<Vec<u8>>) {
    let mut items = Vec::new();
    match v {
        Value::String(s) => items.push(s.to_bytes().to_vec()),
        Value::List(l) => l.for_each(|e| items.push(e.to_vec())),
        Value::Hash(h) => {
            h.for_each(|f, v| items.push([f, b"\0", v].concat()));
            items.sort();
        }
        Value::Set(s) => {
            s.for_each(|m| items.push(m.to_vec()));
            items.sort();
        }
        Value::ZSet(z) => z.for_each(|m, s| items.push([m, &s.to_bits().to_le_bytes()].concat())),
        _ => {}
    }
    (v.type_name(), items)
}

fn check(payload: &[u8]) {
    let limits = EncodingLimits::default();
    let Ok(value) = dump::restore(payload, limits) else {
        return;
    };
    for compress in [false, true] {
        let again = dump::dump(&ValueRef::of(&value), compress);
        match dump::restore(&again, limits) {
            Ok(restored) => assert_eq!(contents(&restored), contents(&value)),
            Err(e) => panic!("a dumped value does not restore: {e}"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut payload = data.to_vec();
    payload.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64::checksum(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    check(&payload);
});
