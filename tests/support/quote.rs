//! Splitting a script line into arguments with redis-cli's quoting conventions.
//!
//! | form            | meaning                                                               |
//! |-----------------|-----------------------------------------------------------------------|
//! | `abc`           | a bare word, ends at whitespace                                       |
//! | `"a b"`         | double quotes: spaces kept; escapes `\xHH`, `\n`, `\r`, `\t`, `\b`,  |
//! |                 | `\a`, and `\<c>` for any other character `c` (so `\"` and `\\`)       |
//! | `'a "b"'`       | single quotes: everything literal except `\'`                        |
//! | `""`            | the empty argument                                                    |
//!
//! A closing quote must be followed by whitespace or the end of the line. This is the
//! behaviour of `redis-cli` on the command line, written here from that behaviour.

/// Split `line` into arguments. `Err` describes unbalanced or badly closed quotes.
///
/// # Errors
///
/// A message naming the problem (`unbalanced quotes`, `closing quote must be followed by a
/// space`, `bad \x escape`).
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == line.len() {
            return Ok(args);
        }
        let mut arg = Vec::new();
        while let Some(&c) = line.get(i).filter(|c| !c.is_ascii_whitespace()) {
            match c {
                b'"' => i = double_quoted(line, i + 1, &mut arg)?,
                b'\'' => i = single_quoted(line, i + 1, &mut arg)?,
                _ => {
                    arg.push(c);
                    i += 1;
                }
            }
        }
        args.push(arg);
    }
}

/// Read a double-quoted string whose body starts at `i`; returns the index after the quote.
fn double_quoted(line: &[u8], mut i: usize, arg: &mut Vec<u8>) -> Result<usize, String> {
    loop {
        match line.get(i) {
            None => return Err("unbalanced quotes".to_owned()),
            Some(b'"') => return after_closing_quote(line, i + 1),
            Some(b'\\') => {
                let Some(&escaped) = line.get(i + 1) else {
                    return Err("unbalanced quotes".to_owned());
                };
                if escaped == b'x' {
                    let hex = line
                        .get(i + 2..i + 4)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(byte) => arg.push(byte),
                        None => return Err("bad \\x escape (two hex digits needed)".to_owned()),
                    }
                    i += 4;
                    continue;
                }
                arg.push(match escaped {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                });
                i += 2;
            }
            Some(&c) => {
                arg.push(c);
                i += 1;
            }
        }
    }
}

/// Read a single-quoted string whose body starts at `i`; returns the index after the quote.
fn single_quoted(line: &[u8], mut i: usize, arg: &mut Vec<u8>) -> Result<usize, String> {
    loop {
        match line.get(i) {
            None => return Err("unbalanced quotes".to_owned()),
            Some(b'\'') => return after_closing_quote(line, i + 1),
            Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                arg.push(b'\'');
                i += 2;
            }
            Some(&c) => {
                arg.push(c);
                i += 1;
            }
        }
    }
}

fn after_closing_quote(line: &[u8], i: usize) -> Result<usize, String> {
    match line.get(i) {
        None => Ok(i),
        Some(c) if c.is_ascii_whitespace() => Ok(i),
        Some(_) => Err("closing quote must be followed by a space".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &str) -> Vec<Vec<u8>> {
        match split_args(s.as_bytes()) {
            Ok(args) => args,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(
            split("SET k v"),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(split("  a   b  "), vec![b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(
            split(r#"x "" 'y'"#),
            vec![b"x".to_vec(), vec![], b"y".to_vec()]
        );
        assert_eq!(split(r#""a b""#), vec![b"a b".to_vec()]);
        assert_eq!(
            split(r#""\x00\xff\r\n\"\\""#),
            vec![b"\x00\xff\r\n\"\\".to_vec()]
        );
        assert_eq!(split(r#"'it\'s "q" \n'"#), vec![b"it's \"q\" \\n".to_vec()]);
    }

    #[test]
    fn errors() {
        for bad in [r#""abc"#, r#"'abc"#, r#""a"b"#, r#""\x4""#, r#""\xzz""#] {
            assert!(split_args(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
