//! `COMMAND INFO` and `COMMAND DOCS` replies, generated from the command table.
//!
//! Each command declares its arguments once, as the syntax line users read in documentation.
//! The grammar:
//!
//! ```text
//! syntax  := item*
//! item    := atom ["..." | "...."]        "..." marks the argument as `multiple`; "...." as
//!                                         `multiple` and `multiple_token` (the token repeats:
//!                                         `[GET pattern [GET pattern ...]]`)
//! atom    := "[" alts "]" ["{" name "}"]  optional; several alternatives become a `oneof`
//!          | "(" alts ")" ["{" name "}"]  required group
//!          | WORD                         an UPPERCASE word is a pure token
//!          | word[:type][@N][^since][!version] a lowercase word is an argument (`@N`: its
//!                                         key spec index when it is not a key); its type is
//!                                         inferred from its name (key, integer names, pattern,
//!                                         ...) unless given after ':'; `^6.2.0` says the
//!                                         version that added it, `!2.8.12` the version that
//!                                         deprecated it
//! group   := ... ["{" name "}"] ["^" since] a group's own name and version
//! alts    := syntax ("|" syntax)*
//! ```
//!
//! A group of a token followed by one argument (`[EX seconds]`) becomes that argument with the
//! token, as Redis documents it; a longer sequence becomes a `block`. Unnamed `oneof`s are named
//! after their alternatives joined by `_` (`on_off_skip`), like Redis does.

use ferrodis_resp::Frame;

use crate::command::spec::FindKeys;
use crate::command::{CommandTable, KeySpec};

/// One documented argument (a `COMMAND DOCS` `arguments` entry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// Argument name.
    pub name: String,
    /// `key`, `string`, `integer`, `double`, `pattern`, `unix-time`, `pure-token`, `oneof`,
    /// `block`.
    pub kind: &'static str,
    /// Index of the key spec for `key` arguments.
    pub key_spec_index: Option<usize>,
    /// The token preceding the value, if any.
    pub token: Option<String>,
    /// The version that added this argument, if later than the command.
    pub since: Option<String>,
    /// The version that deprecated this form, if any.
    pub deprecated_since: Option<String>,
    /// Whether it may be omitted.
    pub optional: bool,
    /// Whether it may repeat.
    pub multiple: bool,
    /// Whether its token repeats with it.
    pub multiple_token: bool,
    /// Nested arguments of `oneof` and `block`.
    pub args: Vec<Arg>,
}

impl Arg {
    fn new(name: impl Into<String>, kind: &'static str) -> Arg {
        Arg {
            name: name.into(),
            kind,
            key_spec_index: None,
            token: None,
            since: None,
            deprecated_since: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            args: Vec::new(),
        }
    }

    /// The `COMMAND DOCS` map for this argument.
    pub fn to_frame(&self) -> Frame {
        let mut m = vec![
            (bulk("name"), bulk(&self.name)),
            (bulk("type"), bulk(self.kind)),
        ];
        if let Some(i) = self.key_spec_index {
            m.push((bulk("key_spec_index"), Frame::Integer(i as i64)));
        }
        if let Some(t) = &self.token {
            m.push((bulk("token"), bulk(t)));
        }
        if let Some(v) = &self.since {
            m.push((bulk("since"), bulk(v)));
        }
        if let Some(v) = &self.deprecated_since {
            m.push((bulk("deprecated_since"), bulk(v)));
        }
        let mut flags = Vec::new();
        if self.optional {
            flags.push(Frame::simple("optional"));
        }
        if self.multiple {
            flags.push(Frame::simple("multiple"));
        }
        if self.multiple_token {
            flags.push(Frame::simple("multiple_token"));
        }
        if !flags.is_empty() {
            m.push((bulk("flags"), Frame::Set(flags)));
        }
        if !self.args.is_empty() {
            m.push((
                bulk("arguments"),
                Frame::Array(self.args.iter().map(Arg::to_frame).collect()),
            ));
        }
        Frame::Map(m)
    }
}

fn bulk(s: &str) -> Frame {
    Frame::bulk_from_slice(s.as_bytes())
}

