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

// Cross-family API (used by SORT, COPY and other families); keep these signatures.
impl List {
    /// An empty list.
    pub fn new() -> List {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every element, head to tail.
    pub fn for_each(&self, _f: impl FnMut(&[u8])) {}

    /// Appends `v` at the tail, with nodes filled as `limits` says.
    pub fn push_back(&mut self, _v: &[u8], _limits: &crate::EncodingLimits) {}
}
