//! The bitmap commands (group `Bitmap`).

use super::*;
use crate::cmd::bitmaps as b;

const A_BM_W: Acl = A_W.with(Acl::BITMAP);
const A_BM_R: Acl = A_R.with(Acl::BITMAP);
const BYTE_BIT_HISTORY: &[(&str, &str)] = &[("7.0.0", "Added the `BYTE|BIT` option.")];
const BITFIELD_KEYS: &[K] = &[K::one(1, &["RW", "access", "update", "variable_flags"])
    .note("This command allows both access and modification of the key")];
const BITOP_KEYS: &[K] = &[K::one(2, OW_UP), K::range(3, -1, 1, RO_AC)];
const FIELD_COMPLEXITY: &str = "O(1) for each subcommand.";
const BITFIELD_SYNTAX: &str = "key [(GET encoding offset){encoding_offset} \
     | <[OVERFLOW (WRAP | SAT | FAIL)]{wrap_sat_fail} \
     ((SET encoding offset value:integer){encoding_offset_value} \
     | (INCRBY encoding offset increment){encoding_offset_increment}){write_operation}>{write}]\
     {operation}...";

/// The bitmap commands.
pub static COMMANDS: &[C] = &[
    C::new(
        "setbit",
        4,
        DW,
        A_BM_W.with(A_S),
        Group::Bitmap,
        "2.2.0",
        O1,
        "Sets or clears one bit of a string, growing it as needed; returns the old bit.",
        "key offset value:integer",
        Some(b::setbit),
    )
    .keys(KEY1_RW_AC_UP),
    C::new(
        "getbit",
        3,
        R.with(F),
        A_BM_R.with(A_F),
        Group::Bitmap,
        "2.2.0",
        O1,
        "Returns one bit of a string (0 past its end).",
        "key offset",
        Some(b::getbit),
    )
    .keys(KEY1_RO_AC),
    C::new(
        "bitcount",
        -2,
        R,
        A_BM_R.with(A_S),
        Group::Bitmap,
        "2.6.0",
        "O(N) for N bytes counted.",
        "Counts the set bits of a string, or of a byte or bit range of it.",
        "key [start end [BYTE | BIT]{index_unit}^7.0.0]{index}",
        Some(b::bitcount),
    )
    .history(BYTE_BIT_HISTORY)
    .keys(KEY1_RO_AC),
    C::new(
        "bitpos",
        -3,
        R,
        A_BM_R.with(A_S),
        Group::Bitmap,
        "2.8.7",
        "O(N) for N bytes scanned.",
        "Finds the first set or clear bit of a string, or of a byte or bit range of it.",
        "key bit:integer [start [end [BYTE | BIT]{index_unit}^7.0.0]{end_index}]{index}",
        Some(b::bitpos),
    )
    .history(BYTE_BIT_HISTORY)
    .keys(KEY1_RO_AC),
    C::new(
        "bitop",
        -4,
        DW,
        A_BM_W.with(A_S),
        Group::Bitmap,
        "2.6.0",
        "O(N) for N bytes in the longest source.",
        "Combines strings bit by bit (AND, OR, XOR, NOT) and stores the result.",
        "operation destkey:key key:key...",
        Some(b::bitop),
    )
    .keys(BITOP_KEYS),
    C::new(
        "bitfield",
        -2,
        DW,
        A_BM_W.with(A_S),
        Group::Bitmap,
        "3.2.0",
        FIELD_COMPLEXITY,
        "Reads, sets and increments integer fields of any width at any bit offset of a string.",
        BITFIELD_SYNTAX,
        Some(b::bitfield),
    )
    .keys(BITFIELD_KEYS),
    C::new(
        "bitfield_ro",
        -2,
        R.with(F),
        A_BM_R.with(A_F),
        Group::Bitmap,
        "6.0.0",
        FIELD_COMPLEXITY,
        "Reads integer fields of a string (the read-only BITFIELD).",
        "key [GET encoding offset]{encoding_offset}....",
        Some(b::bitfield_ro),
    )
    .keys(KEY1_RO_AC),
];
