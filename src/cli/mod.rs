//! The commands of the `tipline` binary.

pub mod deadlines;
pub mod eval;
pub mod export;
pub mod generate;
pub mod import;
pub mod mail;
pub mod outbox;
pub mod search;
pub mod serve;
pub mod users;
