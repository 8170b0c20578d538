//! Test support for Ferrodis' integration and differential tests.
//!
//! The differential harness runs scripts of commands (`tests/scripts/*.txt`, format in
//! `tests/scripts/README.md`) against a fresh reference `redis-server` and a fresh subject
//! (Ferrodis, or a second reference for a self-check) and compares the replies byte for byte,
//! or as a script line's modifier says.
//!
//! # Layout
//!
//! | module      | what it holds                                                            |
//! |-------------|--------------------------------------------------------------------------|
//! | `conn`      | [`Connection`]: blocking raw RESP connection, one reply frame at a time  |
//! | `reference` | [`Reference`]: a `redis-server` process in a temp dir, killed on drop    |
//! | `subject`   | [`start_subject`]: the server under test (Ferrodis in its own runtime)   |
//! | `quote`     | redis-cli style argument quoting for script lines                        |
//! | `script`    | the script format: [`Script`], [`Step`], [`Check`]                       |
//! | `compare`   | reply comparison per [`Check`]                                           |
//! | `render`    | readable rendering of replies for failure messages                       |
//! | `run`       | [`run_script_file`]: runs a script on both servers, reports mismatches   |

/// The in-process subject counts its memory like the `ferrodis-server` binary does (scripts set
/// `maxmemory`; without the counting allocator `used_memory` would be the test process's RSS).
#[global_allocator]
static GLOBAL: ferrodis::CountingAlloc<std::alloc::System> =
    ferrodis::CountingAlloc(std::alloc::System);

pub mod compare;
pub mod conn;
pub mod quote;
pub mod reference;
pub mod render;
pub mod run;
pub mod script;
pub mod subject;

pub use conn::{Connection, Reply};
pub use reference::Reference;
pub use run::{run_script, run_script_file};
pub use script::{Check, Script, Step};
pub use subject::{start_subject, Server};
