//! Directive values: parsing with Redis' validation and reasons, and CONFIG GET formatting.

use std::path::{Path, PathBuf};

use super::error::{reason, strerror};
use super::syntax::{c_strtoll, format_f64, lossy, memory_value, strict_f64, strict_i64};
use super::table::{Check, Directive, Kind, Special};

/// The current value of one directive.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    /// Integers, byte counts and octal numbers. A percentage (`maxmemory-clients 10%`) is
    /// stored negative, as Redis does.
    Num(i128),
    /// The canonical spelling of an enum word.
    Word(&'static str),
    /// Or-ed bits of a [`Kind::Flags`] directive.
    Flags(u8),
    Str(String),
    /// `(seconds, changes)` pairs.
    Save(Vec<(i64, i64)>),
    Bind(Vec<String>),
    /// Limits of the `normal`, `replica` and `pubsub` classes, in that order.
    OutputBufferLimits([OutputBufferLimit; 3]),
    OomScoreAdj([i64; 3]),
    /// Bits from [`NOTIFY_LETTERS`].
    Notify(u16),
    /// `None` for "not a replica".
    ReplicaOf(Option<(String, i64)>),
    Percentiles(Vec<f64>),
}

/// One client class of `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_secs: i64,
}

/// Where a value comes from; it changes how `save` lines combine.
pub(crate) struct SetContext<'a> {
    /// True while a config file is being read (false for CONFIG SET and, as in Redis, for
    /// the rest of a file after an `include`).
    pub reading_file: bool,
    /// Whether a `save` line was already seen during this load.
    pub save_seen: &'a mut bool,
    /// The directory relative paths are resolved against (Redis' working directory).
    pub cwd: &'a Path,
    /// Whether to look at the file system (`dir` must exist). Off only in tests that load a
    /// config written for another machine.
    pub check_paths: bool,
}

/// Parses `args` (the words after the directive name) for `directive`; `current` is the
/// present value, which `save` and `client-output-buffer-limit` build on.
pub(crate) fn parse(
    directive: &Directive,
    args: &[Vec<u8>],
    current: &Value,
    ctx: &mut SetContext<'_>,
) -> Result<Value, String> {
    let single = || args.first().map(Vec::as_slice).unwrap_or_default();
    match directive.kind {
        Kind::Bool(check) => parse_bool(single(), check),
        Kind::Int { min, max } => {
            let value = strict_i64(single()).ok_or(reason::NOT_INTEGER)?;
            in_range(i128::from(value), min, max, false).map(Value::Num)
        }
        Kind::Memory { min, max, percent } => parse_memory(single(), min, max, percent),
        Kind::Octal { min, max } => {
            let (value, overflow) = c_strtoll(single(), 8).ok_or(reason::NOT_OCTAL)?;
            if overflow {
                return Err(reason::NOT_OCTAL.to_owned());
            }
            // Redis compares octal numbers as unsigned: -1 is far above the maximum.
            in_range(i128::from(value as u64), min, max, true).map(Value::Num)
        }
        Kind::Enum(words) => words
            .iter()
            .find(|word| single().eq_ignore_ascii_case(word.as_bytes()))
            .map(|word| Value::Word(word))
            .ok_or_else(|| enum_reason(words.iter().copied())),
        Kind::Flags(words) => parse_flags(args, words),
        Kind::Str(check) => {
            let text = single();
            check_string(text, check)?;
            Ok(Value::Str(lossy(text)))
        }
        Kind::Special(special) => parse_special(special, args, current, ctx),
    }
}

fn parse_bool(text: &[u8], check: Check) -> Result<Value, String> {
    let value = if text.eq_ignore_ascii_case(b"yes") {
        true
    } else if text.eq_ignore_ascii_case(b"no") {
        false
    } else {
        return Err(reason::NOT_YES_NO.to_owned());
    };
    if value && check == Check::NoActiveDefrag {
        return Err(reason::NO_ACTIVE_DEFRAG.to_owned());
    }
    Ok(Value::Bool(value))
}

fn in_range(value: i128, min: i128, max: i128, octal: bool) -> Result<i128, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else if octal {
        Err(format!(
            "argument must be between {min:o} and {max:o} inclusive"
        ))
    } else {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    }
}

