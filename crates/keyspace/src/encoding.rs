//! [`EncodingLimits`]: when small aggregates switch from their compact encoding to the indexed
//! one, from the `*-max-listpack-*` / `set-max-intset-entries` config directives.

/// The encoding thresholds of Redis 7.0's config (`redis.conf`, "ADVANCED CONFIG"). Handlers read
/// them once per command from the server's current config, so CONFIG SET applies to the next
/// write (existing values are converted when next written, as in Redis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `list-max-listpack-size`: positive = maximum entries per quicklist node; -1..-5 = maximum
    /// node size of 4, 8, 16, 32 or 64 KiB.
    pub list_max_listpack_size: i64,
    /// `list-compress-depth`: nodes at each end of a list left uncompressed (0 = none compressed).
    pub list_compress_depth: i64,
    /// `hash-max-listpack-entries`: most fields a listpack-encoded hash holds.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`: longest field or value (bytes) of a listpack-encoded hash.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`: most members an intset-encoded set holds.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`: most members a listpack-encoded sorted set holds.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`: longest member (bytes) of a listpack-encoded sorted set.
    pub zset_max_listpack_value: usize,
}

impl Default for EncodingLimits {
    /// Redis 7.0's defaults.
    fn default() -> Self {
        EncodingLimits {
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}
