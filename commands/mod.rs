//! One module per command. This file holds only `mod` lines, kept sorted; `cargo xtask
//! new-command` inserts them and a test checks they match the files on disk.

mod append;
mod command;
mod command_count;
mod command_docs;
mod command_getkeys;
mod command_getkeysandflags;
mod command_help;
mod command_info;
mod command_list;
mod config;
mod config_get;
mod config_help;
mod decr;
mod decrby;
mod echo;
mod get;
mod incr;
mod incrby;
mod incrbyfloat;
mod mget;
mod mset;
mod msetnx;
mod ping;
mod set;
mod strlen;
