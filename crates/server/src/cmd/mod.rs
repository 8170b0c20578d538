//! Command handlers, one module per command family.
//!
//! The typed lookups below are how handlers reach aggregate values: each answers `WRONGTYPE`
//! when the key holds another type, so no handler matches on [`Value`] itself. They also publish
//! the key-level keyspace events: `keymiss` when a read lookup misses, `new` when a key is
//! created, `del` when [`delete_if_empty`] removes an emptied key.

pub mod bitmaps;
pub mod blocking_pops;
pub mod connection;
pub mod hashes;
pub mod hll;
pub mod introspect;
pub mod keys;
pub mod lists;
pub mod memory;
pub mod persistence;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod strings;
pub mod transactions;
pub mod zsets;

#[cfg(test)]
mod tests;

use ferrodis_keyspace::{Hash, List, Set, Value, ValueMut, ValueRef, ZSet};

use crate::command::Ctx;
use crate::error::CommandError;
use crate::notify::class;

macro_rules! typed_access {
    ($variant:ident, $ty:ty, $wrap:path, $read:ident, $write:ident, $create:ident, $name:literal) => {
        #[doc = concat!("Looks `key` up for reading (`lookupKeyRead`): the ", $name,
                            ", `None` when missing, `WRONGTYPE` when the key holds another type.")]
        pub fn $read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a $ty>, CommandError> {
            let db = ctx.db();
            let server = ctx.server;
            let miss_on = ctx.pre_expire(class::KEY_MISS, key)?;
            match ctx.ks.lookup_read(db, key)? {
                None => {
                    if miss_on {
                        server.notify_keyspace_event(class::KEY_MISS, "keymiss", key, db);
                    }
                    Ok(None)
                }
                Some(e) => match e.value() {
                    ValueRef::$variant(v) => Ok(Some(v)),
                    _ => Err(CommandError::WrongType),
                },
            }
        }

        #[doc = concat!("Looks `key` up for writing (`lookupKeyWrite`): the ", $name,
                            ", `None` when missing, `WRONGTYPE` when the key holds another type.")]
        pub fn $write<'a>(
            ctx: &'a mut Ctx,
            key: &[u8],
        ) -> Result<Option<&'a mut $ty>, CommandError> {
            let db = ctx.db();
            match ctx.ks.lookup_write(db, key)? {
                None => Ok(None),
                Some(e) => match e.into_value_mut() {
                    ValueMut::$variant(v) => Ok(Some(v)),
                    _ => Err(CommandError::WrongType),
                },
            }
        }

        #[doc = concat!("The ", $name, " at `key` for writing, created with `make` when the key ",
                            "is missing; `WRONGTYPE` when it holds another type.")]
        pub fn $create<'a>(
            ctx: &'a mut Ctx,
            key: &[u8],
            make: impl FnOnce() -> $ty,
        ) -> Result<&'a mut $ty, CommandError> {
            let db = ctx.db();
            let server = ctx.server;
            let new_on = ctx.pre_expire(class::NEW, key)?;
            let (e, created) = ctx
                .ks
                .lookup_write_or_add(db, key, || Value::$variant($wrap(make())))?;
            if created && new_on {
                server.notify_keyspace_event(class::NEW, "new", key, db);
            }
            match e.into_value_mut() {
                ValueMut::$variant(v) => Ok(v),
                _ => Err(CommandError::WrongType),
            }
        }
    };
}

typed_access!(
    List,
    List,
    Box::new,
    read_list,
    write_list,
    list_or_create,
    "list"
);
typed_access!(
    Hash,
    Hash,
    inline,
    read_hash,
    write_hash,
    hash_or_create,
    "hash"
);
typed_access!(Set, Set, inline, read_set, write_set, set_or_create, "set");
typed_access!(
    ZSet,
    ZSet,
    inline,
    read_zset,
    write_zset,
    zset_or_create,
    "sorted set"
);

/// Hashes, sets and sorted sets are stored inline in [`Value`] (no box).
fn inline<T>(v: T) -> T {
    v
}

/// Deletes `key` when `empty` (an aggregate left with no elements is removed, as Redis does
/// after LPOP, HDEL, SREM, ZREM ...), publishing `del`: call it after the command's own event.
/// Returns whether it was deleted.
pub fn delete_if_empty(ctx: &mut Ctx, key: &[u8], empty: bool) -> Result<bool, CommandError> {
    if empty {
        ctx.delete_key(key)
    } else {
        Ok(false)
    }
}
