//! The types the command table is declared with.

use crate::command::Ctx;
use crate::error::Reply;

/// A command handler: parses its arguments from the context and runs.
pub type Handler = fn(&mut Ctx<'_, '_>) -> Reply;

/// Command flags (Redis `CMD_*`), as a bit set. Names as `COMMAND INFO` prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Flags(pub u32);

macro_rules! flags {
    ($($name:ident = $bit:expr, $text:literal;)*) => {
        impl Flags {
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $name: Flags = Flags(1 << $bit);
            )*
            /// Every flag with its `COMMAND INFO` name, in Redis' order.
            pub const ALL: &'static [(Flags, &'static str)] = &[$((Flags::$name, $text)),*];
        }
    };
}

flags! {
    WRITE = 0, "write";
    READONLY = 1, "readonly";
    DENYOOM = 2, "denyoom";
    ADMIN = 4, "admin";
    PUBSUB = 5, "pubsub";
    NOSCRIPT = 6, "noscript";
    BLOCKING = 8, "blocking";
    LOADING = 9, "loading";
    STALE = 10, "stale";
    SKIP_MONITOR = 11, "skip_monitor";
    SKIP_SLOWLOG = 12, "skip_slowlog";
    ASKING = 13, "asking";
    FAST = 14, "fast";
    NO_AUTH = 15, "no_auth";
    MAY_REPLICATE = 16, "may_replicate";
    NO_MANDATORY_KEYS = 19, "no_mandatory_keys";
    NO_ASYNC_LOADING = 23, "no_async_loading";
    NO_MULTI = 24, "no_multi";
    MOVABLEKEYS = 25, "movablekeys";
    ALLOW_BUSY = 26, "allow_busy";
}

impl Flags {
    /// No flags.
    pub const NONE: Flags = Flags(0);

    /// Whether every flag of `other` is set.
    pub const fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union (usable in `const` tables).
    pub const fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, o: Flags) -> Flags {
        Flags(self.0 | o.0)
    }
}

/// ACL categories (Redis `ACL_CATEGORY_*`), as a bit set. Names without the `@`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Acl(pub u32);

macro_rules! acl {
    ($($name:ident = $bit:expr, $text:literal;)*) => {
        impl Acl {
            $(
                #[doc = concat!("`@", $text, "`")]
                pub const $name: Acl = Acl(1 << $bit);
            )*
            /// Every category with its name, in Redis' order.
            pub const ALL: &'static [(Acl, &'static str)] = &[$((Acl::$name, $text)),*];
        }
    };
}

acl! {
    KEYSPACE = 0, "keyspace";
    READ = 1, "read";
    WRITE = 2, "write";
    SET = 3, "set";
    SORTEDSET = 4, "sortedset";
    LIST = 5, "list";
    HASH = 6, "hash";
    STRING = 7, "string";
    BITMAP = 8, "bitmap";
    HYPERLOGLOG = 9, "hyperloglog";
    GEO = 10, "geo";
    STREAM = 11, "stream";
    PUBSUB = 12, "pubsub";
    ADMIN = 13, "admin";
    FAST = 14, "fast";
    SLOW = 15, "slow";
    BLOCKING = 16, "blocking";
    DANGEROUS = 17, "dangerous";
    CONNECTION = 18, "connection";
    TRANSACTION = 19, "transaction";
    SCRIPTING = 20, "scripting";
}

impl Acl {
    /// No category.
    pub const NONE: Acl = Acl(0);

    /// Whether every category of `other` is set.
    pub const fn has(self, other: Acl) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union (usable in `const` tables).
    pub const fn with(self, other: Acl) -> Acl {
        Acl(self.0 | other.0)
    }
}

impl std::ops::BitOr for Acl {
    type Output = Acl;
    fn bitor(self, o: Acl) -> Acl {
        Acl(self.0 | o.0)
    }
}