/// Error in a syntax line (a bug in the table; a unit test parses every line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad syntax line {line:?}: {reason}")]
pub struct SyntaxError {
    line: String,
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Open(u8),
    Close(u8),
    Bar,
    Ellipsis,
    /// `....`: multiple with a repeated token.
    EllipsisToken,
    Name(&'a str),
    Word(&'a str),
}

fn tokenize(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            c @ (b'[' | b'(' | b'<') => {
                out.push(Tok::Open(c));
                i += 1;
            }
            c @ (b']' | b')' | b'>') => {
                out.push(Tok::Close(c));
                i += 1;
            }
            b'|' => {
                out.push(Tok::Bar);
                i += 1;
            }
            b'{' => {
                let end = s[i..].find('}').map_or(s.len(), |p| i + p);
                out.push(Tok::Name(&s[i + 1..end]));
                i = end + 1;
            }
            b'.' if s[i..].starts_with("....") => {
                out.push(Tok::EllipsisToken);
                i += 4;
            }
            b'.' if s[i..].starts_with("...") => {
                out.push(Tok::Ellipsis);
                i += 3;
            }
            _ => {
                let end = s[i..]
                    .find([' ', '[', ']', '(', ')', '<', '>', '|', '{'])
                    .map_or(s.len(), |p| i + p);
                let word = &s[i..end];
                let word = word
                    .strip_suffix("....")
                    .or_else(|| word.strip_suffix("..."))
                    .unwrap_or(word);
                out.push(Tok::Word(word));
                i += word.len();
            }
        }
    }
    out
}

struct Parser<'a> {
    toks: Vec<Tok<'a>>,
    pos: usize,
    line: &'a str,
    key_index: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, reason: &'static str) -> SyntaxError {
        SyntaxError {
            line: self.line.to_string(),
            reason,
        }
    }

    fn seq(&mut self) -> Result<Vec<Arg>, SyntaxError> {
        let mut items = Vec::new();
        while let Some(t) = self.toks.get(self.pos).cloned() {
            let mut arg = match t {
                Tok::Close(_) | Tok::Bar => break,
                Tok::Open(open) => {
                    self.pos += 1;
                    let close = match open {
                        b'[' => b']',
                        b'<' => b'>',
                        _ => b')',
                    };
                    let alts = self.alts()?;
                    if self.toks.get(self.pos) != Some(&Tok::Close(close)) {
                        return Err(self.err("unbalanced bracket"));
                    }
                    self.pos += 1;
                    let name = match self.toks.get(self.pos) {
                        Some(Tok::Name(n)) => {
                            self.pos += 1;
                            Some(n.to_string())
                        }
                        _ => None,
                    };
                    let mut a = if open == b'<' {
                        block(alts, name)
                    } else {
                        group(alts, name)
                    }
                    .ok_or_else(|| self.err("empty group"))?;
                    a.optional = open == b'[';
                    if let Some(Tok::Word(w)) = self.toks.get(self.pos) {
                        if let Some(v) = w.strip_prefix('^') {
                            a.since = Some(v.to_string());
                            self.pos += 1;
                        }
                    }
                    a
                }
                Tok::Word(w) => {
                    self.pos += 1;
                    self.word(w)
                }
                Tok::Ellipsis | Tok::EllipsisToken | Tok::Name(_) => {
                    return Err(self.err("misplaced '...' or name"))
                }
            };
            if self.toks.get(self.pos) == Some(&Tok::Ellipsis) {
                self.pos += 1;
                arg.multiple = true;
            } else if self.toks.get(self.pos) == Some(&Tok::EllipsisToken) {
                self.pos += 1;
                arg.multiple = true;
                arg.multiple_token = true;
            }
            items.push(arg);
        }
        Ok(items)
    }

    fn alts(&mut self) -> Result<Vec<Vec<Arg>>, SyntaxError> {
        let mut alts = vec![self.seq()?];
        while self.toks.get(self.pos) == Some(&Tok::Bar) {
            self.pos += 1;
            alts.push(self.seq()?);
        }
        Ok(alts)
    }

    fn word(&mut self, w: &str) -> Arg {
        let (w, deprecated) = match w.split_once('!') {
            Some((w, v)) => (w, Some(v.to_string())),
            None => (w, None),
        };
        let (w, since) = match w.split_once('^') {
            Some((w, v)) => (w, Some(v.to_string())),
            None => (w, None),
        };
        let (w, spec_index) = match w.split_once('@') {
            Some((w, n)) => (w, n.parse().ok()),
            None => (w, None),
        };
        let mut arg = self.plain_word(w);
        if spec_index.is_some() {
            arg.key_spec_index = spec_index;
        }
        arg.deprecated_since = deprecated;
        arg.since = since;
        arg
    }

    fn plain_word(&mut self, w: &str) -> Arg {
        const TYPES: &[&str] = &["key", "integer", "double", "pattern", "unix-time", "string"];
        let (name, explicit) = match w.rsplit_once(':') {
            Some((n, t)) if TYPES.contains(&t) => (n, Some(t)),
            _ => (w, None),
        };
        if name.bytes().any(|c| c.is_ascii_uppercase()) {
            let mut a = Arg::new(name.to_ascii_lowercase(), "pure-token");
            a.token = Some(name.to_string());
            return a;
        }
        let kind = match explicit {
            Some("key") => "key",
            Some("integer") => "integer",
            Some("double") => "double",
            Some("pattern") => "pattern",
            Some("unix-time") => "unix-time",
            Some(_) => "string",
            None => infer_type(name),
        };
        let mut a = Arg::new(name, kind);
        if kind == "key" {
            a.key_spec_index = Some(self.key_index);
            self.key_index += 1;
        }
        a
    }
}

