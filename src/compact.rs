//! `CompactBytes`: a byte string of 24 bytes that holds up to 22 bytes inline and longer ones
//! in one exact-size heap allocation. Keys and short values (Redis's `embstr`) are stored as
//! these, so a typical key costs no allocation at all and never pins the request buffer it
//! arrived in.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// Longest string kept inline.
pub const INLINE_MAX: usize = 22;

/// A compact byte string (see the module comment).
#[derive(Clone)]
pub enum CompactBytes {
    Inline { len: u8, bytes: [u8; INLINE_MAX] },
    Heap(Box<[u8]>),
}

impl CompactBytes {
    pub fn new(bytes: &[u8]) -> CompactBytes {
        if bytes.len() <= INLINE_MAX {
            let mut inline = [0u8; INLINE_MAX];
            inline[..bytes.len()].copy_from_slice(bytes);
            CompactBytes::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            }
        } else {
            CompactBytes::Heap(bytes.into())
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            CompactBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            CompactBytes::Heap(bytes) => bytes,
        }
    }

    /// Heap bytes owned beyond the 24 bytes of the value itself.
    pub fn heap_size(&self) -> usize {
        match self {
            CompactBytes::Inline { .. } => 0,
            CompactBytes::Heap(bytes) => bytes.len(),
        }
    }
}

impl Deref for CompactBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for CompactBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for CompactBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

// Equality and hashing are those of the byte slice, so a table keyed by CompactBytes can be
// looked up with a plain `&[u8]`.
impl PartialEq for CompactBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CompactBytes {}

impl Hash for CompactBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", bytes::Bytes::copy_from_slice(self.as_slice()))
    }
}

impl From<&[u8]> for CompactBytes {
    fn from(bytes: &[u8]) -> Self {
        CompactBytes::new(bytes)
    }
}

impl From<&bytes::Bytes> for CompactBytes {
    fn from(bytes: &bytes::Bytes) -> Self {
        CompactBytes::new(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    #[test]
    fn is_24_bytes_and_inline_up_to_22() {
        assert_eq!(std::mem::size_of::<CompactBytes>(), 24);
        assert!(matches!(
            CompactBytes::new(&[7; 22]),
            CompactBytes::Inline { .. }
        ));
        assert!(matches!(CompactBytes::new(&[7; 23]), CompactBytes::Heap(_)));
        for len in [0, 1, 11, 22, 23, 100] {
            let bytes: Vec<u8> = (0..len as u8).collect();
            let c = CompactBytes::new(&bytes);
            assert_eq!(&*c, &bytes[..]);
            assert_eq!(
                hash(&c),
                hash(&bytes[..]),
                "hash must match the slice's for lookups"
            );
        }
    }
}
