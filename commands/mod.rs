//! One module per command. This file holds only `mod` lines, kept sorted; `cargo xtask
//! new-command` inserts them and a test checks they match the files on disk.

mod config;
mod config_get;
mod config_help;
mod echo;
mod get;
mod ping;
mod set;