fn infer_type(name: &str) -> &'static str {
    match name {
        "key" | "newkey" | "source" | "destination" | "key1" | "key2" => "key",
        "pattern" => "pattern",
        "unix-time-seconds" | "unix-time-milliseconds" => "unix-time",
        "increment" | "decrement" | "count" | "seconds" | "milliseconds" | "offset" | "start"
        | "end" | "index" | "index1" | "index2" | "db" | "destination-db" | "client-id"
        | "cursor" | "protover" | "len" | "min-match-len" | "timeout" => "integer",
        _ => "string",
    }
}

/// Folds the alternatives of a bracket into one argument.
fn group(mut alts: Vec<Vec<Arg>>, name: Option<String>) -> Option<Arg> {
    if alts.len() > 1 {
        let items: Vec<Arg> = alts.into_iter().filter_map(|s| fold_seq(s, None)).collect();
        let name = name.unwrap_or_else(|| {
            items
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join("_")
        });
        let mut a = Arg::new(name, "oneof");
        a.args = items;
        return Some(a);
    }
    fold_seq(alts.pop()?, name)
}

/// A sequence inside a group: one argument, a token with its value, or a block.
fn fold_seq(mut seq: Vec<Arg>, name: Option<String>) -> Option<Arg> {
    match seq.len() {
        0 => None,
        1 => {
            let mut a = seq.pop()?;
            if let Some(n) = name {
                a.name = n;
            }
            Some(a)
        }
        2 if seq[0].kind == "pure-token"
            && seq[1].kind != "pure-token"
            && !seq[0].multiple
            && !seq[1].multiple =>
        {
            let value = seq.pop()?;
            let token = seq.pop()?;
            let mut a = value;
            a.token = token.token;
            if let Some(n) = name {
                a.name = n;
            }
            Some(a)
        }
        _ => {
            let token = (seq[0].kind == "pure-token" && !seq[0].multiple)
                .then(|| seq.remove(0))
                .and_then(|t| t.token);
            let name = name.unwrap_or_else(|| {
                token
                    .as_deref()
                    .map(str::to_ascii_lowercase)
                    .unwrap_or_else(|| {
                        seq.iter()
                            .map(|a| a.name.as_str())
                            .collect::<Vec<_>>()
                            .join("_")
                    })
            });
            let mut a = Arg::new(name, "block");
            a.token = token;
            a.args = seq;
            Some(a)
        }
    }
}

/// A `<...>` group: always a block, even around a single argument.
fn block(mut alts: Vec<Vec<Arg>>, name: Option<String>) -> Option<Arg> {
    if alts.len() != 1 {
        return group(alts, name);
    }
    let seq = alts.pop()?;
    let name = name.unwrap_or_else(|| {
        seq.iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join("_")
    });
    let mut a = Arg::new(name, "block");
    a.args = seq;
    Some(a)
}