/// Where a command's keys are in its arguments: a Redis 7 key specification with an `index`
/// begin-search and a `range`, `keynum` or `unknown` find-keys step. Indexes count the command
/// name as 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Key-spec flags as `COMMAND INFO` prints them (`RW`, `access`, ...).
    pub flags: &'static [&'static str],
    /// Index of the first key (range), or where the search starts (keynum).
    pub begin: usize,
    /// How the keys are found from `begin`.
    pub find: FindKeys,
    /// Last key relative to `begin` when ≥ 0; when negative, counted from the end of the
    /// arguments (-1 = the last argument). Range specs only.
    pub lastkey: i32,
    /// Distance between keys.
    pub step: usize,
    /// Optional note shown by `COMMAND INFO`.
    pub notes: &'static str,
}

/// The find-keys step of a [`KeySpec`] (Redis `KSPEC_FK_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from `begin` to `lastkey` every `step` (`KSPEC_FK_RANGE`).
    Range,
    /// The argument at `begin + keynumidx` is the number of keys, which start at
    /// `begin + firstkey`, every `step` (`KSPEC_FK_KEYNUM`, e.g. `ZUNIONSTORE dst numkeys k ...`).
    Keynum {
        /// Offset of the key count from `begin`.
        keynumidx: usize,
        /// Offset of the first key from `begin`.
        firstkey: usize,
    },
    /// Keys the spec cannot locate (`KSPEC_BS_UNKNOWN`/`KSPEC_FK_UNKNOWN`, e.g. SORT's STORE);
    /// the command has a [`CommandSpec::getkeys`] function instead.
    Unknown,
}

impl KeySpec {
    /// One key at `begin`.
    pub const fn one(begin: usize, flags: &'static [&'static str]) -> KeySpec {
        KeySpec::range(begin, 0, 1, flags)
    }

    /// Keys from `begin` to `lastkey` (see [`KeySpec::lastkey`]) every `step` arguments.
    pub const fn range(
        begin: usize,
        lastkey: i32,
        step: usize,
        flags: &'static [&'static str],
    ) -> KeySpec {
        KeySpec {
            flags,
            begin,
            find: FindKeys::Range,
            lastkey,
            step,
            notes: "",
        }
    }

    /// A key count at `begin + keynumidx`, keys from `begin + firstkey` every `step`.
    pub const fn keynum(
        begin: usize,
        keynumidx: usize,
        firstkey: usize,
        step: usize,
        flags: &'static [&'static str],
    ) -> KeySpec {
        KeySpec {
            flags,
            begin,
            find: FindKeys::Keynum {
                keynumidx,
                firstkey,
            },
            lastkey: 0,
            step,
            notes: "",
        }
    }

    /// A spec whose keys only the command's `getkeys` function finds (flags should include
    /// `INCOMPLETE`).
    pub const fn unknown(flags: &'static [&'static str]) -> KeySpec {
        KeySpec {
            flags,
            begin: 0,
            find: FindKeys::Unknown,
            lastkey: 0,
            step: 0,
            notes: "",
        }
    }

    /// The same spec with a note.
    pub const fn note(self, notes: &'static str) -> KeySpec {
        KeySpec { notes, ..self }
    }

    /// Argument indexes of the keys this spec finds in `args` (the command name included). A
    /// key count that is not a non-negative integer finds no keys (the handler then answers
    /// with its error).
    pub fn positions<B: AsRef<[u8]>>(&self, args: &[B]) -> impl Iterator<Item = usize> {
        let argc = args.len();
        let (first, last, step) = match self.find {
            FindKeys::Range => {
                let last = if self.lastkey >= 0 {
                    self.begin + self.lastkey as usize
                } else {
                    (argc as i64 + i64::from(self.lastkey)).max(0) as usize
                };
                (
                    self.begin,
                    last.min(argc.saturating_sub(1)),
                    self.step.max(1),
                )
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
            } => {
                let n = args
                    .get(self.begin + keynumidx)
                    .and_then(|a| std::str::from_utf8(a.as_ref()).ok())
                    .and_then(|t| t.parse::<usize>().ok())
                    .unwrap_or(0);
                let first = self.begin + firstkey;
                let step = self.step.max(1);
                match n {
                    0 => (1, 0, 1),
                    n => (
                        first,
                        first.saturating_add((n - 1).saturating_mul(step)),
                        step,
                    ),
                }
            }
            FindKeys::Unknown => (1, 0, 1),
        };
        let last = last.min(argc.saturating_sub(1));
        (first..=last).step_by(step).filter(move |&i| i < argc)
    }
}

