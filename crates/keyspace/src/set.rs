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
