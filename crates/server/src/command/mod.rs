//! The command table and the machinery around it.
//!
//! Layout:
//! - [`spec`]: the declaration types ([`CommandSpec`], flags, ACL categories, key specs).
//! - [`table`]: the table itself: every command, declared once.
//! - [`docs`]: `COMMAND INFO` / `COMMAND DOCS` replies generated from the table.
//! - [`args`]: argument cursor and typed parsing with Redis' error replies.
//! - [`dispatch`]: the one central check every command goes through (lookup → arity → locking
//!   → handler), so handlers never re-check flags or arity.

pub mod args;
pub mod dispatch;
pub mod docs;
pub mod spec;
pub mod strtod;
pub mod table;

use bytes::Bytes;

/// Command names are looked up once per command: a fast hash matters more than DoS resistance
/// here (the key set is fixed).
type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;
use ferrodis_keyspace::Guard;

pub use args::ArgCursor;
pub use spec::{Acl, CommandSpec, FindKeys, Flags, GetKeys, Group, Handler, KeyPositions, KeySpec};

use crate::client::Client;
use crate::server::Server;

/// What a handler runs with: the server, the calling client, its arguments and the keyspace
/// guard holding the locks the command's key specification asked for.
pub struct Ctx<'s, 'g> {
    /// The server.
    pub server: &'s Server,
    /// The calling connection's state.
    pub client: &'s mut Client,
    /// All arguments, the command name (and subcommand name) included.
    pub args: &'s [Bytes],
    /// Keyspace access under the command's locks.
    pub ks: &'s mut Guard<'g>,
    /// Changes this command made to the data (Redis `server.dirty`): every keyspace event
    /// counts one (commands publish one exactly when they change something), and commands
    /// without events (FLUSHALL, SWAPDB ...) add their own.
    pub dirty: u64,
    /// What goes to the AOF (and later replicas) when the command changed something.
    pub propagate: Propagate,
}

/// What a write command propagates (Redis `alsoPropagate` / `rewriteClientCommandVector`).
#[derive(Debug, Default)]
pub enum Propagate {
    /// The command as the client sent it.
    #[default]
    Verbatim,
    /// These commands instead, in order, each run in the client's db (commands that depend
    /// on the time or on chance are logged as their deterministic effect: `SET ... PXAT`,
    /// `PEXPIREAT`, `SREM` for SPOP ...).
    Commands(Vec<Vec<Bytes>>),
}

impl Ctx<'_, '_> {
    /// Propagates `argv` instead of the command as sent.
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        self.propagate = Propagate::Commands(vec![argv]);
    }

    /// Adds `argv` to what the command propagates, dropping the command as sent (SPOP with a
    /// count logs one SREM per batch).
    pub fn propagate_push(&mut self, argv: Vec<Bytes>) {
        match &mut self.propagate {
            Propagate::Commands(v) => v.push(argv),
            p @ Propagate::Verbatim => *p = Propagate::Commands(vec![argv]),
        }
    }
}

impl Ctx<'_, '_> {
    /// The client's selected db.
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// Argument `i` (0 = the command name). Callers index within the checked arity.
    pub fn arg(&self, i: usize) -> &Bytes {
        &self.args[i]
    }

    /// A cursor positioned at argument `start`.
    pub fn cursor(&self, start: usize) -> ArgCursor<'_> {
        ArgCursor::new(self.args, start)
    }
}

/// An entry of the flattened table: a command or a subcommand, with its full name.
#[derive(Debug)]
pub struct Entry {
    /// Full lowercase name: `get`, or `config|get` for a subcommand.
    pub full_name: String,
    /// The declaration.
    pub spec: &'static CommandSpec,
    /// Index of the parent in [`CommandTable::entries`] for subcommands.
    pub parent: Option<usize>,
}

/// The command table indexed for dispatch.
pub struct CommandTable {
    entries: Vec<Entry>,
    by_name: HashMap<Vec<u8>, usize>,
    sub_by_name: HashMap<usize, HashMap<Vec<u8>, usize>>,
}

impl CommandTable {
    /// Indexes every family of [`table::FAMILIES`].
    pub fn new() -> CommandTable {
        Self::from_families(table::FAMILIES)
    }

    /// Indexes the given top-level commands, family after family.
    pub fn from_families(families: &[&'static [CommandSpec]]) -> CommandTable {
        let mut t = CommandTable {
            entries: Vec::new(),
            by_name: HashMap::default(),
            sub_by_name: HashMap::default(),
        };
        for spec in families.iter().flat_map(|f| f.iter()) {
            let idx = t.entries.len();
            t.entries.push(Entry {
                full_name: spec.name.to_string(),
                spec,
                parent: None,
            });
            t.by_name.insert(spec.name.as_bytes().to_vec(), idx);
            for sub in spec.subcommands {
                let sidx = t.entries.len();
                t.entries.push(Entry {
                    full_name: format!("{}|{}", spec.name, sub.name),
                    spec: sub,
                    parent: Some(idx),
                });
                t.sub_by_name
                    .entry(idx)
                    .or_default()
                    .insert(sub.name.as_bytes().to_vec(), sidx);
            }
        }
        t
    }

    /// Every command and subcommand.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Entry by index.
    pub fn entry(&self, idx: usize) -> &Entry {
        &self.entries[idx]
    }

    /// Top-level commands only.
    pub fn top_level(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.parent.is_none())
    }

    /// Subcommand entries of a container.
    pub fn subcommands(&self, parent: usize) -> impl Iterator<Item = (usize, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.parent == Some(parent))
    }

    /// Looks a top-level command up by name, case-insensitively.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        with_lowercase(name, |n| self.by_name.get(n).copied())
    }

    /// Looks a subcommand of `parent` up, case-insensitively.
    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        let subs = self.sub_by_name.get(&parent)?;
        with_lowercase(name, |n| subs.get(n).copied())
    }

    /// Resolves `args` to a command or subcommand entry (`COMMAND GETKEYS`, `COMMAND INFO a|b`).
    pub fn resolve(&self, args: &[Bytes]) -> Option<usize> {
        let top = self.lookup(args.first()?)?;
        if self.entries[top].spec.is_container() {
            self.lookup_sub(top, args.get(1)?)
        } else {
            Some(top)
        }
    }

    /// Looks up a full name such as `config|get`.
    pub fn lookup_full(&self, full: &[u8]) -> Option<usize> {
        match full.iter().position(|&b| b == b'|') {
            Some(p) => self.lookup_sub(self.lookup(&full[..p])?, &full[p + 1..]),
            None => self.lookup(full),
        }
    }
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `f` with the ASCII-lowercased `name`, on the stack for short names.
fn with_lowercase<R>(name: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let mut buf = [0u8; 32];
    if name.len() <= buf.len() {
        let b = &mut buf[..name.len()];
        b.copy_from_slice(name);
        b.make_ascii_lowercase();
        f(b)
    } else {
        f(&name.to_ascii_lowercase())
    }
}
