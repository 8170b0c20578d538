//! The `listpack` encoding of a sorted set: one [`Listpack`] of `member, score, member, score,
//! ...` entries ordered by score, then member bytes, exactly as Redis' `zzl*` functions keep it.
//!
//! A score is stored as the text Redis' `d2string` gives it (so the listpack holds the same
//! bytes as Redis'): an integral score below 2^52 in magnitude as its decimal (which the
//! listpack then stores as an integer; `-0` becomes `0`), `inf` and `-inf` as such, any other
//! score as C's `%.17g`.

use std::cmp::Ordering;

use crate::listpack::{Iter, Listpack, LpValue};

use super::range::{LexRange, ScoreRange};

/// The text of a score as Redis' `d2string` writes it, in a stack buffer.
pub struct ScoreText {
    buf: [u8; 40],
    len: usize,
}

impl ScoreText {
    /// Renders `v` (never NaN: sorted sets refuse NaN scores).
    pub fn new(v: f64) -> ScoreText {
        let mut t = ScoreText {
            buf: [0; 40],
            len: 0,
        };
        if v.is_infinite() {
            t.push(if v < 0.0 { b"-inf" } else { b"inf" });
        } else if v.is_nan() {
            t.push(b"nan");
        } else if v > -4_503_599_627_370_495.0 && v < 4_503_599_627_370_496.0 && v == v.trunc() {
            t.push(itoa::Buffer::new().format(v as i64).as_bytes());
        } else {
            t.push_g17(v);
        }
        t
    }

    /// The text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn push(&mut self, b: &[u8]) {
        let end = (self.len + b.len()).min(self.buf.len());
        self.buf[self.len..end].copy_from_slice(&b[..end - self.len]);
        self.len = end;
    }

    /// C's `%.17g` for a finite value (the codec's formatter, as replies use it).
    fn push_g17(&mut self, v: f64) {
        self.push(ferrodis_resp::DoubleText::new(v).as_bytes());
    }
}

/// The score an entry holds (Redis' `zzlGetScore`): an integer entry as a double, a string
/// entry parsed as `strtod` would (unparsable text, which Redis never writes, reads as 0).
pub fn score_of(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(i) => i as f64,
        LpValue::Str(s) => parse_stored(s),
    }
}

fn parse_stored(s: &[u8]) -> f64 {
    let Ok(t) = std::str::from_utf8(s) else {
        return 0.0;
    };
    match t.to_ascii_lowercase().trim() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(0.0),
    }
}

/// Compares an entry's member with `member` by bytes (Redis' `zzlCompareElements`).
pub fn cmp_member(v: LpValue<'_>, member: &[u8]) -> Ordering {
    v.with_bytes(|b| b.cmp(member))
}

/// The member/score pairs, first to last or (with `.rev()`) last to first.
pub struct Pairs<'a> {
    it: Iter<'a>,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (LpValue<'a>, f64);

    fn next(&mut self) -> Option<Self::Item> {
        let m = self.it.next()?;
        let s = self.it.next()?;
        Some((m, score_of(s)))
    }
}

impl DoubleEndedIterator for Pairs<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let s = self.it.next_back()?;
        let m = self.it.next_back()?;
        Some((m, score_of(s)))
    }
}

/// The pairs of `lp`.
pub fn pairs(lp: &Listpack) -> Pairs<'_> {
    Pairs { it: lp.iter() }
}

/// Number of members.
pub fn len(lp: &Listpack) -> usize {
    lp.len() / 2
}

/// The offset of `member`'s entry and its score (Redis' `zzlFind`).
pub fn find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    let off = lp.find(lp.first()?, member, 1)?;
    let score = score_of(lp.get(lp.next(off)?));
    Some((off, score))
}

/// Inserts a member that is not present at its place in the order (Redis' `zzlInsert`).
pub fn insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let text = ScoreText::new(score);
    let mut at = lp.first();
    while let Some(m) = at {
        let Some(s_off) = lp.next(m) else { break };
        let s = score_of(lp.get(s_off));
        if s > score || (s == score && cmp_member(lp.get(m), member) == Ordering::Greater) {
            let m = lp.insert_before(m, member);
            lp.insert_after(m, text.as_bytes());
            return;
        }
        at = lp.next(s_off);
    }
    lp.push_back(member);
    lp.push_back(text.as_bytes());
}

/// Appends a member known to sort after every present one (conversions, built results).
pub fn push(lp: &mut Listpack, member: &[u8], score: f64) {
    lp.push_back(member);
    lp.push_back(ScoreText::new(score).as_bytes());
}

/// Deletes the member whose entry is at `off`, with its score.
pub fn delete(lp: &mut Listpack, off: usize) {
    lp.delete_range(off, 2);
}

/// Forward rank of `member`.
pub fn rank(lp: &Listpack, member: &[u8]) -> Option<usize> {
    pairs(lp).position(|(m, _)| m.eq_bytes(member))
}

