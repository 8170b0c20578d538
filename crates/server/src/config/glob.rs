//! Glob patterns: Redis' matcher for CONFIG GET and a file-name glob for `include`.

use std::path::{Path, PathBuf};

/// Options of [`glob_match`].
#[derive(Clone, Copy)]
pub(crate) struct GlobStyle {
    /// Compare letters without case (CONFIG GET does).
    pub nocase: bool,
    /// Also accept `[!...]` for a negated class (file globs do; Redis' matcher only knows
    /// `[^...]`).
    pub bang_negates: bool,
}

/// Redis' glob syntax (`stringmatchlen`): `*` any run, `?` one byte, `[abc]`, `[^abc]`,
/// `[a-z]` (a reversed range is swapped), `\x` a literal `x`. An unterminated `[` class runs
/// to the end of the pattern.
///
/// Implemented with the classic one-backtrack-point algorithm: every token other than `*`
/// matches exactly one byte, so returning to the last `*` is enough, and a pattern full of
/// stars cannot make it recurse or take exponential time.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8], style: GlobStyle) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if pattern.get(p) == Some(&b'*') {
            while pattern.get(p) == Some(&b'*') {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            backtrack = Some((p, t));
            continue;
        }
        if p < pattern.len() {
            let (matched, next) = match_one(pattern, p, text[t], style);
            if matched {
                p = next;
                t += 1;
                continue;
            }
        }
        match backtrack {
            Some((star_p, star_t)) => {
                p = star_p;
                t = star_t + 1;
                backtrack = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p == pattern.len()
}

/// Matches the single-byte token at `pattern[p]` against `c`; returns whether it matched and
/// where the next token starts.
fn match_one(pattern: &[u8], p: usize, c: u8, style: GlobStyle) -> (bool, usize) {
    let fold = |b: u8| {
        if style.nocase {
            b.to_ascii_lowercase()
        } else {
            b
        }
    };
    match pattern[p] {
        b'?' => (true, p + 1),
        b'[' => match_class(pattern, p + 1, c, style),
        b'\\' if p + 1 < pattern.len() => (fold(pattern[p + 1]) == fold(c), p + 2),
        literal => (fold(literal) == fold(c), p + 1),
    }
}

/// Matches a `[...]` class whose body starts at `p`.
fn match_class(pattern: &[u8], mut p: usize, c: u8, style: GlobStyle) -> (bool, usize) {
    let fold = |b: u8| {
        if style.nocase {
            b.to_ascii_lowercase()
        } else {
            b
        }
    };
    let negate = match pattern.get(p) {
        Some(b'^') => true,
        Some(b'!') if style.bang_negates => true,
        _ => false,
    };
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        match pattern.get(p) {
            None => break,
            Some(b']') => {
                p += 1;
                break;
            }
            // Redis compares an escaped byte in a class exactly, even without case.
            Some(b'\\') if p + 1 < pattern.len() => {
                matched |= pattern[p + 1] == c;
                p += 2;
            }
            Some(&start) if p + 2 < pattern.len() && pattern[p + 1] == b'-' => {
                let end = pattern[p + 2];
                let (low, high) = if start > end {
                    (end, start)
                } else {
                    (start, end)
                };
                matched |= (fold(low)..=fold(high)).contains(&fold(c));
                p += 3;
            }
            Some(&literal) => {
                matched |= fold(literal) == fold(c);
                p += 1;
            }
        }
    }
    (matched != negate, p)
}

/// True when an `include` path holds glob characters (Redis checks `*`, `?` and `[`).
pub(crate) fn has_glob_chars(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Expands a file-name glob like glob(3) without flags: each `/`-separated part is matched
/// against directory entries, names starting with `.` only match a part starting with `.`,
/// and the result is sorted. No match gives an empty list (Redis then skips the include).
pub(crate) fn glob_files(pattern: &Path) -> Vec<PathBuf> {
    let style = GlobStyle {
        nocase: false,
        bang_negates: true,
    };
    let mut candidates = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = component.as_os_str().to_string_lossy();
        if !has_glob_chars(&part) {
            candidates.iter_mut().for_each(|path| path.push(component));
            continue;
        }
        let mut next = Vec::new();
        for dir in &candidates {
            let listing = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            let Ok(entries) = std::fs::read_dir(listing) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if glob_match(part.as_bytes(), name.as_bytes(), style) {
                    next.push(dir.join(&*name));
                }
            }
        }
        candidates = next;
    }
    candidates.retain(|path| path.exists());
    candidates.sort();
    candidates
}
