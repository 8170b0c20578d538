//! Placeholder for the ZSet type (being written).

/// A zset value.
#[derive(Clone, Debug, Default)]
pub struct ZSet {}

impl ZSet {
    /// The `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Approximate bytes used.
    pub fn mem_bytes(&self) -> usize {
        0
    }

    /// Redis' `lazyfreeGetFreeEffort`.
    pub fn free_effort(&self) -> usize {
        1
    }
}

// Cross-family API (used by SORT and other families); keep these signatures.
impl ZSet {
    /// Number of members.
    pub fn len(&self) -> usize {
        0
    }

    /// Whether the sorted set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every member and score in rank order (score, then member bytes).
    pub fn for_each(&self, _f: impl FnMut(&[u8], f64)) {}
}
