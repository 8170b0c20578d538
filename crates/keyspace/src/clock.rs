//! Command time: the wall clock read once per command, as Redis caches `mstime()` per call.
//!
//! Tests inject any time they like through [`Now::from_unix_ms`], so expiry logic is tested on
//! an explicit clock instead of sleeping.

use std::time::{SystemTime, UNIX_EPOCH};

/// Bits of the LRU clock (Redis `LRU_BITS`).
pub const LRU_BITS: u32 = 24;
/// Largest LRU clock value (Redis `LRU_CLOCK_MAX`).
pub const LRU_CLOCK_MAX: u32 = (1 << LRU_BITS) - 1;

/// The time a command runs at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Unix time in milliseconds.
    pub ms: u64,
    /// LRU clock: Unix seconds modulo 2^24 (Redis `LRU_CLOCK` with 1000 ms resolution).
    pub lru: u32,
}

impl Now {
    /// The time `ms` (Unix milliseconds).
    pub fn from_unix_ms(ms: u64) -> Now {
        Now {
            ms,
            lru: ((ms / 1000) as u32) & LRU_CLOCK_MAX,
        }
    }

    /// The current wall-clock time.
    pub fn system() -> Now {
        Now::from_unix_ms(unix_ms())
    }

    /// Estimated idle time in milliseconds of a key last accessed at LRU clock `lru`
    /// (Redis `estimateObjectIdleTime`, wrapping around the 24-bit clock).
    pub fn idle_ms(&self, lru: u32) -> u64 {
        let idle_s = if self.lru >= lru {
            self.lru - lru
        } else {
            self.lru + (LRU_CLOCK_MAX - lru)
        };
        u64::from(idle_s) * 1000
    }
}

/// Current Unix time in milliseconds (0 if the system clock is before 1970).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Current Unix time in microseconds.
pub fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_wraps_like_redis() {
        let now = Now::from_unix_ms(10_000);
        assert_eq!(now.idle_ms(now.lru), 0);
        assert_eq!(now.idle_ms(now.lru - 3), 3000);
        let wrapped = Now { ms: 0, lru: 2 };
        assert_eq!(wrapped.idle_ms(LRU_CLOCK_MAX - 1), 3000);
    }
}
