//! Splitting of inline (telnet-style) command lines, with the quoting rules of Redis'
//! `sdssplitargs`.
//!
//! | input            | arguments            | rule                                                  |
//! |------------------|----------------------|-------------------------------------------------------|
//! | `SET a b`        | `SET`, `a`, `b`      | separated by runs of C whitespace (space, `\t`, `\r`, `\v`, `\f`) |
//! | `"a b"`          | `a b`                | double quotes; escapes `\n \r \t \b \a \xHH`, `\` + any other byte is that byte |
//! | `'a\'b'`         | `a'b`                | single quotes; only `\'` is an escape                 |
//! | `x"a b"y`        | error                | a closing quote must be followed by whitespace or the end |
//! | `x"a b"`         | `xa b`               | a quote may open in the middle of a word              |
//! | `"abc`           | error                | unterminated quotes                                    |
//! | `a\vb`           | `a\vb`               | inside a word only space, `\t`, `\r`, `\n` end it      |
//!
//! Every row was checked against redis-server 7.0.15 (errors are "Protocol error: unbalanced
//! quotes in request"). The line given here never contains `\n` or NUL: the request decoder
//! ends lines at `\n` and, like Redis, does not see a line past a NUL byte.

use bytes::Bytes;

/// The quotes of a line do not balance: Redis' "unbalanced quotes in request".
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UnbalancedQuotes;

/// C `isspace` in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Split one inline line (without its line ending) into arguments.
///
/// An empty or all-whitespace line gives no arguments (the decoder skips it, as Redis does).
/// Splits a line into words with Redis' `sdssplitargs` rules (inline commands, redis.conf
/// lines): blanks separate words; `"..."` understands `\n \r \t \b \a \\ \"` and `\xHH`;
/// `'...'` understands only `\'`; a closing quote must be followed by a blank or the end.
/// Returns `None` for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Bytes>> {
    split_inline(line).ok()
}

pub(crate) fn split_inline(line: &[u8]) -> Result<Vec<Bytes>, UnbalancedQuotes> {
    // Fast path: without quotes, NUL, \v or \f, words are runs between spaces, tabs, CR, LF.
    if !line
        .iter()
        .any(|&c| matches!(c, b'"' | b'\'' | 0 | 0x0b | 0x0c))
    {
        return Ok(line
            .split(|&c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .filter(|w| !w.is_empty())
            .map(Bytes::copy_from_slice)
            .collect());
    }
    // Reading past the end gives 0, like the NUL terminator sdssplitargs stops at.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Ok(args);
        }
        let mut current = Vec::new();
        let mut quote: Option<u8> = None;
        loop {
            let c = at(p);
            match quote {
                Some(b'"') => {
                    if c == b'\\' && at(p + 1) == b'x' {
                        if let (Some(high), Some(low)) =
                            (hex_value(at(p + 2)), hex_value(at(p + 3)))
                        {
                            current.push(high * 16 + low);
                            p += 4;
                            continue;
                        }
                    }
                    if c == b'\\' && at(p + 1) != 0 {
                        p += 1;
                        current.push(match at(p) {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    } else if c == b'"' {
                        return_if_glued(at(p + 1))?;
                        p += 1;
                        break;
                    } else if c == 0 {
                        return Err(UnbalancedQuotes);
                    } else {
                        current.push(c);
                    }
                }
                Some(_) => {
                    if c == b'\\' && at(p + 1) == b'\'' {
                        p += 1;
                        current.push(b'\'');
                    } else if c == b'\'' {
                        return_if_glued(at(p + 1))?;
                        p += 1;
                        break;
                    } else if c == 0 {
                        return Err(UnbalancedQuotes);
                    } else {
                        current.push(c);
                    }
                }
                None => match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' | b'\'' => quote = Some(c),
                    _ => current.push(c),
                },
            }
            p += 1;
        }
        args.push(Bytes::from(current));
    }
}

