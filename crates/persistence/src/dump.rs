//! DUMP/RESTORE payloads (placeholder).
