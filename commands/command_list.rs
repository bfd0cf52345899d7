//! COMMAND LIST [FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]
//!
//! The full names of all commands and subcommands, optionally only those of a module (we have
//! none), of an ACL category, or matching a glob pattern.

use crate::prelude::*;

register_command!("command-list", command_list);

fn command_list(ctx: &mut Ctx, args: &Args) -> CommandResult {
    // Redis reads FILTERBY at a fixed position, so giving it twice is a syntax error.
    if args.count("filterby") > 1 {
        return Err(CommandError::Syntax);
    }
    let keep: Box<dyn Fn(&Command) -> bool> = match args.oneof("filterby") {
        // Commands that belong to a module: this server loads no modules.
        Some("module-name") => Box::new(|_| false),
        Some("category") => {
            let wanted = args.bytes("category").to_ascii_uppercase();
            Box::new(move |c| {
                introspect::acl_categories(c)
                    .iter()
                    .any(|cat| cat.as_bytes() == wanted.as_slice())
            })
        }
        Some("pattern") => {
            let pattern = args.bytes("pattern").clone();
            Box::new(move |c| glob_match(&pattern, c.full_name.as_bytes(), true))
        }
        _ => Box::new(|_| true),
    };
    let mut names = Vec::new();
    for command in ctx.table.commands() {
        for c in std::iter::once(command).chain(introspect::sorted_subcommands(command)) {
            if keep(c) {
                names.push(Reply::Bulk(Bytes::copy_from_slice(c.full_name.as_bytes())));
            }
        }
    }
    Ok(Reply::Array(names))
}