/// A closing quote must be followed by whitespace or the end of the line.
fn return_if_glued(next: u8) -> Result<(), UnbalancedQuotes> {
    if next != 0 && !is_c_space(next) {
        Err(UnbalancedQuotes)
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn split(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
        split_inline(line).map(|args| args.iter().map(|a| a.to_vec()).collect())
    }

    fn ok(line: &[u8]) -> Vec<Vec<u8>> {
        split(line).unwrap()
    }

    #[test]
    fn plain_words() {
        assert_eq!(
            ok(b"SET a b"),
            vec![b"SET".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(ok(b"  ECHO   a  "), vec![b"ECHO".to_vec(), b"a".to_vec()]);
        assert_eq!(ok(b"ECHO\ta"), vec![b"ECHO".to_vec(), b"a".to_vec()]);
        assert_eq!(
            ok(b"ECHO a\rb"),
            vec![b"ECHO".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
        assert!(ok(b"").is_empty());
        assert!(ok(b"   \t ").is_empty());
    }

    #[test]
    fn vertical_tab_separates_only_between_words() {
        assert_eq!(ok(b"ECHO\x0ba"), vec![b"ECHO\x0ba".to_vec()]);
        assert_eq!(ok(b"ECHO \x0ba"), vec![b"ECHO".to_vec(), b"a".to_vec()]);
        assert_eq!(
            ok(b"ECHO \"a\"\x0bb"),
            vec![b"ECHO".to_vec(), b"a".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn double_quotes() {
        assert_eq!(ok(b"ECHO \"\\x41\""), vec![b"ECHO".to_vec(), b"A".to_vec()]);
        assert_eq!(ok(b"ECHO \"\\xAf\""), vec![b"ECHO".to_vec(), vec![0xaf]]);
        assert_eq!(ok(b"ECHO \"\\x4\""), vec![b"ECHO".to_vec(), b"x4".to_vec()]);
        assert_eq!(
            ok(b"ECHO \"\\xzz\""),
            vec![b"ECHO".to_vec(), b"xzz".to_vec()]
        );
        assert_eq!(
            ok(b"ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\z\""),
            vec![b"ECHO".to_vec(), b"\n\r\t\x08\x07\\\"z".to_vec()]
        );
        assert_eq!(ok(b"ECHO \"\""), vec![b"ECHO".to_vec(), Vec::new()]);
        assert_eq!(ok(b"ECHO \"a\r\""), vec![b"ECHO".to_vec(), b"a\r".to_vec()]);
        assert_eq!(ok(b"ECHO \"a'b\""), vec![b"ECHO".to_vec(), b"a'b".to_vec()]);
    }

    #[test]
    fn single_quotes() {
        assert_eq!(ok(b"ECHO 'a\\'b'"), vec![b"ECHO".to_vec(), b"a'b".to_vec()]);
        assert_eq!(
            ok(b"ECHO 'a\\\\'b'"),
            vec![b"ECHO".to_vec(), b"a\\'b".to_vec()]
        );
        assert_eq!(ok(b"ECHO ''"), vec![b"ECHO".to_vec(), Vec::new()]);
        assert_eq!(ok(b"ECHO 'a\"b'"), vec![b"ECHO".to_vec(), b"a\"b".to_vec()]);
        assert_eq!(ok(b"ECHO 'a'\x0b"), vec![b"ECHO".to_vec(), b"a".to_vec()]);
    }

    #[test]
    fn quotes_inside_words() {
        assert_eq!(ok(b"ECHO x'a b'"), vec![b"ECHO".to_vec(), b"xa b".to_vec()]);
        assert_eq!(split(b"ECHO a\"b c\"d"), Err(UnbalancedQuotes));
    }

    #[test]
    fn unbalanced() {
        for line in [
            &b"ECHO \"foo\"bar"[..],
            b"ECHO \"abc",
            b"ECHO 'abc",
            b"ECHO 'a\\\\' b",
            b"ECHO \"a\\\"",
            b"ECHO \"\\",
            b"\"",
            b"'",
        ] {
            assert_eq!(
                split(line),
                Err(UnbalancedQuotes),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
