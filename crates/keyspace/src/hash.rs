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

// Cross-family API (used by SORT and other families); keep these signatures.
impl Hash {
    /// Number of fields.
    pub fn len(&self) -> usize {
        0
    }

    /// Whether the hash is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`, copied.
    pub fn get(&self, _field: &[u8]) -> Option<bytes::Bytes> {
        None
    }
}