/// Parses a syntax line and sets each key argument's `key_spec_index` to the key spec that
/// finds it: top-level keys at fixed positions map by position (so both keys of LCS map to
/// its one range spec), others in order.
pub fn parse_syntax_for(line: &str, specs: &[KeySpec]) -> Result<Vec<Arg>, SyntaxError> {
    let mut args = parse_syntax(line)?;
    let last_spec = specs.len().saturating_sub(1);
    let mut fixed = true;
    for (i, a) in args.iter_mut().enumerate() {
        let pos = i + 1;
        if a.optional || a.multiple || !a.args.is_empty() {
            fixed = false;
        }
        if a.kind == "key" {
            let by_pos = fixed.then(|| {
                specs.iter().position(|k| {
                    pos >= k.begin && (k.lastkey < 0 || pos <= k.begin + k.lastkey as usize)
                })
            });
            if let Some(Some(idx)) = by_pos {
                a.key_spec_index = Some(idx);
            } else if let Some(idx) = a.key_spec_index {
                a.key_spec_index = Some(idx.min(last_spec));
            }
        }
    }
    Ok(args)
}

/// Parses a syntax line into its top-level arguments.
pub fn parse_syntax(line: &str) -> Result<Vec<Arg>, SyntaxError> {
    let mut p = Parser {
        toks: tokenize(line),
        pos: 0,
        line,
        key_index: 0,
    };
    let args = p.seq()?;
    if p.pos != p.toks.len() {
        return Err(p.err("trailing tokens"));
    }
    Ok(args)
}

fn index_search(begin: usize) -> Frame {
    Frame::Map(vec![
        (bulk("type"), bulk("index")),
        (
            bulk("spec"),
            Frame::Map(vec![(bulk("index"), Frame::Integer(begin as i64))]),
        ),
    ])
}

fn key_spec_frame(k: &KeySpec) -> Frame {
    let mut m = Vec::new();
    if !k.notes.is_empty() {
        m.push(Frame::bulk_from_slice(b"notes"));
        m.push(bulk(k.notes));
    }
    m.push(bulk("flags"));
    m.push(Frame::Set(
        k.flags.iter().map(|f| Frame::simple(f)).collect(),
    ));
    m.push(bulk("begin_search"));
    let (search, find) = match k.find {
        FindKeys::Unknown => (
            Frame::Map(vec![
                (bulk("type"), bulk("unknown")),
                (bulk("spec"), Frame::Map(vec![])),
            ]),
            Frame::Map(vec![
                (bulk("type"), bulk("unknown")),
                (bulk("spec"), Frame::Map(vec![])),
            ]),
        ),
        FindKeys::Range => (
            index_search(k.begin),
            Frame::Map(vec![
                (bulk("type"), bulk("range")),
                (
                    bulk("spec"),
                    Frame::Map(vec![
                        (bulk("lastkey"), Frame::Integer(i64::from(k.lastkey))),
                        (bulk("keystep"), Frame::Integer(k.step as i64)),
                        (bulk("limit"), Frame::Integer(0)),
                    ]),
                ),
            ]),
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
        } => (
            index_search(k.begin),
            Frame::Map(vec![
                (bulk("type"), bulk("keynum")),
                (
                    bulk("spec"),
                    Frame::Map(vec![
                        (bulk("keynumidx"), Frame::Integer(keynumidx as i64)),
                        (bulk("firstkey"), Frame::Integer(firstkey as i64)),
                        (bulk("keystep"), Frame::Integer(k.step as i64)),
                    ]),
                ),
            ]),
        ),
    };
    m.push(search);
    m.push(bulk("find_keys"));
    m.push(find);
    let pairs = m
        .chunks(2)
        .filter_map(|c| match c {
            [a, b] => Some((a.clone(), b.clone())),
            _ => None,
        })
        .collect();
    Frame::Map(pairs)
}

/// The `COMMAND INFO` entry of table entry `idx`.
pub fn command_info(table: &CommandTable, idx: usize) -> Frame {
    let e = table.entry(idx);
    let spec = e.spec;
    let (first, last, step) = spec.legacy_range();
    let flags = crate::command::Flags::ALL
        .iter()
        .filter(|(f, _)| spec.flags.has(*f))
        .map(|(_, n)| Frame::simple(n))
        .collect();
    let acl = crate::command::Acl::ALL
        .iter()
        .filter(|(a, _)| spec.acl.has(*a))
        .map(|(_, n)| Frame::Simple(format!("@{n}").into()))
        .collect();
    let subs = table
        .subcommands(idx)
        .map(|(i, _)| command_info(table, i))
        .collect();
    Frame::Array(vec![
        bulk(&e.full_name),
        Frame::Integer(i64::from(spec.arity)),
        Frame::Set(flags),
        Frame::Integer(first),
        Frame::Integer(last),
        Frame::Integer(step),
        Frame::Set(acl),
        Frame::Set(spec.tips.iter().map(|t| bulk(t)).collect()),
        Frame::Set(spec.keys.iter().map(key_spec_frame).collect()),
        Frame::Set(subs),
    ])
}

