//! Quoting, number formats and glob patterns.

use super::super::glob::{glob_match, GlobStyle};
use super::super::syntax::{c_strtoll, memory_value, repr, split_args, strict_i64, trim_line};

fn split(line: &str) -> Option<Vec<String>> {
    split_args(line.as_bytes()).map(|words| {
        words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    })
}

#[test]
fn words_are_split_on_blanks() {
    assert_eq!(split("port  6379\t").unwrap(), ["port", "6379"]);
    assert_eq!(split("").unwrap(), Vec::<String>::new());
    assert_eq!(split("   ").unwrap(), Vec::<String>::new());
}

#[test]
fn double_quotes_understand_escapes() {
    // Checked with replica-announce-ip on redis-server 7.0.15.
    let words = split_args(br#"x "a\x41\n\t\"z\\ \q\xZZ""#).unwrap();
    assert_eq!(words[1], b"aA\n\t\"z\\ qxZZ");
    assert_eq!(
        split_args(br#""\xff\b\a\r""#).unwrap()[0],
        b"\xff\x08\x07\r"
    );
    assert_eq!(split(r#"logfile """#).unwrap(), ["logfile", ""]);
}

#[test]
fn single_quotes_only_understand_escaped_quote() {
    assert_eq!(split(r"x 'it\'s \n'").unwrap(), ["x", r"it's \n"]);
}

#[test]
fn quotes_may_open_inside_a_word_but_must_end_it() {
    assert_eq!(split(r#"x foo"bar""#).unwrap(), ["x", "foobar"]);
    assert_eq!(split(r#"x "foo"bar"#), None);
    assert_eq!(split("x 'foo'bar"), None);
    assert_eq!(split(r#"x "foo" bar"#).unwrap(), ["x", "foo", "bar"]);
}

#[test]
fn unbalanced_quotes_are_refused() {
    assert_eq!(split(r#"port "12"#), None);
    assert_eq!(split("port '12"), None);
    assert_eq!(split(r#"x "ends with backslash\"#), None);
}

#[test]
fn repr_reads_back_unchanged() {
    let samples: [&[u8]; 5] = [
        b"plain",
        b"",
        b"with space",
        b"q\"uo\\te\n\r\t\x07\x08",
        b"\x00\xff\x7f",
    ];
    for sample in samples {
        let mut line = String::new();
        repr(sample, &mut line);
        assert_eq!(
            split_args(line.as_bytes()).unwrap(),
            vec![sample.to_vec()],
            "{line}"
        );
    }
    let mut line = String::new();
    repr(b"abc", &mut line);
    assert_eq!(line, "\"abc\"");
}

#[test]
fn lines_are_trimmed_of_redis_blanks() {
    assert_eq!(trim_line(b" \t port 1 \r\n"), b"port 1");
    assert_eq!(trim_line(b" \t "), b"");
}

#[test]
fn integers_use_redis_strict_syntax() {
    assert_eq!(strict_i64(b"0"), Some(0));
    assert_eq!(strict_i64(b"-12"), Some(-12));
    assert_eq!(strict_i64(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(strict_i64(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        "",
        "01",
        "+1",
        "-0",
        " 1",
        "1 ",
        "0x10",
        "1.0",
        "9223372036854775808",
        "-",
    ] {
        assert_eq!(strict_i64(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn memory_values_take_units_in_any_case() {
    let cases: [(&str, u64); 12] = [
        ("1", 1),
        ("1b", 1),
        ("1k", 1000),
        ("1KB", 1024),
        ("2m", 2_000_000),
        ("2Mb", 2 << 20),
        ("1g", 1_000_000_000),
        ("1gB", 1 << 30),
        ("01k", 1000),
        ("", 0),
        ("k", 0),
        ("18446744073709551616", u64::MAX),
    ];
    for (text, bytes) in cases {
        assert_eq!(memory_value(text.as_bytes()), Some(bytes), "{text:?}");
    }
    // Redis multiplies without checking: CONFIG GET then shows the wrapped number.
    assert_eq!(
        memory_value(b"100000000000gb"),
        Some(15_140_462_031_452_241_920)
    );
    for bad in ["-1", "+5", " 1", "1 kb", "1.5gb", "1t", "1kbb"] {
        assert_eq!(memory_value(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn strtoll_accepts_what_c_accepts() {
    assert_eq!(c_strtoll(b" +8", 10), Some((8, false)));
    assert_eq!(c_strtoll(b"", 10), Some((0, false)));
    assert_eq!(c_strtoll(b"-3", 10), Some((-3, false)));
    assert_eq!(c_strtoll(b"700", 8), Some((0o700, false)));
    assert_eq!(
        c_strtoll(b"99999999999999999999", 10),
        Some((i64::MAX, true))
    );
    assert_eq!(c_strtoll(b" ", 10), None);
    assert_eq!(c_strtoll(b"+", 10), None);
    assert_eq!(c_strtoll(b"8", 8), None);
    assert_eq!(c_strtoll(b"1 ", 10), None);
}

#[test]
fn glob_matches_like_redis() {
    let style = GlobStyle {
        nocase: true,
        bang_negates: false,
    };
    let matches =
        |pattern: &str, name: &str| glob_match(pattern.as_bytes(), name.as_bytes(), style);
    // Each of these was sent as CONFIG GET to redis-server 7.0.15.
    for pattern in [
        "[pq]ort",
        "p?rt",
        "[^a-o]ort",
        "p\\ort*",
        "[p-p]ort",
        "[z-a]ort",
        "PoR?",
        "port*",
        "*",
    ] {
        assert!(matches(pattern, "port"), "{pattern}");
    }
    for pattern in [
        "[!a-o]ort",
        "p\\[ort",
        "port\\",
        "po",
        "?port",
        "[",
        "[]port",
    ] {
        assert!(!matches(pattern, "port"), "{pattern}");
    }
    assert!(matches("tcp-keepaliv[a-f]", "tcp-keepalive"));
    assert!(matches("*-LAZY-*", "lazyfree-lazy-expire"));
    assert!(matches("a*b*c*d", "axxbxxcxxd"));
    assert!(!matches("a*b*c*d", "axxbxxcxx"));
    assert!(
        matches("[abc", "b"),
        "an unterminated class runs to the end"
    );
    let many_stars = format!("{}x", "*a".repeat(40));
    assert!(
        !matches(&many_stars, &"a".repeat(200)),
        "no exponential blow-up"
    );
    let exact = GlobStyle {
        nocase: false,
        bang_negates: true,
    };
    assert!(glob_match(b"[!b]*.conf", b"a.conf", exact));
    assert!(!glob_match(b"*.conf", b"A.CONF", exact));
}
