//! Access metadata for eviction: what the 24 bits of [`crate::Entry`]'s `lru` field mean under
//! the configured `maxmemory-policy`, as in Redis' `robj.lru` (`evict.c`, `object.c`).
//!
//! # Layout of the 24-bit field
//!
//! | policy            | bits 23..8                          | bits 7..0                     |
//! |-------------------|-------------------------------------|-------------------------------|
//! | LRU (all but LFU) | LRU clock: Unix seconds mod 2^24 (`LRU_CLOCK_RESOLUTION` 1000 ms), all 24 bits | |
//! | LFU               | last decrement time: Unix minutes mod 2^16 | logarithmic counter 0..=255 |
//!
//! A new key starts at the current LRU clock, or under LFU at the current minute with counter
//! [`LFU_INIT_VAL`]. An access stores the LRU clock, or under LFU first decays the counter by one
//! per `lfu-decay-time` minutes elapsed ([`lfu_decr_and_return`]) and then increments it with
//! probability `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)` ([`lfu_log_incr`]).
//! Switching policy at runtime reinterprets old values, as in Redis.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::{Now, LRU_CLOCK_MAX};

/// The counter a new key starts with under LFU (Redis `LFU_INIT_VAL`): new keys are not
/// evicted before they had a chance to be accessed.
pub const LFU_INIT_VAL: u8 = 5;

/// How accesses update a key's 24-bit access field (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessPolicy {
    /// An LFU `maxmemory-policy` is selected: the field is a time + counter.
    pub lfu: bool,
    /// `lfu-log-factor`: larger = the counter grows more slowly.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`, minutes: the counter drops by one per this many idle minutes; 0 =
    /// never decays.
    pub lfu_decay_time_min: u32,
}

impl Default for AccessPolicy {
    /// LRU, with Redis' default LFU tuning (`lfu-log-factor 10`, `lfu-decay-time 1`).
    fn default() -> Self {
        AccessPolicy {
            lfu: false,
            lfu_log_factor: 10,
            lfu_decay_time_min: 1,
        }
    }
}

impl AccessPolicy {
    /// The access field of a key created at `now`.
    pub fn initial(&self, now: Now) -> u32 {
        if self.lfu {
            lfu_pack(lfu_minutes(now.ms), LFU_INIT_VAL)
        } else {
            now.lru
        }
    }

    /// The access field after an access at `now` to a key whose field is `field` (Redis
    /// `updateLFU`, or the LRU clock).
    pub fn on_access(&self, field: u32, now: Now) -> u32 {
        if self.lfu {
            let counter = lfu_decr_and_return(field, now.ms, self.lfu_decay_time_min);
            let counter = lfu_log_incr(counter, self.lfu_log_factor, fastrand::f64());
            lfu_pack(lfu_minutes(now.ms), counter)
        } else {
            now.lru
        }
    }

    /// The access field of a key restored at `now` with saved metadata (Redis
    /// `objectSetLRUOrLFU`, used by RDB loading and `RESTORE ... IDLETIME|FREQ`): under LFU the
    /// saved counter `freq` is kept, under LRU the key is made `idle_secs` seconds idle; metadata
    /// for the other kind of policy is ignored and the key starts as new.
    pub fn restored(&self, now: Now, idle_secs: Option<u64>, freq: Option<u8>) -> u32 {
        match (self.lfu, idle_secs, freq) {
            (true, _, Some(f)) => lfu_pack(lfu_minutes(now.ms), f),
            (false, Some(idle), _) => {
                let idle = (idle.min(u64::from(LRU_CLOCK_MAX))) as u32;
                if now.lru >= idle {
                    now.lru - idle
                } else {
                    LRU_CLOCK_MAX - (idle - now.lru)
                }
            }
            _ => self.initial(now),
        }
    }

    /// The `(idle seconds, LFU counter)` an RDB file or DUMP records for a key whose access
    /// field is `field`: idle seconds under LRU, the decayed counter under LFU (Redis
    /// `rdbSaveKeyValuePair`).
    pub fn saved(&self, field: u32, now: Now) -> (Option<u64>, Option<u8>) {
        if self.lfu {
            (
                None,
                Some(lfu_decr_and_return(field, now.ms, self.lfu_decay_time_min)),
            )
        } else {
            (Some(now.idle_ms(field) / 1000), None)
        }
    }

    fn pack(self) -> u64 {
        (u64::from(self.lfu) << 63)
            | (u64::from(self.lfu_decay_time_min.min(i32::MAX as u32)) << 32)
            | u64::from(self.lfu_log_factor)
    }

    fn unpack(v: u64) -> AccessPolicy {
        AccessPolicy {
            lfu: v >> 63 != 0,
            lfu_decay_time_min: ((v >> 32) as u32) & 0x7fff_ffff,
            lfu_log_factor: v as u32,
        }
    }
}

/// An [`AccessPolicy`] in one atomic word, read once per command by every guard.
#[derive(Debug)]
pub(crate) struct AtomicAccessPolicy(AtomicU64);

impl AtomicAccessPolicy {
    pub(crate) fn new(p: AccessPolicy) -> Self {
        AtomicAccessPolicy(AtomicU64::new(p.pack()))
    }

    pub(crate) fn load(&self) -> AccessPolicy {
        AccessPolicy::unpack(self.0.load(Ordering::Relaxed))
    }

    pub(crate) fn store(&self, p: AccessPolicy) {
        self.0.store(p.pack(), Ordering::Relaxed);
    }
}