/// The `COMMAND DOCS` map of table entry `idx` (its value, without the name).
pub fn command_docs(table: &CommandTable, idx: usize) -> Frame {
    let e = table.entry(idx);
    let spec = e.spec;
    let mut m = vec![
        (bulk("summary"), bulk(spec.summary)),
        (bulk("since"), bulk(spec.since)),
        (bulk("group"), bulk(spec.group.name())),
        (bulk("complexity"), bulk(spec.complexity)),
    ];
    if let Some((since, by)) = spec.deprecated {
        m.push((
            bulk("doc_flags"),
            Frame::Set(vec![Frame::simple("deprecated")]),
        ));
        m.push((bulk("deprecated_since"), bulk(since)));
        m.push((bulk("replaced_by"), bulk(by)));
    }
    if !spec.history.is_empty() {
        let h = spec
            .history
            .iter()
            .map(|(v, what)| Frame::Array(vec![bulk(v), bulk(what)]))
            .collect();
        m.push((bulk("history"), Frame::Set(h)));
    }
    if !spec.syntax.is_empty() {
        // Syntax lines are checked by a unit test; a bad one documents no arguments.
        if let Ok(args) = parse_syntax_for(spec.syntax, spec.keys) {
            m.push((
                bulk("arguments"),
                Frame::Array(args.iter().map(Arg::to_frame).collect()),
            ));
        }
    }
    if spec.is_container() {
        let subs = table
            .subcommands(idx)
            .map(|(i, se)| (bulk(&se.full_name), command_docs(table, i)))
            .collect();
        m.push((bulk("subcommands"), Frame::Map(subs)));
    }
    Frame::Map(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn set_syntax_matches_redis_shape() {
        let args = parse_syntax(
            "key value [NX | XX]{condition} [GET] [EX seconds | PX milliseconds | \
             EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]{expiration}",
        )
        .unwrap();
        assert_eq!(args.len(), 5);
        assert_eq!(args[0].kind, "key");
        assert_eq!(args[0].key_spec_index, Some(0));
        assert_eq!(args[2].name, "condition");
        assert_eq!(args[2].kind, "oneof");
        assert!(args[2].optional);
        assert_eq!(args[2].args[0].token.as_deref(), Some("NX"));
        assert_eq!(args[3].kind, "pure-token");
        let exp = &args[4];
        assert_eq!(exp.args[0].name, "seconds");
        assert_eq!(exp.args[0].kind, "integer");
        assert_eq!(exp.args[0].token.as_deref(), Some("EX"));
        assert_eq!(exp.args[2].kind, "unix-time");
        assert_eq!(exp.args[4].kind, "pure-token");
    }

    #[test]
    fn blocks_multiples_and_default_names() {
        let args = parse_syntax("key [key ...]").unwrap();
        assert!(args[1].multiple && args[1].optional);
        assert!(
            parse_syntax("ON | OFF").is_err(),
            "alternatives need a group"
        );
        let args = parse_syntax("(ON | OFF | SKIP)").unwrap();
        assert_eq!(args[0].name, "on_off_skip");
        let args = parse_syntax("[ID client-id ...]").unwrap();
        assert_eq!(
            args[0].kind, "block",
            "a token before a repeated value is a block"
        );
        assert_eq!(args[0].token.as_deref(), Some("ID"));
        assert!(args[0].args[0].multiple && args[0].optional);
        let args = parse_syntax("<parameter>{parameter} ...").unwrap();
        assert_eq!(args[0].kind, "block");
        assert!(args[0].multiple);
        let args = parse_syntax("[LIMIT offset count]").unwrap();
        assert_eq!(args[0].kind, "block");
        assert_eq!(args[0].token.as_deref(), Some("LIMIT"));
        assert!(parse_syntax("[a").is_err());
    }
}