/// Forward rank of the first member in `range` and how many follow it in range (Redis'
/// `zzlFirstInRange` then a walk while `zslValueLteMax`), or with `rev` the reverse rank of the
/// last member in range and how many precede it in range.
pub fn score_span(lp: &Listpack, range: &ScoreRange, rev: bool) -> (usize, usize) {
    if range.is_empty() {
        return (0, 0);
    }
    span(
        lp,
        rev,
        |s, _| {
            if rev {
                range.below_max(s)
            } else {
                range.above_min(s)
            }
        },
        |s, _| {
            if rev {
                range.above_min(s)
            } else {
                range.below_max(s)
            }
        },
    )
}

/// Like [`score_span`] for a lexicographic range (Redis' `zzlFirstInLexRange` /
/// `zzlLastInLexRange`, which also give up at once when the last member is below `min` or the
/// first above `max`).
pub fn lex_span(lp: &Listpack, range: &LexRange, rev: bool) -> (usize, usize) {
    if range.is_empty() {
        return (0, 0);
    }
    let (Some(first), Some(last)) = (pairs(lp).next(), pairs(lp).next_back()) else {
        return (0, 0);
    };
    if !last.0.with_bytes(|m| range.above_min(m)) || !first.0.with_bytes(|m| range.below_max(m)) {
        return (0, 0);
    }
    span(
        lp,
        rev,
        |_, m| {
            if rev {
                range.below_max(m)
            } else {
                range.above_min(m)
            }
        },
        |_, m| {
            if rev {
                range.above_min(m)
            } else {
                range.below_max(m)
            }
        },
    )
}

/// Walks the pairs (from the end when `rev`) to the first satisfying `start`; from there counts
/// the consecutive pairs satisfying `keep`. Returns (rank in that direction, count).
fn span(
    lp: &Listpack,
    rev: bool,
    mut start: impl FnMut(f64, &[u8]) -> bool,
    mut keep: impl FnMut(f64, &[u8]) -> bool,
) -> (usize, usize) {
    let mut it: Box<dyn Iterator<Item = (LpValue<'_>, f64)>> = if rev {
        Box::new(pairs(lp).rev())
    } else {
        Box::new(pairs(lp))
    };
    let mut rank = 0;
    while let Some((m, s)) = it.next() {
        if m.with_bytes(|m| start(s, m)) {
            if !m.with_bytes(|m| keep(s, m)) {
                return (rank, 0);
            }
            let more = it
                .take_while(|(m, s)| m.with_bytes(|m| keep(*s, m)))
                .count();
            return (rank, more + 1);
        }
        rank += 1;
    }
    (rank, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: f64) -> String {
        String::from_utf8_lossy(ScoreText::new(v).as_bytes()).into_owned()
    }

    #[test]
    fn scores_are_written_like_d2string() {
        assert_eq!(text(1.0), "1");
        assert_eq!(text(-0.0), "0");
        assert_eq!(text(1.5), "1.5");
        assert_eq!(text(0.1), "0.10000000000000001");
        assert_eq!(text(f64::INFINITY), "inf");
        assert_eq!(text(f64::NEG_INFINITY), "-inf");
        assert_eq!(text(1e20), "1e+20");
        assert_eq!(text(4_503_599_627_370_496.0), "4503599627370496");
        assert_eq!(text(1e17), "1e+17");
        assert_eq!(text(-1.25e-5), "-1.2500000000000001e-05");
        assert_eq!(text(0.0001), "0.0001");
        assert_eq!(text(123456.789), "123456.789");
        for v in [0.1, 1e20, -3.75, 1e-300, 5e-324, f64::MAX] {
            assert_eq!(score_of(LpValue::Str(ScoreText::new(v).as_bytes())), v);
        }
    }

    #[test]
    fn inserts_keep_score_then_member_order() {
        let mut lp = Listpack::new();
        for (m, s) in [("b", 1.0), ("a", 1.0), ("c", 0.5), ("d", 2.5), ("10", -1.0)] {
            insert(&mut lp, m.as_bytes(), s);
        }
        let got: Vec<(String, f64)> = pairs(&lp)
            .map(|(m, s)| (String::from_utf8_lossy(&m.to_bytes()).into_owned(), s))
            .collect();
        let want = [("10", -1.0), ("c", 0.5), ("a", 1.0), ("b", 1.0), ("d", 2.5)];
        let want: Vec<(String, f64)> = want.iter().map(|(m, s)| (m.to_string(), *s)).collect();
        assert_eq!(got, want);
        assert_eq!(find(&lp, b"d").map(|x| x.1), Some(2.5));
        assert_eq!(rank(&lp, b"a"), Some(2));
        let r = ScoreRange {
            min: 0.5,
            max: 1.0,
            min_exclusive: true,
            max_exclusive: false,
        };
        assert_eq!(score_span(&lp, &r, false), (2, 2));
        assert_eq!(score_span(&lp, &r, true), (1, 2));
    }
}