fn parse_memory(text: &[u8], min: i128, max: i128, percent: bool) -> Result<Value, String> {
    let value = match memory_value(text) {
        // The one signed byte-count directive with a percentage form (`maxmemory-clients`)
        // reads a huge count as a negative number, i.e. a percentage, exactly like Redis.
        Some(bytes) if percent => i128::from(bytes as i64),
        Some(bytes) => i128::from(bytes),
        None if percent => {
            let number = text.strip_suffix(b"%").filter(|n| !n.is_empty());
            match number.and_then(strict_i64) {
                Some(n) if n >= 0 => -i128::from(n),
                _ => return Err(reason::NOT_MEMORY_OR_PERCENT.to_owned()),
            }
        }
        None => return Err(reason::NOT_MEMORY.to_owned()),
    };
    if percent && value < 0 {
        return if value < min {
            Err(format!(
                "percentage argument must be less or equal to {}",
                -min
            ))
        } else {
            Ok(Value::Num(value))
        };
    }
    in_range(value, min, max, false).map(Value::Num)
}

fn enum_reason<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = words.collect();
    format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    )
}

fn parse_flags(args: &[Vec<u8>], words: &[(&'static str, u8)]) -> Result<Value, String> {
    let bad = || enum_reason(words.iter().map(|(word, _)| *word));
    if args.is_empty() {
        return Err(bad());
    }
    let mut bits = 0;
    for arg in args {
        let (_, bit) = words
            .iter()
            .find(|(word, _)| arg.eq_ignore_ascii_case(word.as_bytes()))
            .ok_or_else(bad)?;
        bits |= bit;
    }
    // `save` and `nosave` are the first two non-zero words.
    if bits & 0b11 == 0b11 {
        return Err(reason::SAVE_AND_NOSAVE.to_owned());
    }
    Ok(Value::Flags(bits))
}

fn check_string(text: &[u8], check: Check) -> Result<(), String> {
    let is_path = text.contains(&b'/') || text.contains(&b'\\');
    let fail = |why: &str| Err(why.to_owned());
    match check {
        Check::DbFilename if is_path => fail(reason::DBFILENAME_PATH),
        Check::AofFilename if text.is_empty() => fail(reason::AOF_FILENAME_EMPTY),
        Check::AofFilename if is_path => fail(reason::AOF_FILENAME_PATH),
        Check::AofDirname if text.is_empty() => fail(reason::AOF_DIRNAME_EMPTY),
        Check::AofDirname if is_path => fail(reason::AOF_DIRNAME_PATH),
        Check::Hostname if text.len() >= 256 => fail(reason::HOSTNAME_TOO_LONG),
        Check::Hostname
            if !text
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.') =>
        {
            fail(reason::HOSTNAME_CHARS)
        }
        Check::ProcTitleTemplate if !valid_proc_title(text) => fail(reason::PROC_TITLE_TEMPLATE),
        _ => Ok(()),
    }
}

/// A process title template is valid when every `{name}` is known (`{{` is a literal `{`)
/// and the title is not blank once expanded. As in Redis' check, `{title}` and
/// `{server-mode}` expand to nothing; the other variables always give some text.
fn valid_proc_title(template: &[u8]) -> bool {
    const EMPTY: &[&[u8]] = &[b"title", b"server-mode"];
    const FILLED: &[&[u8]] = &[
        b"listen-addr",
        b"port",
        b"tls-port",
        b"unixsocket",
        b"config-file",
    ];
    let mut visible = false;
    let mut rest = template;
    while let Some(open) = rest.iter().position(|&c| c == b'{') {
        visible |= rest[..open].iter().any(|&c| c != b' ');
        let after = &rest[open + 1..];
        match after.first() {
            None => return false,
            Some(b'{') => {
                visible = true;
                rest = &after[1..];
                continue;
            }
            Some(_) => {}
        }
        let Some(close) = after.iter().position(|&c| c == b'}') else {
            return false;
        };
        let name = &after[..close];
        if FILLED.contains(&name) {
            visible = true;
        } else if !EMPTY.contains(&name) {
            return false;
        }
        rest = &after[close + 1..];
    }
    visible || rest.iter().any(|&c| c != b' ')
}

fn parse_special(
    special: Special,
    args: &[Vec<u8>],
    current: &Value,
    ctx: &mut SetContext<'_>,
) -> Result<Value, String> {
    match special {
        Special::Save => parse_save(args, current, ctx),
        Special::Bind => {
            if args.len() > 16 {
                return Err(reason::BIND_TOO_MANY.to_owned());
            }
            let args = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            Ok(Value::Bind(args.iter().map(|a| lossy(a)).collect()))
        }
        Special::ClientOutputBufferLimit => parse_output_buffer_limits(args, current),
        Special::OomScoreAdjValues => parse_oom_values(args),
        Special::NotifyKeyspaceEvents => {
            let text = args.first().map(Vec::as_slice).unwrap_or_default();
            notify_flags(text)
                .map(Value::Notify)
                .ok_or_else(|| reason::NOTIFY_CLASS.to_owned())
        }
        Special::ReplicaOf => parse_replicaof(args),
        Special::Dir => {
            let text = args.first().map(Vec::as_slice).unwrap_or_default();
            resolve_dir(&lossy(text), ctx).map(Value::Str)
        }
        Special::LatencyPercentiles => parse_percentiles(args),
    }
}

/// `save`: `""` clears the list. Otherwise the pairs are appended, after clearing the list
/// when CONFIG SET gives them, or when this is the first `save` line of a file (so the
/// built-in defaults go away but several lines add up). Redis forgets that it is reading a
/// file once an `include` returns, so a `save` line after an `include` clears the list
/// again; we keep that quirk.
fn parse_save(
    args: &[Vec<u8>],
    current: &Value,
    ctx: &mut SetContext<'_>,
) -> Result<Value, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Value::Save(Vec::new()));
    }
    if args.len() % 2 != 0 {
        return Err(reason::SAVE_INVALID.to_owned());
    }
    let mut pairs = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let secs = c_strtoll(&pair[0], 10).map(|(v, _)| v).filter(|v| *v >= 1);
        let changes = c_strtoll(&pair[1], 10).map(|(v, _)| v).filter(|v| *v >= 0);
        match (secs, changes) {
            // Redis keeps the number of changes in a C int.
            (Some(secs), Some(changes)) => pairs.push((secs, i64::from(changes as i32))),
            _ => return Err(reason::SAVE_INVALID.to_owned()),
        }
    }
    let keep_current = ctx.reading_file && *ctx.save_seen;
    if ctx.reading_file {
        *ctx.save_seen = true;
    }
    let mut list = match current {
        Value::Save(list) if keep_current => list.clone(),
        _ => Vec::new(),
    };
    list.extend(pairs);
    Ok(Value::Save(list))
}

