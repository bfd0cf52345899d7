//! SUBSTR key start end
//!
//! GETRANGE under its name from before Redis 2.0, with the same arguments and replies: the
//! bytes of the string at the key from `start` to `end`, both included, negative offsets
//! counting from the end. It runs GETRANGE's handler; `tests/cases/substr.txt` runs GETRANGE's
//! cases under this name.

use crate::prelude::*;

register_command!("substr", super::getrange::getrange);
