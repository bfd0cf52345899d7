//! OBJECT <subcommand> [argument ...]
//!
//! A container: the dispatcher routes `OBJECT ENCODING key` to `object_encoding`, and so on
//! for REFCOUNT, IDLETIME, FREQ and HELP, and answers unknown subcommands with Redis's error.

use crate::prelude::*;

register_container!("object");