/// Client classes as Redis names them; `replica` is another name for `slave`, and `master`
/// is a class Redis knows but refuses here.
fn output_buffer_class(name: &[u8]) -> Option<usize> {
    match name.to_ascii_lowercase().as_slice() {
        b"normal" => Some(0),
        b"slave" | b"replica" => Some(1),
        b"pubsub" => Some(2),
        _ => None,
    }
}

fn parse_output_buffer_limits(args: &[Vec<u8>], current: &Value) -> Result<Value, String> {
    if args.len() % 4 != 0 {
        return Err(reason::OBUF_ARG_COUNT.to_owned());
    }
    let mut limits = match current {
        Value::OutputBufferLimits(limits) => *limits,
        _ => default_output_buffer_limits(),
    };
    for group in args.chunks(4) {
        let class = output_buffer_class(&group[0]).ok_or(reason::OBUF_CLASS)?;
        let hard = memory_value(&group[1]);
        let soft = memory_value(&group[2]);
        // Redis reads the seconds into a C int before checking the sign.
        let secs = c_strtoll(&group[3], 10).map(|(v, _)| i64::from(v as i32));
        match (hard, soft, secs) {
            (Some(hard_bytes), Some(soft_bytes), Some(soft_secs)) if soft_secs >= 0 => {
                limits[class] = OutputBufferLimit {
                    hard_bytes,
                    soft_bytes,
                    soft_secs,
                };
            }
            _ => return Err(reason::OBUF_VALUES.to_owned()),
        }
    }
    Ok(Value::OutputBufferLimits(limits))
}

pub(crate) fn default_output_buffer_limits() -> [OutputBufferLimit; 3] {
    [
        OutputBufferLimit::default(),
        OutputBufferLimit {
            hard_bytes: 256 << 20,
            soft_bytes: 64 << 20,
            soft_secs: 60,
        },
        OutputBufferLimit {
            hard_bytes: 32 << 20,
            soft_bytes: 8 << 20,
            soft_secs: 60,
        },
    ]
}

fn parse_oom_values(args: &[Vec<u8>]) -> Result<Value, String> {
    if args.len() != 3 {
        return Err(reason::WRONG_ARG_COUNT.to_owned());
    }
    let mut values = [0i64; 3];
    for (slot, arg) in values.iter_mut().zip(args) {
        match c_strtoll(arg, 10) {
            Some((v, _)) if (-2000..=2000).contains(&v) => *slot = v,
            _ => return Err(reason::OOM_VALUES.to_owned()),
        }
    }
    Ok(Value::OomScoreAdj(values))
}

fn parse_replicaof(args: &[Vec<u8>]) -> Result<Value, String> {
    let [host, port] = args else {
        return Err(reason::WRONG_ARG_COUNT.to_owned());
    };
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        return Ok(Value::ReplicaOf(None));
    }
    match c_strtoll(port, 10) {
        Some((port, _)) if (0..=65535).contains(&port) => {
            Ok(Value::ReplicaOf(Some((lossy(host), port))))
        }
        _ => Err(reason::MASTER_PORT.to_owned()),
    }
}

