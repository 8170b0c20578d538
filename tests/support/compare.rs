//! Comparing a reference reply with the subject's, per [`Check`].
//!
//! Every comparison answers `Ok(())` or `Err(reason)`; the reason is a short sentence that the
//! runner prints under both replies. Relaxed checks fall back to exact comparison when the
//! replies are not of the kind the check is about (two errors under `%unordered` must still be
//! the same error).

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use ferrodis_resp::{encode, Frame, Protocol};

use crate::conn::Reply;
use crate::render::kind;
use crate::script::Check;

/// Compare `reference` and `subject` under `check`, ignoring the values of `mask`ed keys.
///
/// # Errors
///
/// Why the replies differ.
pub fn compare(
    check: &Check,
    mask: &[Vec<u8>],
    reference: &Reply,
    subject: &Reply,
) -> Result<(), String> {
    let (a, b) = if mask.is_empty() {
        (reference.frame.clone(), subject.frame.clone())
    } else {
        (masked(&reference.frame, mask), masked(&subject.frame, mask))
    };
    match check {
        Check::Exact | Check::Scan if mask.is_empty() => {
            if reference.raw == subject.raw {
                return Ok(());
            }
            // Same bytes are required; the frame comparison only says where they differ.
            exact(&a, &b).and(Err("replies differ in their bytes".to_owned()))
        }
        Check::Exact | Check::Scan => exact(&a, &b),
        Check::Ignore => Ok(()),
        Check::Type => same_kind(&a, &b),
        Check::Shape => shape(&a, &b, "reply"),
        Check::Unordered => unordered(&a, &b),
        Check::Pairs => pairs(&a, &b),
        Check::Approx(tolerance) => approx(&a, &b, *tolerance),
        Check::Range(lo, hi) => range(&a, &b, *lo, *hi),
        Check::Info(sections) => info(&a, &b, sections),
        Check::Fields(values) => fields(&a, &b, values),
        Check::CommandInfo => exact(&command_info_form(&a), &command_info_form(&b)),
    }
}

/// The RESP3 bytes of a frame: a canonical form that keeps every type distinct.
pub fn canonical(frame: &Frame) -> Bytes {
    let mut out = BytesMut::new();
    encode(frame, Protocol::Resp3, &mut out);
    out.freeze()
}

fn exact(a: &Frame, b: &Frame) -> Result<(), String> {
    if canonical(a) == canonical(b) {
        return Ok(());
    }
    Err(match first_difference(a, b, "reply") {
        Some(place) => format!("replies differ at {place}"),
        None => "replies differ".to_owned(),
    })
}