/// A command's own key extraction (Redis `getkeys_proc`), for commands whose keys the key specs
/// cannot describe (SORT's STORE anywhere in the arguments, its BY/GET patterns).
pub type GetKeys = fn(args: &[bytes::Bytes]) -> KeyPositions;

/// The keys of one command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPositions {
    /// Argument indexes of the named keys (what `COMMAND GETKEYS` shows).
    pub keys: Vec<usize>,
    /// The command also reads keys it cannot name before running (SORT BY/GET patterns), so it
    /// runs with every shard locked.
    pub unnamed: bool,
}

/// The group a command is documented under (`COMMAND DOCS` `group`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Keyspace commands.
    Generic,
    /// Strings.
    String,
    /// Connection management.
    Connection,
    /// Server management.
    Server,
    /// Lists.
    List,
    /// Hashes.
    Hash,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Bitmaps (bit operations on strings).
    Bitmap,
    /// HyperLogLog sketches (approximate distinct counting in strings).
    Hyperloglog,
    /// Transactions (MULTI/EXEC/WATCH).
    Transactions,
    /// Pub/Sub (SUBSCRIBE/PUBLISH/PUBSUB).
    Pubsub,
}

impl Group {
    /// The name `COMMAND DOCS` prints.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::List => "list",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Bitmap => "bitmap",
            Group::Hyperloglog => "hyperloglog",
            Group::Transactions => "transactions",
            Group::Pubsub => "pubsub",
        }
    }
}

/// One command (or subcommand) of the table.
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    /// Lowercase name (`get`; for a subcommand the part after `|`, e.g. `get` of `config|get`).
    pub name: &'static str,
    /// Redis arity: exact argument count including the name when positive, minimum when negative.
    pub arity: i32,
    /// Flags.
    pub flags: Flags,
    /// ACL categories, declared explicitly (a unit test checks them against the flags).
    pub acl: Acl,
    /// Key specifications; they drive locking, `COMMAND GETKEYS` and `COMMAND INFO`.
    pub keys: &'static [KeySpec],
    /// Documentation group.
    pub group: Group,
    /// The Redis version that introduced the command.
    pub since: &'static str,
    /// Time complexity.
    pub complexity: &'static str,
    /// One-line summary, in our words.
    pub summary: &'static str,
    /// Argument syntax after the name, e.g. `key [NX | XX]`; parsed into `COMMAND DOCS`
    /// arguments (see `docs.rs` for the grammar).
    pub syntax: &'static str,
    /// Command tips (`nondeterministic_output`, `request_policy:...`).
    pub tips: &'static [&'static str],
    /// The handler; `None` for container commands that only have subcommands.
    pub handler: Option<Handler>,
    /// Subcommands (`CONFIG GET`, ...), empty for plain commands.
    pub subcommands: &'static [CommandSpec],
    /// Needs every shard locked (atomic key-less writes such as FLUSHALL and SWAPDB).
    pub all_shards: bool,
    /// Behaviour changes by version, `(version, what changed)`, in our words.
    pub history: &'static [(&'static str, &'static str)],
    /// `(deprecated since, replaced by)` for deprecated commands.
    pub deprecated: Option<(&'static str, &'static str)>,
    /// Key extraction beyond the key specs (see [`GetKeys`]).
    pub getkeys: Option<GetKeys>,
}

