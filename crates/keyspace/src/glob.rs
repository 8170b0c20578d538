//! Glob-style pattern matching with the semantics of Redis' `stringmatchlen`.
//!
//! Used by KEYS, SCAN MATCH, CONFIG GET and (later) PSUBSCRIBE. Supported syntax:
//!
//! ```text
//! *        any run of bytes (also empty)
//! ?        exactly one byte
//! [abc]    one of the listed bytes; [^abc] none of them; [a-z] a range (reversed ranges work)
//! \x       the byte x literally (also inside brackets)
//! ```
//!
//! A `[` without its closing `]` matches the listed bytes up to the end of the pattern, as Redis
//! does. An empty string matches no pattern (callers special-case a lone `*`, as Redis' KEYS and
//! SCAN do). Matching is on bytes; `nocase` folds ASCII letters only. A pattern with many `*` cannot
//! blow up: once the rest of a pattern failed to match a suffix, longer suffixes are not tried.

/// Returns whether `string` matches the glob `pattern` (Redis `stringmatchlen` semantics).
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

/// Nesting bound for `*` recursion, like Redis' guard against pathological patterns.
const MAX_NESTING: usize = 1000;

fn fold(b: u8, nocase: bool) -> u8 {
    if nocase {
        b.to_ascii_lowercase()
    } else {
        b
    }
}

fn match_impl(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: usize,
) -> bool {
    if nesting > MAX_NESTING {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_impl(&p[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                *skip_longer = true;
                return false;
            }
            b'?' => {
                s = &s[1..];
            }
            b'[' => {
                let (matched, rest) = match_class(&p[1..], s[0], nocase);
                if !matched {
                    return false;
                }
                s = &s[1..];
                // `rest` starts at the closing ']' (or is empty when the class was unterminated).
                p = rest;
                if p.is_empty() {
                    // Unterminated class: the pattern is used up.
                    break;
                }
            }
            b'\\' if p.len() >= 2 => {
                p = &p[1..];
                if fold(p[0], nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                if fold(c, nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        p = &p[1..];
        if s.is_empty() {
            while !p.is_empty() && p[0] == b'*' {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

/// Matches byte `c` against a bracket class whose body starts at `p` (just after `[`).
/// Returns whether it matched and the pattern positioned at the closing `]` (empty if the
/// class ran to the end of the pattern).
fn match_class(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let negate = p.first() == Some(&b'^');
    if negate {
        p = &p[1..];
    }
    let mut matched = false;
    loop {
        if p.is_empty() {
            break;
        }
        if p[0] == b'\\' && p.len() >= 2 {
            p = &p[1..];
            if p[0] == c {
                matched = true;
            }
        } else if p[0] == b']' {
            break;
        } else if p.len() >= 3 && p[1] == b'-' {
            let (mut start, mut end) = (fold(p[0], nocase), fold(p[2], nocase));
            if start > end {
                std::mem::swap(&mut start, &mut end);
            }
            let cc = fold(c, nocase);
            if cc >= start && cc <= end {
                matched = true;
            }
            p = &p[2..];
        } else if fold(p[0], nocase) == fold(c, nocase) {
            matched = true;
        }
        p = &p[1..];
    }
    (matched != negate, p)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn literals_and_wildcards() {
        assert!(m("foo", "foo"));
        assert!(!m("foo", "fo"));
        assert!(!m("fo", "foo"));
        // Redis' matcher never matches an empty string (KEYS/SCAN special-case the pattern "*").
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("*", "anything"));
        assert!(m("f*o", "fo"));
        assert!(m("f*o", "fxxo"));
        assert!(!m("f*o", "fxxp"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("a**b", "ab"));
        assert!(m("*a*", "bab"));
        assert!(!m("?", ""));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("[\\]]", "]"));
        assert!(m("a[bc", "ab"), "unterminated class consumes the rest");
        assert!(!m("a[bc", "abx"));
    }

    #[test]
    fn escapes_and_case() {
        assert!(m("a\\*b", "a*b"));
        assert!(!m("a\\*b", "axb"));
        assert!(m("a\\", "a\\"));
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(!glob_match(b"HeLLo", b"hello", false));
        assert!(glob_match(b"[A-C]x", b"bx", true));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = "*a".repeat(60) + "b";
        let s = "a".repeat(200);
        // Exponential backtracking would never finish here; the skip rule makes it linear-ish.
        assert!(!m(&pattern, &s));
        assert!(m(&pattern, &("a".repeat(200) + "b")));
    }
}
