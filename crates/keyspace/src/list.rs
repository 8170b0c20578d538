//! Placeholder for the List type (being written).

/// A list value.
#[derive(Clone, Debug, Default)]
pub struct List {}

impl List {
    /// The `OBJECT ENCODING` name.
    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
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