fn parse_percentiles(args: &[Vec<u8>]) -> Result<Value, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Value::Percentiles(Vec::new()));
    }
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        let value = strict_f64(arg).ok_or(reason::PERCENTILES_INVALID)?;
        if !(0.0..=100.0).contains(&value) {
            return Err(reason::PERCENTILES_RANGE.to_owned());
        }
        values.push(value);
    }
    Ok(Value::Percentiles(values))
}

/// Resolves `dir` like `chdir` would from `ctx.cwd` and returns the absolute, resolved
/// path (what `getcwd` shows afterwards). Errors carry the operating system's text.
fn resolve_dir(text: &str, ctx: &SetContext<'_>) -> Result<String, String> {
    if text.is_empty() {
        // chdir("") fails; joining "" would quietly name the current directory.
        return Err("No such file or directory".to_owned());
    }
    let path = ctx.cwd.join(text);
    if !ctx.check_paths {
        return Ok(path.to_string_lossy().into_owned());
    }
    let resolved: PathBuf = std::fs::canonicalize(&path).map_err(|e| strerror(&e))?;
    if !resolved.is_dir() {
        return Err("Not a directory".to_owned());
    }
    Ok(resolved.to_string_lossy().into_owned())
}

/// Keyspace notification classes, in the order CONFIG GET prints them.
pub(crate) const NOTIFY_LETTERS: &[u8] = b"g$lshzxetdnKEm";
/// The classes `A` stands for.
const NOTIFY_ALL: u16 = (1 << 10) - 1;

fn notify_bit(letter: u8) -> Option<u16> {
    NOTIFY_LETTERS
        .iter()
        .position(|&l| l == letter)
        .map(|i| 1 << i)
}

fn notify_flags(text: &[u8]) -> Option<u16> {
    text.iter().try_fold(0u16, |bits, &c| match c {
        b'A' => Some(bits | NOTIFY_ALL),
        _ => notify_bit(c).map(|bit| bits | bit),
    })
}

/// Redis prints `A` for the whole set; then, like Redis, it does not print `n` at all.
fn format_notify(bits: u16) -> String {
    let mut out = String::new();
    let mut letters = NOTIFY_LETTERS.iter().enumerate();
    if bits & NOTIFY_ALL == NOTIFY_ALL {
        out.push('A');
        letters.nth(10);
    }
    for (i, &letter) in letters {
        if bits & (1 << i) != 0 {
            out.push(char::from(letter));
        }
    }
    out
}

/// The value as CONFIG GET prints it.
pub(crate) fn format(directive: &Directive, value: &Value) -> String {
    match value {
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Value::Num(n) => match directive.kind {
            Kind::Octal { .. } => format!("{n:o}"),
            Kind::Memory { percent: true, .. } if *n < 0 => format!("{}%", -n),
            _ => n.to_string(),
        },
        Value::Word(word) => (*word).to_owned(),
        Value::Flags(bits) => format_flags(directive, *bits),
        Value::Str(s) => s.clone(),
        Value::Save(pairs) => join(
            pairs
                .iter()
                .map(|(secs, changes)| format!("{secs} {changes}")),
        ),
        Value::Bind(addresses) => addresses.join(" "),
        Value::OutputBufferLimits(limits) => {
            let names = ["normal", "slave", "pubsub"];
            join(names.iter().zip(limits).map(|(name, l)| {
                format!("{name} {} {} {}", l.hard_bytes, l.soft_bytes, l.soft_secs)
            }))
        }
        Value::OomScoreAdj(values) => join(values.iter().map(i64::to_string)),
        Value::Notify(bits) => format_notify(*bits),
        Value::ReplicaOf(None) => String::new(),
        Value::ReplicaOf(Some((host, port))) => format!("{host} {port}"),
        Value::Percentiles(values) => join(values.iter().map(|v| format_f64(*v))),
    }
}

fn format_flags(directive: &Directive, bits: u8) -> String {
    let Kind::Flags(words) = directive.kind else {
        return String::new();
    };
    if bits == 0 {
        return words.first().map_or("", |(word, _)| word).to_owned();
    }
    join(
        words
            .iter()
            .filter(|(_, bit)| *bit != 0 && bits & bit != 0)
            .map(|(w, _)| (*w).to_owned()),
    )
}

fn join(parts: impl Iterator<Item = String>) -> String {
    parts.collect::<Vec<_>>().join(" ")
}
