//! Client-facing command errors, with texts byte-identical to Redis 7.0's replies.
//!
//! Every text a client can see lives here (as a variant or a constant) so that wording is
//! checked in one place and differential tests can pin it.

use std::borrow::Cow;

use ferrodis_keyspace::KeyspaceError;
use ferrodis_resp::Frame;

/// An error reply. `Display` is the full reply text including the Redis prefix (`ERR`,
/// `WRONGTYPE`, ...), without the leading `-`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Arity mismatch; holds the command's full lowercase name (`get`, `config|get`).
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(String),
    /// Generic `ERR syntax error`.
    #[error("ERR syntax error")]
    Syntax,
    /// The key holds another type.
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    /// An argument is not a 64-bit integer, or the value at the key is not one.
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    /// An argument or value is not a valid float.
    #[error("ERR value is not a valid float")]
    NotFloat,
    /// The db index is out of range (SELECT, MOVE, SWAPDB, COPY DB).
    #[error("ERR DB index is out of range")]
    DbOutOfRange,
    /// Source and destination are the same (MOVE, COPY).
    #[error("ERR source and destination objects are the same")]
    SameObject,
    /// RENAME of a missing key.
    #[error("ERR no such key")]
    NoSuchKey,
    /// INCR family overflow.
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    /// Invalid expire time for SET/SETEX/PSETEX/GETEX; holds the command name.
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(String),
    /// A string would exceed `proto-max-bulk-len`.
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    /// Any other error: the full text with its prefix.
    #[error("{0}")]
    Other(Cow<'static, str>),
    /// An error text that echoes client bytes verbatim (they need not be UTF-8), with prefix.
    #[error("{}", String::from_utf8_lossy(.0))]
    Raw(bytes::Bytes),
}

impl CommandError {
    /// An error with a fixed text (which must carry its prefix, e.g. `ERR ...`).
    pub fn msg(text: &'static str) -> CommandError {
        CommandError::Other(Cow::Borrowed(text))
    }

    /// An error with a formatted text (which must carry its prefix).
    pub fn owned(text: String) -> CommandError {
        CommandError::Other(Cow::Owned(text))
    }

    /// The reply frame for this error.
    pub fn to_frame(&self) -> Frame {
        match self {
            CommandError::Raw(b) => Frame::Error(b.clone()),
            other => Frame::Error(other.to_string().into()),
        }
    }
}

impl From<KeyspaceError> for CommandError {
    fn from(e: KeyspaceError) -> CommandError {
        match e {
            KeyspaceError::DbOutOfRange => CommandError::DbOutOfRange,
            other => CommandError::owned(other.to_string()),
        }
    }
}

/// What a command handler returns: the reply, or an error reply.
pub type Reply = Result<Frame, CommandError>;

/// Error texts used in more than one place.
pub mod msg {
    /// A count that must be positive (LPOP/SPOP/ZPOPMIN count, LPOS ...).
    pub const MUST_BE_POSITIVE: &str = "ERR value is out of range, must be positive";
    /// A count beyond what Redis accepts (HRANDFIELD/ZRANDMEMBER with huge negative counts).
    pub const VALUE_OUT_OF_RANGE: &str = "ERR value is out of range";
    /// A random-member count of `i64::MIN` (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER).
    pub const I64_COUNT_RANGE: &str =
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
    /// A `numkeys` argument below 1 (LMPOP, ZMPOP, SINTERCARD, ZINTERCARD ...).
    pub const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
    /// A `COUNT` option below 1 (LMPOP, ZMPOP).
    pub const COUNT_POSITIVE: &str = "ERR count should be greater than 0";
    /// A negative `LIMIT` (SINTERCARD, ZINTERCARD).
    pub const LIMIT_NEGATIVE: &str = "ERR LIMIT can't be negative";
    /// Unknown client in CLIENT KILL.
    pub const NO_SUCH_CLIENT: &str = "ERR No such client";
    /// Invalid client name (CLIENT SETNAME, HELLO SETNAME).
    pub const BAD_CLIENT_NAME: &str =
        "ERR Client names cannot contain spaces, newlines or special characters.";
    /// A `denyoom` command refused while memory is over `maxmemory` and nothing can be evicted
    /// (Redis `shared.oomerr`).
    pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
    /// The LFU-only error of OBJECT FREQ.
    pub const FREQ_NOT_TRACKED: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    /// The LRU-only error of OBJECT IDLETIME.
    pub const IDLE_NOT_TRACKED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    /// Too many clients connected.
    pub const MAX_CLIENTS: &str = "ERR max number of clients reached";
    /// Invalid SCAN cursor.
    pub const INVALID_CURSOR: &str = "ERR invalid cursor";
    /// SETRANGE with a negative offset.
    pub const OFFSET_OUT_OF_RANGE: &str = "ERR offset is out of range";
    /// Increment producing NaN/Infinity (INCRBYFLOAT).
    pub const NAN_OR_INF: &str = "ERR increment would produce NaN or Infinity";
    /// DECRBY with i64::MIN.
    pub const DECREMENT_OVERFLOW: &str = "ERR decrement would overflow";
}
