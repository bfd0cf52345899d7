//! One module per command. This file holds only `mod` lines, kept sorted; `cargo xtask
//! new-command` inserts them and a test checks they match the files on disk.

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
mod copy;
mod dbsize;
mod del;
mod echo;
mod exists;
mod get;
mod keys;
mod r#move;
mod object;
mod object_encoding;
mod object_freq;
mod object_help;
mod object_idletime;
mod object_refcount;
mod ping;
mod randomkey;
mod rename;
mod renamenx;
mod set;
mod touch;
mod r#type;
mod unlink;
