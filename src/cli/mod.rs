//! The commands of the `tipline` binary.

pub mod deadlines;
pub mod eval;
pub mod export;
pub mod generate;
pub mod import;
pub mod keys;
pub mod mail;
pub mod order_files;
pub mod outbox;
pub mod report;
pub mod search;
pub mod serve;
pub mod users;