/// Where two frames first differ (`reply[0][9]: lengths 16 vs 10`), for readable reports of
/// large replies such as COMMAND INFO.
pub fn first_difference(a: &Frame, b: &Frame, path: &str) -> Option<String> {
    if kind(a) != kind(b) {
        return Some(format!("{path}: {} vs {}", kind(a), kind(b)));
    }
    match (a, b) {
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                if let Some(place) = first_difference(x, y, &format!("{path}[{i}]")) {
                    return Some(place);
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: lengths {} vs {}", x.len(), y.len()))
        }
        (Frame::Map(x), Frame::Map(y)) => {
            for ((kx, vx), (ky, vy)) in x.iter().zip(y) {
                if let Some(place) = first_difference(kx, ky, &format!("{path}.<key>")) {
                    return Some(place);
                }
                let here = format!("{path}.{}", key_text(kx));
                if let Some(place) = first_difference(vx, vy, &here) {
                    return Some(place);
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: sizes {} vs {}", x.len(), y.len()))
        }
        _ => (canonical(a) != canonical(b)).then(|| {
            format!(
                "{path}: {} vs {}",
                crate::render::render(a, 0),
                crate::render::render(b, 0)
            )
        }),
    }
}

fn same_kind(a: &Frame, b: &Frame) -> Result<(), String> {
    if kind(a) == kind(b) {
        Ok(())
    } else {
        Err(format!("reply types differ: {} vs {}", kind(a), kind(b)))
    }
}

/// Replace the value of every masked key (in maps and in RESP2 name/value arrays) by a marker.
fn masked(frame: &Frame, mask: &[Vec<u8>]) -> Frame {
    let hidden = || Frame::simple("<masked>");
    let is_masked = |key: &Frame| match key {
        Frame::Bulk(k) | Frame::Simple(k) => mask.iter().any(|m| m[..] == k[..]),
        _ => false,
    };
    match frame {
        Frame::Map(entries) => Frame::Map(
            entries
                .iter()
                .map(|(k, v)| {
                    let v = if is_masked(k) {
                        hidden()
                    } else {
                        masked(v, mask)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Frame::Array(items) => {
            let flat_map = items.len() % 2 == 0
                && items
                    .iter()
                    .step_by(2)
                    .all(|k| matches!(k, Frame::Bulk(_) | Frame::Simple(_)));
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if flat_map && i % 2 == 1 && is_masked(&items[i - 1]) {
                    out.push(hidden());
                } else {
                    out.push(masked(item, mask));
                }
            }
            Frame::Array(out)
        }
        Frame::Set(items) => Frame::Set(items.iter().map(|f| masked(f, mask)).collect()),
        other => other.clone(),
    }
}

/// Same types everywhere, same aggregate lengths, same map keys; scalar values are free.
fn shape(a: &Frame, b: &Frame, path: &str) -> Result<(), String> {
    if kind(a) != kind(b) {
        return Err(format!("{path}: types differ: {} vs {}", kind(a), kind(b)));
    }
    match (a, b) {
        (Frame::Array(x), Frame::Array(y))
        | (Frame::Set(x), Frame::Set(y))
        | (Frame::Push(x), Frame::Push(y)) => {
            if x.len() != y.len() {
                return Err(format!(
                    "{path}: lengths differ: {} vs {}",
                    x.len(),
                    y.len()
                ));
            }
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                shape(x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Frame::Map(x), Frame::Map(y)) => {
            let keys =
                |m: &[(Frame, Frame)]| m.iter().map(|(k, _)| canonical(k)).collect::<Vec<_>>();
            if keys(x) != keys(y) {
                return Err(format!(
                    "{path}: map keys differ: {} vs {}",
                    key_list(x),
                    key_list(y)
                ));
            }
            for ((k, x), (_, y)) in x.iter().zip(y) {
                shape(x, y, &format!("{path}.{}", key_text(k)))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn key_text(key: &Frame) -> String {
    match key {
        Frame::Bulk(k) | Frame::Simple(k) => String::from_utf8_lossy(k).into_owned(),
        other => format!("{other:?}"),
    }
}

fn key_list(map: &[(Frame, Frame)]) -> String {
    let keys: Vec<String> = map.iter().map(|(k, _)| key_text(k)).collect();
    format!("[{}]", keys.join(", "))
}

/// Elements of an aggregate as a sorted multiset of canonical bytes.
fn multiset(items: &[Frame]) -> Vec<Bytes> {
    let mut out: Vec<Bytes> = items.iter().map(canonical).collect();
    out.sort();
    out
}

fn unordered(a: &Frame, b: &Frame) -> Result<(), String> {
    match (a, b) {
        (Frame::Array(x), Frame::Array(y)) | (Frame::Set(x), Frame::Set(y)) => {
            let (x, y) = (multiset(x), multiset(y));
            if x == y {
                return Ok(());
            }
            Err(difference("elements", &x, &y))
        }
        (Frame::Map(_), Frame::Map(_)) => pairs(a, b),
        _ => exact(a, b),
    }
}

/// The pairs of a map or of a RESP2 flat name/value array, as a sorted multiset.
fn pair_set(frame: &Frame) -> Option<Vec<Bytes>> {
    let mut out: Vec<Bytes> = match frame {
        Frame::Map(entries) => entries
            .iter()
            .map(|(k, v)| [canonical(k), canonical(v)].concat().into())
            .collect(),
        Frame::Array(items) if items.len() % 2 == 0 => items
            .chunks(2)
            .map(|kv| [canonical(&kv[0]), canonical(&kv[1])].concat().into())
            .collect(),
        _ => return None,
    };
    out.sort();
    Some(out)
}

fn pairs(a: &Frame, b: &Frame) -> Result<(), String> {
    same_kind(a, b)?;
    match (pair_set(a), pair_set(b)) {
        (Some(x), Some(y)) if x == y => Ok(()),
        (Some(x), Some(y)) => Err(difference("pairs", &x, &y)),
        _ => exact(a, b),
    }
}

/// Which items only one side has (both inputs sorted).
fn difference(what: &str, reference: &[Bytes], subject: &[Bytes]) -> String {
    let only = |x: &[Bytes], y: &[Bytes]| -> Vec<String> {
        x.iter()
            .filter(|e| !y.contains(e))
            .map(|e| crate::render::quoted(e))
            .collect()
    };
    format!(
        "{what} differ; only in the reference: [{}]; only in the subject: [{}]",
        only(reference, subject).join(", "),
        only(subject, reference).join(", ")
    )
}

fn number(frame: &Frame) -> Option<f64> {
    match frame {
        Frame::Integer(n) => Some(*n as f64),
        Frame::Double(d) => Some(*d),
        Frame::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

fn approx(a: &Frame, b: &Frame, tolerance: f64) -> Result<(), String> {
    same_kind(a, b)?;
    match (number(a), number(b)) {
        (Some(x), Some(y)) if (x - y).abs() <= tolerance => Ok(()),
        (Some(x), Some(y)) => Err(format!("{x} and {y} are further apart than {tolerance}")),
        _ => exact(a, b),
    }
}

fn range(a: &Frame, b: &Frame, lo: i64, hi: i64) -> Result<(), String> {
    match (a, b) {
        (Frame::Integer(x), Frame::Integer(y)) => {
            for (who, n) in [("reference", x), ("subject", y)] {
                if !(lo..=hi).contains(n) {
                    return Err(format!("{who}'s {n} is outside {lo}..={hi}"));
                }
            }
            Ok(())
        }
        _ => exact(a, b),
    }
}

/// The text of a bulk or verbatim reply.
fn text(frame: &Frame) -> Option<String> {
    match frame {
        Frame::Bulk(t) | Frame::Verbatim { text: t, .. } => {
            Some(String::from_utf8_lossy(t).into_owned())
        }
        _ => None,
    }
}

/// INFO text: section name -> lines (field lines as written).
fn info_sections(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut sections = BTreeMap::new();
    let mut current = String::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix("# ") {
            current = name.to_owned();
            sections.entry(current.clone()).or_insert_with(Vec::new);
        } else {
            sections
                .entry(current.clone())
                .or_insert_with(Vec::new)
                .push(line.to_owned());
        }
    }
    sections
}

fn info(a: &Frame, b: &Frame, only: &[String]) -> Result<(), String> {
    same_kind(a, b)?;
    let (Some(a), Some(b)) = (text(a), text(b)) else {
        return exact(a, b);
    };
    let (reference, subject) = (info_sections(&a), info_sections(&b));
    let mut problems = Vec::new();
    for (section, lines) in &reference {
        if !only.is_empty() && !only.contains(&section.to_ascii_lowercase()) {
            continue;
        }
        let Some(theirs) = subject.get(section) else {
            problems.push(format!("section `# {section}` missing"));
            continue;
        };
        if section == "Keyspace" {
            let (ours, theirs) = (keyspace_lines(lines), keyspace_lines(theirs));
            if ours != theirs {
                problems.push(format!("`# Keyspace` lines differ: {ours:?} vs {theirs:?}"));
            }
            continue;
        }
        let names: Vec<&str> = theirs
            .iter()
            .map(|l| l.split(':').next().unwrap_or(l))
            .collect();
        let missing: Vec<&str> = lines
            .iter()
            .map(|l| l.split(':').next().unwrap_or(l))
            .filter(|name| !names.contains(name))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("`# {section}` lacks fields {missing:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Keyspace lines with the value of `avg_ttl` blanked: it is an estimate the expiry cycle
/// updates from random samples, so two servers (even two references) differ. The field itself
/// must still be there.
fn keyspace_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| match line.find("avg_ttl=") {
            Some(at) => {
                let end = line[at..].find(',').map_or(line.len(), |e| at + e);
                format!("{}avg_ttl=*{}", &line[..at], &line[end..])
            }
            None => line.clone(),
        })
        .collect()
}

/// Position of the subcommand list in a COMMAND INFO entry.
const SUBCOMMANDS_AT: usize = 9;

/// A COMMAND INFO reply with every subcommand list sorted (by canonical bytes), so lists built
/// in hash-table order compare equal. Anything else is left as it is.
fn command_info_form(frame: &Frame) -> Frame {
    let Frame::Array(entries) = frame else {
        return frame.clone();
    };
    Frame::Array(entries.iter().map(command_entry_form).collect())
}

fn command_entry_form(entry: &Frame) -> Frame {
    match entry {
        Frame::Array(fields) if fields.len() > SUBCOMMANDS_AT => {
            let mut fields = fields.clone();
            if let Frame::Array(subs) = &fields[SUBCOMMANDS_AT] {
                let mut subs: Vec<Frame> = subs.iter().map(command_entry_form).collect();
                subs.sort_by_key(canonical);
                fields[SUBCOMMANDS_AT] = Frame::Array(subs);
            }
            Frame::Array(fields)
        }
        other => other.clone(),
    }
}

/// `name=value name=value` lines as (name, value) lists.
fn field_lines(text: &str) -> Vec<Vec<(String, String)>> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            line.split(' ')
                .map(|f| match f.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (f.to_owned(), String::new()),
                })
                .collect()
        })
        .collect()
}

fn fields(a: &Frame, b: &Frame, compared: &[String]) -> Result<(), String> {
    same_kind(a, b)?;
    let (Some(a), Some(b)) = (text(a), text(b)) else {
        return exact(a, b);
    };
    let (reference, subject) = (field_lines(&a), field_lines(&b));
    if reference.len() != subject.len() {
        return Err(format!("{} lines vs {}", reference.len(), subject.len()));
    }
    for (n, (x, y)) in reference.iter().zip(&subject).enumerate() {
        let names = |l: &[(String, String)]| l.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        if names(x) != names(y) {
            return Err(format!(
                "line {}: field names differ: {:?} vs {:?}",
                n + 1,
                names(x),
                names(y)
            ));
        }
        for ((k, v), (_, w)) in x.iter().zip(y) {
            if compared.contains(k) && v != w {
                return Err(format!("line {}: {k}={v} vs {k}={w}", n + 1));
            }
        }
    }
    Ok(())
}

/// The value `%capture` stores: the reply's text or number, or one field of a `k=v` text.
pub fn capture_value(frame: &Frame, field: Option<&str>) -> Option<Vec<u8>> {
    let whole = match frame {
        Frame::Integer(n) => n.to_string().into_bytes(),
        Frame::Bulk(t) | Frame::Simple(t) | Frame::Verbatim { text: t, .. } => t.to_vec(),
        _ => return None,
    };
    let Some(field) = field else {
        return Some(whole);
    };
    let text = String::from_utf8_lossy(&whole).into_owned();
    field_lines(&text)
        .into_iter()
        .flatten()
        .find(|(k, _)| k == field)
        .map(|(_, v)| v.into_bytes())
}
