//! The COMMAND family: introspection driven by the command table.
//!
//! ```text
//! COMMAND | COMMAND COUNT | COMMAND INFO [name ...] | COMMAND DOCS [name ...] |
//! COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p] | COMMAND GETKEYS cmd [arg ...] |
//! COMMAND GETKEYSANDFLAGS cmd [arg ...] | COMMAND HELP
//! ```

use bytes::Bytes;
use ferrodis_keyspace::glob::glob_match;
use ferrodis_resp::Frame;

use crate::cmd::connection::help_reply;
use crate::command::args::eq_ic;
use crate::command::docs::{command_docs as docs_frame, command_info as info_frame};
use crate::command::{Acl, Ctx, KeySpec};
use crate::error::{CommandError, Reply};

/// `COMMAND`: the `COMMAND INFO` entry of every command.
pub fn command(ctx: &mut Ctx) -> Reply {
    let t = &ctx.server.commands;
    Ok(Frame::Array(
        t.top_level().map(|(i, _)| info_frame(t, i)).collect(),
    ))
}

/// `COMMAND COUNT`: number of top-level commands.
pub fn command_count(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Integer(
        ctx.server.commands.top_level().count() as i64
    ))
}

/// `COMMAND INFO [name ...]`: one entry per name (null for unknown names); all when none given.
pub fn command_info(ctx: &mut Ctx) -> Reply {
    if ctx.args.len() == 2 {
        return command(ctx);
    }
    let t = &ctx.server.commands;
    Ok(Frame::Array(
        ctx.args[2..]
            .iter()
            .map(|n| t.lookup_full(n).map_or(Frame::Null, |i| info_frame(t, i)))
            .collect(),
    ))
}

/// `COMMAND DOCS [name ...]`: a map of name to documentation; unknown names are skipped.
pub fn command_docs(ctx: &mut Ctx) -> Reply {
    let t = &ctx.server.commands;
    let entries: Vec<usize> = if ctx.args.len() == 2 {
        t.top_level().map(|(i, _)| i).collect()
    } else {
        ctx.args[2..]
            .iter()
            .filter_map(|n| t.lookup_full(n))
            .collect()
    };
    Ok(Frame::Map(
        entries
            .into_iter()
            .map(|i| {
                (
                    Frame::bulk_from_slice(t.entry(i).full_name.as_bytes()),
                    docs_frame(t, i),
                )
            })
            .collect(),
    ))
}

/// `COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]`: names, subcommands included.
pub fn command_list(ctx: &mut Ctx) -> Reply {
    enum Filter {
        All,
        None,
        Acl(Acl),
        Pattern(Bytes),
    }
    let filter = match &ctx.args[2..] {
        [] => Filter::All,
        [by, kind, value] if eq_ic(by, "filterby") => {
            if eq_ic(kind, "module") {
                Filter::None
            } else if eq_ic(kind, "aclcat") {
                match Acl::ALL.iter().find(|(_, n)| eq_ic(value, n)) {
                    Some((a, _)) => Filter::Acl(*a),
                    None => Filter::None,
                }
            } else if eq_ic(kind, "pattern") {
                Filter::Pattern(value.clone())
            } else {
                return Err(CommandError::Syntax);
            }
        }
        _ => return Err(CommandError::Syntax),
    };
    let names = ctx
        .server
        .commands
        .entries()
        .iter()
        .filter(|e| match &filter {
            Filter::All => true,
            Filter::None => false,
            Filter::Acl(a) => e.spec.acl.has(*a),
            Filter::Pattern(p) => glob_match(p, e.full_name.as_bytes(), true),
        })
        .map(|e| Frame::bulk_from_slice(e.full_name.as_bytes()))
        .collect();
    Ok(Frame::Array(names))
}

/// Resolves the command line after `COMMAND GETKEYS` and returns its key specs' keys.
fn keys_of<'a>(ctx: &'a Ctx) -> Result<Vec<(&'a Bytes, &'static KeySpec)>, CommandError> {
    let line = &ctx.args[2..];
    let t = &ctx.server.commands;
    let idx = t
        .resolve(line)
        .ok_or(CommandError::msg("ERR Invalid command specified"))?;
    let spec = t.entry(idx).spec;
    if !spec.arity_ok(line.len()) {
        return Err(CommandError::msg(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys: Vec<_> = spec
        .key_positions(line)
        .keys
        .into_iter()
        .filter_map(|i| Some((line.get(i)?, spec.spec_for_position(line, i)?)))
        .collect();
    if keys.is_empty() {
        return Err(CommandError::msg("ERR The command has no key arguments"));
    }
    Ok(keys)
}

/// `COMMAND GETKEYS command [arg ...]`.
pub fn command_getkeys(ctx: &mut Ctx) -> Reply {
    Ok(Frame::Array(
        keys_of(ctx)?
            .into_iter()
            .map(|(k, _)| Frame::Bulk(k.clone()))
            .collect(),
    ))
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]`: `[[key, [flags...]], ...]`. Key specs with
/// `variable_flags` are resolved for the actual arguments, as Redis does.
pub fn command_getkeysandflags(ctx: &mut Ctx) -> Reply {
    let line = &ctx.args[2..];
    Ok(Frame::Array(
        keys_of(ctx)?
            .into_iter()
            .map(|(k, spec)| {
                let flags = resolve_variable_flags(line, spec.flags);
                Frame::Array(vec![
                    Frame::Bulk(k.clone()),
                    Frame::Set(flags.iter().map(|f| Frame::simple(f)).collect()),
                ])
            })
            .collect(),
    ))
}

/// The flags a `variable_flags` key spec has for this command line: SET reads the old value
/// only with GET (`RW access update`), otherwise it just overwrites (`OW update`).
fn resolve_variable_flags(
    line: &[Bytes],
    flags: &'static [&'static str],
) -> &'static [&'static str] {
    if !flags.contains(&"variable_flags") {
        return flags;
    }
    let is_set = line.first().is_some_and(|c| eq_ic(c, "set"));
    if is_set {
        if line.iter().skip(3).any(|a| eq_ic(a, "get")) {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        }
    } else {
        flags
    }
}

/// `COMMAND HELP`.
pub fn command_help(_ctx: &mut Ctx) -> Reply {
    help_reply(
        "COMMAND",
        &[
            "(no subcommand)",
            "    Reply with details about every command.",
            "COUNT",
            "    Reply with the number of commands.",
            "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]",
            "    Reply with the names of the commands, optionally filtered.",
            "INFO [<command-name> ...]",
            "    Reply with details about the named commands, or all.",
            "DOCS [<command-name> ...]",
            "    Reply with documentation for the named commands, or all.",
            "GETKEYS <full-command>",
            "    Reply with the keys of a full command line.",
            "GETKEYSANDFLAGS <full-command>",
            "    Reply with the keys of a full command line and their access flags.",
        ],
    )
}
