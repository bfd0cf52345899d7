//! Redis's glob matching (`stringmatchlen`): used by CONFIG GET, and later KEYS, SCAN MATCH and
//! PSUBSCRIBE.
//!
//! This file owns only the matching rules; it knows nothing about keys or commands.
//!
//! The syntax, with Redis's exact semantics:
//! * `*` matches any run of bytes, `?` exactly one byte;
//! * `[abc]` one byte of the set, `[^abc]` one byte outside it, `[a-z]` a range (a reversed range
//!   such as `[z-a]` means the same as `[a-z]`); inside brackets `\x` is the literal `x`, compared
//!   exactly even when matching case-insensitively;
//! * `\x` outside brackets is the literal `x`; a lone `\` at the very end is a literal backslash;
//! * an unterminated `[` runs to the end of the pattern, so `[abc` behaves like `[abc]`, a bare
//!   trailing `[` matches nothing and a bare trailing `[^` matches any one byte;
//! * a `-` counts as a range only when two more pattern bytes follow it, and the byte after it is
//!   taken literally even if it is `]` or `\` (so `[a-]` does not close at that `]`).
//!
//! Range ends are C `char`s on Redis's platforms, so bytes from 0x80 up sort *below* ASCII, and
//! with `nocase` the ends are ordered before they are lowercased (`[Z-a]` then matches nothing).
//! We follow both, since patterns and keys are arbitrary bytes.
//!
//! Two more quirks of Redis are kept on purpose because they are visible to clients:
//! * the empty text is matched only by the empty pattern (`*` does not match `""`; KEYS gets
//!   around this by not matching at all when its pattern is exactly `*`, and so must its caller);
//! * Redis gives up (no match) once a match would have to go through more than 1000 `*` groups
//!   that are not at the end of the pattern; we reproduce the result without the recursion.
//!
//! Redis recurses at every `*`, which is exponential for patterns such as `*a*a*a*a*b` without its
//! safety nets. We use the classic iterative matcher that remembers only the last `*`: since every
//! other token consumes exactly one byte, retrying from the last star alone finds a match whenever
//! one exists, in O(pattern * text) time and without allocating.

/// Redis's limit on nested `*` groups (its protection against abusive patterns).
const MAX_STAR_NESTING: usize = 1000;

/// Does `text` match the glob `pattern`? `nocase` compares ASCII letters case-insensitively.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    // Redis's matcher only looks at the pattern while text remains, so an empty text matches only
    // an empty pattern, even `*`.
    if text.is_empty() {
        return pattern.is_empty();
    }
    if inner_star_groups(pattern) > MAX_STAR_NESTING {
        return false;
    }

    // Positions in the pattern and in the text.
    let mut p = 0;
    let mut t = 0;
    // Where to resume after the most recent `*`: the pattern position just after it, and the
    // text position the star's run currently ends at.
    let mut restart: Option<(usize, usize)> = None;

    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true; // a trailing star swallows the rest of the text
            }
            restart = Some((p, t));
            continue;
        }
        if p < pattern.len() {
            let (matched, next) = match_one(pattern, p, text[t], nocase);
            if matched {
                p = next;
                t += 1;
                continue;
            }
        }
        // Mismatch (or pattern exhausted with text left): let the last star eat one more byte.
        match restart {
            Some((star_p, star_t)) => {
                restart = Some((star_p, star_t + 1));
                p = star_p;
                t = star_t + 1;
            }
            None => return false,
        }
    }
    // Text consumed: only stars may remain.
    pattern[p..].iter().all(|&b| b == b'*')
}

/// Matches the single non-star token at `pattern[p]` against byte `c`. Returns whether it matched
/// and where the next token starts.
fn match_one(pattern: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    match pattern[p] {
        b'?' => (true, p + 1),
        b'[' => match_class(pattern, p + 1, c, nocase),
        b'\\' if p + 1 < pattern.len() => (same(pattern[p + 1], c, nocase), p + 2),
        lit => (same(lit, c, nocase), p + 1),
    }
}

/// Matches a bracket class whose body starts at `pattern[p]` (just after the `[`). Returns
/// whether `c` is accepted and the position after the class.
fn match_class(pattern: &[u8], mut p: usize, c: u8, nocase: bool) -> (bool, usize) {
    let negate = p < pattern.len() && pattern[p] == b'^';
    if negate {
        p += 1;
    }
    let mut hit = false;
    loop {
        let rest = pattern.len() - p;
        if rest == 0 {
            break; // unterminated: the class is whatever was collected
        }
        let b = pattern[p];
        if b == b'\\' && rest >= 2 {
            // Redis compares an escaped byte inside brackets exactly, even when `nocase`.
            hit |= pattern[p + 1] == c;
            p += 2;
        } else if b == b']' {
            p += 1;
            break;
        } else if rest >= 3 && pattern[p + 1] == b'-' {
            hit |= in_range(b, pattern[p + 2], c, nocase);
            p += 3;
        } else {
            hit |= same(b, c, nocase);
            p += 1;
        }
    }
    (hit != negate, p)
}

