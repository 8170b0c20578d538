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
