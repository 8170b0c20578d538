//! Score and lexicographic ranges of sorted-set members (Redis' `zrangespec` and
//! `zlexrangespec`), as ZRANGEBYSCORE, ZCOUNT, ZRANGEBYLEX, ZLEXCOUNT and ZREMRANGEBY* take them.

use std::cmp::Ordering;

use bytes::Bytes;

/// An interval of scores: `[min, max]`, either end open (`(1.5` in the commands).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
    /// Whether `min` itself is excluded.
    pub min_exclusive: bool,
    /// Whether `max` itself is excluded.
    pub max_exclusive: bool,
}

impl ScoreRange {
    /// Whether `score` is not below the lower end (Redis' `zslValueGteMin`).
    pub fn above_min(&self, score: f64) -> bool {
        if self.min_exclusive {
            score > self.min
        } else {
            score >= self.min
        }
    }

    /// Whether `score` is not above the upper end (Redis' `zslValueLteMax`).
    pub fn below_max(&self, score: f64) -> bool {
        if self.max_exclusive {
            score < self.max
        } else {
            score <= self.max
        }
    }

    /// Whether no score can be in the range (`min > max`, or equal ends with one open).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.min_exclusive || self.max_exclusive))
    }
}

/// One end of a lexicographic range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every string.
    Min,
    /// `+`: above every string.
    Max,
    /// `[value` (inclusive) or `(value` (exclusive).
    Value {
        /// The string.
        value: Bytes,
        /// Whether the string itself is excluded.
        exclusive: bool,
    },
}

impl LexBound {
    /// Parses `-`, `+`, `[value` or `(value` (Redis' `zslParseLexRangeItem`); `None` for
    /// anything else (the caller replies "ERR min or max not valid string range item"). Like
    /// Redis, which reads C strings, `-` and `+` may be followed by a NUL byte and more.
    pub fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg.split_first()? {
            (b'-', rest) if rest.first().is_none_or(|&c| c == 0) => Some(LexBound::Min),
            (b'+', rest) if rest.first().is_none_or(|&c| c == 0) => Some(LexBound::Max),
            (b'[', rest) => Some(LexBound::Value {
                value: Bytes::copy_from_slice(rest),
                exclusive: false,
            }),
            (b'(', rest) => Some(LexBound::Value {
                value: Bytes::copy_from_slice(rest),
                exclusive: true,
            }),
            _ => None,
        }
    }

    fn exclusive(&self) -> bool {
        match self {
            LexBound::Min | LexBound::Max => true,
            LexBound::Value { exclusive, .. } => *exclusive,
        }
    }

    /// Compares a member with this bound as Redis' `sdscmplex` does.
    fn cmp_member(&self, member: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Value { value, .. } => member.cmp(value),
        }
    }
}

/// A lexicographic interval of members, as ZRANGEBYLEX takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Whether `member` is not below the lower end (Redis' `zslLexValueGteMin`).
    pub fn above_min(&self, member: &[u8]) -> bool {
        match self.min.cmp_member(member) {
            Ordering::Greater => true,
            Ordering::Equal => !self.min.exclusive(),
            Ordering::Less => false,
        }
    }

    /// Whether `member` is not above the upper end (Redis' `zslLexValueLteMax`).
    pub fn below_max(&self, member: &[u8]) -> bool {
        match self.max.cmp_member(member) {
            Ordering::Less => true,
            Ordering::Equal => !self.max.exclusive(),
            Ordering::Greater => false,
        }
    }

    /// Whether no member can be in the range (Redis' test at the top of `zslIsInLexRange`:
    /// `min > max`, or equal ends with one exclusive; `-`/`+` compare equal to themselves).
    pub fn is_empty(&self) -> bool {
        use LexBound::{Max, Min, Value};
        let cmp = match (&self.min, &self.max) {
            (Min, Min) | (Max, Max) => Ordering::Equal,
            (Min, _) | (_, Max) => Ordering::Less,
            (Max, _) | (_, Min) => Ordering::Greater,
            (Value { value: a, .. }, Value { value: b, .. }) => a.cmp(b),
        };
        cmp == Ordering::Greater
            || (cmp == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(min: &str, max: &str) -> LexRange {
        LexRange {
            min: LexBound::parse(min.as_bytes()).unwrap_or(LexBound::Min),
            max: LexBound::parse(max.as_bytes()).unwrap_or(LexBound::Max),
        }
    }

    #[test]
    fn lex_bounds_follow_redis() {
        assert_eq!(LexBound::parse(b"-"), Some(LexBound::Min));
        assert_eq!(LexBound::parse(b"+\0x"), Some(LexBound::Max));
        assert_eq!(LexBound::parse(b"-a"), None);
        assert_eq!(LexBound::parse(b""), None);
        assert_eq!(LexBound::parse(b"a"), None);
        assert!(lex("-", "-").is_empty());
        assert!(lex("+", "+").is_empty());
        assert!(lex("+", "-").is_empty());
        assert!(!lex("-", "+").is_empty());
        assert!(!lex("[a", "[a").is_empty());
        assert!(lex("(a", "[a").is_empty());
        assert!(lex("[b", "[a").is_empty());
        let r = lex("(a", "[c");
        assert!(!r.above_min(b"a") && r.above_min(b"aa") && r.below_max(b"c"));
        assert!(!r.below_max(b"ca"));
        let all = lex("-", "+");
        assert!(all.above_min(b"") && all.below_max(b"\xff\xff"));
    }

    #[test]
    fn score_ranges_follow_redis() {
        let r = ScoreRange {
            min: 1.0,
            max: 2.0,
            min_exclusive: true,
            max_exclusive: false,
        };
        assert!(!r.above_min(1.0) && r.above_min(1.5) && r.below_max(2.0));
        assert!(!r.is_empty());
        let e = ScoreRange {
            min_exclusive: true,
            max: 1.0,
            ..r
        };
        assert!(e.is_empty());
    }
}