/// Range test as Redis performs it on x86: the bytes are C `char`s, i.e. signed, so bytes from
/// 0x80 up sort below ASCII; the ends are put in order first and only then lowercased, so with
/// `nocase` a range such as `[Z-a]` ends up empty.
fn in_range(lo: u8, hi: u8, c: u8, nocase: bool) -> bool {
    let (mut lo, mut hi) = (lo as i8, hi as i8);
    if lo > hi {
        std::mem::swap(&mut lo, &mut hi);
    }
    let mut x = c as i8;
    if nocase {
        lo = lower(lo);
        hi = lower(hi);
        x = lower(x);
    }
    lo <= x && x <= hi
}

fn lower(b: i8) -> i8 {
    // Only ASCII letters change case (C locale); negative values are left alone.
    (b as u8).to_ascii_lowercase() as i8
}

fn same(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Counts the `*` groups that are followed by something other than more stars. Each of those is
/// one level of recursion in Redis; a trailing group ends the match without recursing.
fn inner_star_groups(pattern: &[u8]) -> usize {
    let mut groups = 0;
    let mut p = 0;
    while p < pattern.len() {
        if pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p < pattern.len() {
                groups += 1;
            }
            continue;
        }
        // Skip one token; the byte passed in is irrelevant, only the end position is used.
        p = match_one(pattern, p, 0, false).1;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("a[\\]]b", "a]b"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
    }

    #[test]
    fn redis_quirks() {
        // The empty text is matched by nothing but the empty pattern.
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        // Unterminated classes.
        assert!(m("a[bc", "ab"));
        assert!(!m("a[", "a"));
        assert!(!m("a[", "ab"));
        assert!(m("a[^", "ab"));
        // `-` before `]` makes a range ending at `]`, and the class keeps going.
        assert!(m("[a-]x]", "_"), "_ lies between ] and a");
        assert!(m("[a-]x]", "x"));
        assert!(!m("[a-]", "-"));
        // A lone trailing backslash is literal.
        assert!(m("a\\", "a\\"));
        assert!(m("[\\", "\\"));
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"MAXMEMORY-P*", b"maxmemory-policy", true));
        assert!(glob_match(b"h[A-E]llo", b"hEllo", true));
        assert!(glob_match(b"h[a-e]llo", b"HELLO", true));
        assert!(glob_match(b"h\\Ello", b"hello", true));
        assert!(!glob_match(b"h[^E]llo", b"hello", true));
        assert!(!glob_match(b"MAXMEMORY-P*", b"maxmemory-policy", false));
        // Checked with CONFIG GET (which matches case-insensitively) on redis-server 7.0.15.
        assert!(
            !glob_match(b"[Z-a]ort", b"port", true),
            "ends ordered, then lowercased"
        );
        assert!(glob_match(b"[O-q]ort", b"port", true));
        assert!(
            !glob_match(b"[\\P]ort", b"port", true),
            "escapes in brackets are exact"
        );
        assert!(glob_match(b"[\\p]ort", b"port", true));
        // `_` lies between `Z` and `a`: inside [A-z] only when case matters.
        assert!(glob_match(b"[A-z]", b"_", false));
        assert!(!glob_match(b"[A-z]", b"_", true));
    }

    #[test]
    fn pathological_patterns_are_fast() {
        let text = vec![b'a'; 10_000];
        let mut pattern = b"*a".repeat(60);
        pattern.push(b'b');
        let start = std::time::Instant::now();
        assert!(!glob_match(&pattern, &text, false));
        let mut ok = b"*a".repeat(60);
        ok.push(b'*');
        assert!(glob_match(&ok, &text, false));
        // Generous bound: the point is "not exponential", not a benchmark.
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn nesting_limit_matches_redis() {
        let text = vec![b'a'; 1001];
        assert!(glob_match(&b"*a".repeat(1000), &text[..1000], false));
        assert!(!glob_match(&b"*a".repeat(1001), &text, false));
        // A trailing star group does not count.
        let mut p = b"*a".repeat(1000);
        p.push(b'*');
        assert!(glob_match(&p, &text, false));
        // Escaped and bracketed stars are not groups.
        assert!(glob_match(
            &b"\\*[*]".repeat(1001),
            &b"**".repeat(1001),
            false
        ));
    }

    /// Bytes from 0x80 up are signed `char`s in Redis, so they sort below ASCII inside ranges
    /// (recorded from redis-server 7.0.15 with keys `\x00`, `a`, `~`, `\xff`).
    #[test]
    fn high_bytes_in_ranges_are_signed() {
        let keys: &[&[u8]] = &[b"\x00", b"a", b"~", b"\xff"];
        let cases: &[(&[u8], &[&[u8]])] = &[
            (b"[a-\xff]", &[b"\x00", b"a", b"\xff"]),
            (b"[\xff-a]", &[b"\x00", b"a", b"\xff"]),
            (b"[\x80-\xff]", &[b"\xff"]),
            (b"[~-\x80]", &[b"\x00", b"a", b"~", b"\xff"]),
            (b"[^a-\xff]", &[b"~"]),
        ];
        for (pattern, want) in cases {
            let got: Vec<&[u8]> = keys
                .iter()
                .copied()
                .filter(|k| glob_match(pattern, k, false))
                .collect();
            assert_eq!(&got, want, "pattern {pattern:?}");
        }
    }

    /// Expected results recorded from redis-server 7.0.15: `MSET` of all `KEYS_SET` keys, then
    /// `KEYS <pattern>` (which matches case-sensitively) for each pattern.
    #[test]
    fn agrees_with_redis_keys() {
        for (pattern, expected) in REDIS_KEYS_RESULTS {
            let mut got: Vec<&str> = KEYS_SET
                .iter()
                .copied()
                .filter(|k| glob_match(pattern.as_bytes(), k.as_bytes(), false))
                .collect();
            got.sort_unstable();
            let mut want: Vec<&str> = expected.to_vec();
            want.sort_unstable();
            assert_eq!(got, want, "pattern {pattern:?}");
        }
    }

    const KEYS_SET: &[&str] = &[
        "", "a", "A", "b", "ab", "abc", "aXc", "a*c", "a?c", "a[c", "a]c", "a\\c", "a-c", "a^c",
        "_", "]", "[", "-", "^", "\\", "hello", "hallo", "hxllo", "hllo", "heeeello", "Hello",
    ];
    const REDIS_KEYS_RESULTS: &[(&str, &[&str])] = &[
        (
            "**",
            &[
                "-", "A", "Hello", "[", "\\", "]", "^", "_", "a", "a*c", "a-c", "a?c", "aXc",
                "a[c", "a\\c", "a]c", "a^c", "ab", "abc", "b", "hallo", "heeeello", "hello",
                "hllo", "hxllo",
            ],
        ),
        ("?", &["-", "A", "[", "\\", "]", "^", "_", "a", "b"]),
        ("??", &["ab"]),
        (
            "a*",
            &[
                "a", "a*c", "a-c", "a?c", "aXc", "a[c", "a\\c", "a]c", "a^c", "ab", "abc",
            ],
        ),
        (
            "*c",
            &[
                "a*c", "a-c", "a?c", "aXc", "a[c", "a\\c", "a]c", "a^c", "abc",
            ],
        ),
        (
            "a?c",
            &[
                "a*c", "a-c", "a?c", "aXc", "a[c", "a\\c", "a]c", "a^c", "abc",
            ],
        ),
        ("a[bX]c", &["aXc", "abc"]),
        (
            "a[^bX]c",
            &["a*c", "a-c", "a?c", "a[c", "a\\c", "a]c", "a^c"],
        ),
        ("a[\\]]c", &["a]c"]),
        ("a[]]c", &[]),
        ("a[-]c", &["a-c"]),
        ("a\\*c", &["a*c"]),
        ("a\\?c", &["a?c"]),
        ("a\\[c", &["a[c"]),
        ("a[\\\\]c", &["a\\c"]),
        ("a[*]c", &["a*c"]),
        ("h[a-e]llo", &["hallo", "hello"]),
        ("h[e-a]llo", &["hallo", "hello"]),
        ("h[^a-e]llo", &["hxllo"]),
        ("h*llo", &["hallo", "heeeello", "hello", "hllo", "hxllo"]),
        ("h?llo", &["hallo", "hello", "hxllo"]),
        ("*e*l*o", &["Hello", "heeeello", "hello"]),
        ("*[", &[]),
        ("a[", &[]),
        ("a[b", &["ab"]),
        ("a[^", &["ab"]),
        ("[^", &["-", "A", "[", "\\", "]", "^", "_", "a", "b"]),
        ("[", &[]),
        ("\\", &["\\"]),
        ("[\\", &["\\"]),
        ("[a-]", &["]", "^", "_", "a"]),
        ("[a-]c]", &["]", "^", "_", "a"]),
        ("[]-a]", &[]),
        ("[Z-a]", &["[", "\\", "]", "^", "_", "a"]),
        ("[^-]", &["A", "[", "\\", "]", "^", "_", "a", "b"]),
        ("h[el]*o", &["heeeello", "hello", "hllo"]),
        ("*a*b*c*", &["abc"]),
        (
            "[ab]*",
            &[
                "a", "a*c", "a-c", "a?c", "aXc", "a[c", "a\\c", "a]c", "a^c", "ab", "abc", "b",
            ],
        ),
        ("*\\", &["\\"]),
        ("a\\", &[]),
        ("H*", &["Hello"]),
        ("[\\^]*", &["^"]),
    ];
}
