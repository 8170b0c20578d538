//! Placeholder for the Hash type (being written).

/// A hash value.
#[derive(Clone, Debug, Default)]
pub struct Hash {}

impl Hash {
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