/// Unix minutes modulo 2^16 (Redis `LFUGetTimeInMinutes`).
pub fn lfu_minutes(now_ms: u64) -> u16 {
    ((now_ms / 60_000) & 0xffff) as u16
}

/// Minutes since `then` on the 16-bit minute clock, wrapping once (Redis `LFUTimeElapsed`).
pub fn lfu_time_elapsed(then: u16, now_ms: u64) -> u64 {
    let now = lfu_minutes(now_ms);
    if now >= then {
        u64::from(now - then)
    } else {
        65535 - u64::from(then) + u64::from(now)
    }
}

fn lfu_pack(minutes: u16, counter: u8) -> u32 {
    (u32::from(minutes) << 8) | u32::from(counter)
}

/// The LFU counter stored in an access field (no decay applied).
pub fn lfu_counter(field: u32) -> u8 {
    (field & 0xff) as u8
}

/// The LFU counter of `field` at `now_ms`, decayed by one per `decay_time_min` minutes since
/// its last decrement time, without storing it (Redis `LFUDecrAndReturn`; OBJECT FREQ).
pub fn lfu_decr_and_return(field: u32, now_ms: u64, decay_time_min: u32) -> u8 {
    let then = ((field >> 8) & 0xffff) as u16;
    let counter = lfu_counter(field);
    let periods = if decay_time_min == 0 {
        0
    } else {
        lfu_time_elapsed(then, now_ms) / u64::from(decay_time_min)
    };
    if periods >= u64::from(counter) {
        0
    } else {
        counter - periods as u8
    }
}

/// The counter after one access (Redis `LFULogIncr`): +1 with probability
/// `1 / (max(counter - LFU_INIT_VAL, 0) * log_factor + 1)`, saturating at 255. `r` is a
/// uniform random number in `[0, 1)`.
pub fn lfu_log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_incr_saturates_and_grows_logarithmically() {
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
        assert_eq!(
            lfu_log_incr(254, 0, 0.99),
            255,
            "factor 0: always increments"
        );
        assert_eq!(lfu_log_incr(LFU_INIT_VAL, 10, 0.99), LFU_INIT_VAL + 1);
        // Counter 15 with factor 10: p = 1/101.
        assert_eq!(lfu_log_incr(15, 10, 0.5), 15);
        // 1000 accesses with factor 10 reach far less than 255 but clearly above the start
        // (Redis' table in redis.conf: 1K hits ≈ 18 with factor 10), 1M hits saturate with
        // factor 1 (Redis: 255).
        let c = hits_at(1_000, 10);
        assert!((12..=30).contains(&c), "1K hits, factor 10: {c}");
        let c = hits_at(100_000, 10);
        assert!((100..=160).contains(&c), "100K hits, factor 10: {c}");
        assert_eq!(hits_at(1_000_000, 1), 255);
        assert!(hits_at(100, 100) < hits_at(100, 1));
    }

    /// The counter after `n` accesses from [`LFU_INIT_VAL`], with a fixed-seed generator.
    fn hits_at(n: u32, factor: u32) -> u8 {
        let mut rng = fastrand::Rng::with_seed(7);
        (0..n).fold(LFU_INIT_VAL, |c, _| lfu_log_incr(c, factor, rng.f64()))
    }

    #[test]
    fn decay_by_elapsed_minutes_over_decay_time() {
        let t0 = 1_000 * 60_000;
        let field = lfu_pack(lfu_minutes(t0), 20);
        assert_eq!(lfu_decr_and_return(field, t0, 1), 20);
        assert_eq!(lfu_decr_and_return(field, t0 + 59_999, 1), 20);
        assert_eq!(lfu_decr_and_return(field, t0 + 5 * 60_000, 1), 15);
        assert_eq!(lfu_decr_and_return(field, t0 + 10 * 60_000, 2), 15);
        assert_eq!(lfu_decr_and_return(field, t0 + 100 * 60_000, 1), 0);
        assert_eq!(
            lfu_decr_and_return(field, t0 + 100 * 60_000, 0),
            20,
            "0 = no decay"
        );
        // The 16-bit minute clock wraps.
        let late = lfu_pack(65534, 9);
        let wrapped_now = (65536 + 2) * 60_000;
        assert_eq!(lfu_time_elapsed(65534, wrapped_now), 3);
        assert_eq!(lfu_decr_and_return(late, wrapped_now, 1), 6);
    }

    #[test]
    fn policy_initial_and_access() {
        let now = Now::from_unix_ms(3_600_000);
        let lru = AccessPolicy::default();
        assert_eq!(lru.initial(now), now.lru);
        assert_eq!(lru.on_access(0, now), now.lru);
        let lfu = AccessPolicy {
            lfu: true,
            lfu_log_factor: 0,
            lfu_decay_time_min: 1,
        };
        let f = lfu.initial(now);
        assert_eq!(lfu_counter(f), LFU_INIT_VAL);
        let f = lfu.on_access(f, now);
        assert_eq!(lfu_counter(f), LFU_INIT_VAL + 1);
        assert_eq!(f >> 8, u32::from(lfu_minutes(now.ms)));
        assert!(f <= crate::clock::LRU_CLOCK_MAX);
    }

    #[test]
    fn atomic_round_trip() {
        let p = AccessPolicy {
            lfu: true,
            lfu_log_factor: u32::MAX >> 1,
            lfu_decay_time_min: 12345,
        };
        let a = AtomicAccessPolicy::new(AccessPolicy::default());
        assert_eq!(a.load(), AccessPolicy::default());
        a.store(p);
        assert_eq!(a.load(), p);
    }
}
