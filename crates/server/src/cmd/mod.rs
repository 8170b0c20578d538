//! Command handlers, one module per command family.

pub mod connection;
pub mod introspect;
pub mod keys;
pub mod server;
pub mod strings;

#[cfg(test)]
mod tests;
