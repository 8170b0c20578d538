//! Placeholder for the Set type (being written).

/// A set value.
#[derive(Clone, Debug, Default)]
pub struct Set {}

impl Set {
    /// The `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        "intset"
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

// Cross-family API (used by SORT, ZUNIONSTORE & co. and other families); keep these signatures.
impl Set {
    /// Number of members.
    pub fn len(&self) -> usize {
        0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, _member: &[u8]) -> bool {
        false
    }

    /// Calls `f` with every member (intset: ascending; hashtable: table order).
    pub fn for_each(&self, _f: impl FnMut(&[u8])) {}
}