impl CommandSpec {
    /// A spec with every optional field empty; tables fill in the rest with struct update syntax.
    pub const BASE: CommandSpec = CommandSpec {
        name: "",
        arity: 0,
        flags: Flags::NONE,
        acl: Acl::NONE,
        keys: &[],
        group: Group::Generic,
        since: "",
        complexity: "",
        summary: "",
        syntax: "",
        tips: &[],
        handler: None,
        subcommands: &[],
        all_shards: false,
        history: &[],
        deprecated: None,
        getkeys: None,
    };

    /// Legacy `(first, last, step)` key positions for `COMMAND INFO`.
    pub fn legacy_range(&self) -> (i64, i64, i64) {
        let Some(first) = self.keys.iter().find(|k| k.find == FindKeys::Range) else {
            return (0, 0, 0);
        };
        let mut last: i64 = 0;
        for k in self.keys.iter().filter(|k| k.find == FindKeys::Range) {
            let l = if k.lastkey < 0 {
                i64::from(k.lastkey)
            } else {
                (k.begin as i64) + i64::from(k.lastkey)
            };
            if l < 0 || last < 0 {
                last = last.min(l);
            } else {
                last = last.max(l);
            }
        }
        (first.begin as i64, last, first.step as i64)
    }

    /// The keys of `args` (the command name included), from the command's `getkeys` function
    /// or its key specs; `not_key` specs (SSUBSCRIBE's shard channels) name no keys, as in
    /// Redis' `getKeysFromCommand`.
    pub fn key_positions(&self, args: &[bytes::Bytes]) -> KeyPositions {
        if let Some(f) = self.getkeys {
            return f(args);
        }
        KeyPositions {
            keys: self
                .keys
                .iter()
                .filter(|k| !k.flags.contains(&"not_key"))
                .flat_map(|k| k.positions(args))
                .collect(),
            unnamed: false,
        }
    }

    /// The key spec that describes the key at argument `pos` (the first whose positions include
    /// it, else the last one; for `COMMAND GETKEYSANDFLAGS`).
    pub fn spec_for_position(&self, args: &[bytes::Bytes], pos: usize) -> Option<&KeySpec> {
        self.keys
            .iter()
            .find(|k| k.positions(args).any(|p| p == pos))
            .or(self.keys.last())
    }

    /// Whether this is a container of subcommands.
    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    /// Whether `argc` arguments satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        (arity >= 0 && argc == arity) || (arity < 0 && argc >= -arity)
    }
}

impl CommandSpec {
    /// Starts a declaration: name, arity, flags, ACL categories, group, since, complexity,
    /// summary, syntax and handler. Use the chained `const fn`s for the rest.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: Flags,
        acl: Acl,
        group: Group,
        since: &'static str,
        complexity: &'static str,
        summary: &'static str,
        syntax: &'static str,
        handler: Option<Handler>,
    ) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            flags,
            acl,
            group,
            since,
            complexity,
            summary,
            syntax,
            handler,
            ..CommandSpec::BASE
        }
    }

    /// With key specifications.
    pub const fn keys(self, keys: &'static [KeySpec]) -> CommandSpec {
        CommandSpec { keys, ..self }
    }

    /// With command tips.
    pub const fn tips(self, tips: &'static [&'static str]) -> CommandSpec {
        CommandSpec { tips, ..self }
    }

    /// With subcommands.
    pub const fn subs(self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        CommandSpec {
            subcommands,
            ..self
        }
    }

    /// With version history.
    pub const fn history(self, history: &'static [(&'static str, &'static str)]) -> CommandSpec {
        CommandSpec { history, ..self }
    }

    /// Marks the command deprecated since `since`, replaced by `by`.
    pub const fn deprecated(self, since: &'static str, by: &'static str) -> CommandSpec {
        CommandSpec {
            deprecated: Some((since, by)),
            ..self
        }
    }

    /// With a key extraction function (see [`GetKeys`]).
    pub const fn getkeys(self, getkeys: GetKeys) -> CommandSpec {
        CommandSpec {
            getkeys: Some(getkeys),
            ..self
        }
    }

    /// Runs with every shard locked.
    pub const fn all_shards(self) -> CommandSpec {
        CommandSpec {
            all_shards: true,
            ..self
        }
    }
}
