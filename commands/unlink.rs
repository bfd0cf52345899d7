//! UNLINK key [key ...]
//!
//! DEL as far as clients can tell: Redis only differs in freeing large values on a background
//! thread. Our values are dropped when the last reference goes, which is cheap enough to do
//! here, so this is DEL's handler: it removes the keys and replies with how many existed.

use crate::prelude::*;

register_command!("unlink", super::del::del);
