//! The generic dispatcher: command lookup, arity, argument validation against the spec, then
//! the handler. Every error it produces is Redis's exact text.

use bytes::Bytes;

use crate::args::{Args, Rules};
use crate::context::Ctx;
use crate::error::CommandError;
use crate::registry::{Command, CommandTable};
use crate::reply::Reply;
use crate::spec::TooMany;

/// How many characters of a name or of the arguments an unknown-command error quotes.
const QUOTE_LIMIT: usize = 128;

/// Redis's refusal of writes after a failed background save (`stop-writes-on-bgsave-error`).
pub const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

/// Run one request (`argv[0]` is the command name) and produce its reply.
pub fn dispatch(
    table: &'static CommandTable,
    ctx: &mut Ctx<'_>,
    argv: &[Bytes],
) -> (Reply, Resolved) {
    // Redis answers QUIT before looking anything up: with any arguments, and before AUTH.
    if argv
        .first()
        .is_some_and(|name| name.eq_ignore_ascii_case(b"quit"))
    {
        ctx.client.close_after_reply = true;
        ctx.client.last_cmd = Some("quit");
        let found = table
            .get(b"quit")
            .map_or(Resolved::Unknown, Resolved::Command);
        return (Reply::ok(), found);
    }
    let resolved = resolve(table, argv);
    ctx.client.last_cmd = resolved
        .as_ref()
        .ok()
        .map(|(command, _)| command.full_name.as_str());
    let mut found = Resolved::from(&resolved);
    let mut rejected = None;
    let reply = match resolved.and_then(|(command, skip)| {
        let handler = command
            .handler
            .expect("resolve only returns commands with handlers");
        // Redis's order: unknown command and arity first (in `resolve`), then the guard on
        // protected commands, then authentication, then the command's own syntax.
        if let Some(refusal) = protected_refusal(command, ctx) {
            return Err(refusal);
        }
        if ctx.auth_required() && !allowed_without_auth(command) {
            rejected = Some(command);
            return Err(CommandError::Custom(
                "NOAUTH Authentication required.".into(),
            ));
        }
        // Then `maxmemory`: evictions run before every command, and when memory stays over
        // the limit, commands that may grow it are refused before their syntax is looked at.
        if ctx.out_of_memory() && is_denyoom(command) {
            rejected = Some(command);
            return Err(CommandError::Custom(
                "OOM command not allowed when used memory > 'maxmemory'.".into(),
            ));
        }
        // The last background save failed and stop-writes-on-bgsave-error is on: writes (and
        // PING, as Redis does) are refused before their syntax is looked at.
        if ctx.settings.misconf_armed
            && (command.flags.write || command.full_name == "ping")
            && ctx.persistence.last_bgsave_failed()
        {
            rejected = Some(command);
            return Err(CommandError::Custom(MISCONF.into()));
        }
        // Then replication's refusals: NOREPLICAS, READONLY, MASTERDOWN.
        if let Some(refusal) = replication_refusal(command, ctx) {
            rejected = Some(command);
            return Err(refusal);
        }
        let too_many = || match command.spec.too_many_error {
            None => CommandError::WrongArity(command.full_name.clone()),
            Some(TooMany::Syntax) => CommandError::Syntax,
            // Redis names the subcommand as typed and the container in upper case.
            Some(TooMany::Subcommand) => CommandError::err(format_args!(
                "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
                String::from_utf8_lossy(quote_text(&argv[skip - 1], QUOTE_LIMIT)),
                command
                    .full_name
                    .split('|')
                    .next()
                    .unwrap_or_default()
                    .to_uppercase(),
            )),
        };
        let rules = Rules {
            too_many: &too_many,
            unknown_option: command.spec.unknown_option_error.as_deref(),
            check: command.check,
            numbers_as_read: command.spec.numbers_as_read,
        };
        let args = if command.spec.free_arguments {
            Args::unmatched(&command.args, &argv[skip..])
        } else {
            Args::parse(&command.args, &argv[skip..], &rules)?
        };
        handler(ctx, &args)
    }) {
        Ok(reply) => reply,
        Err(err) => Reply::Error(err),
    };
    if let Some(command) = rejected {
        found = Resolved::Rejected(command);
    }
    (reply, found)
}

impl Resolved {
    fn from(resolved: &Result<(&'static Command, usize), CommandError>) -> Resolved {
        match resolved {
            Ok((command, _)) => Resolved::Command(command),
            Err(CommandError::WrongArity(name)) => Resolved::ArityRejected(name.clone()),
            Err(_) => Resolved::Unknown,
        }
    }
}

/// What a request names, looked up on its own (used only when a handler panicked, since the
/// dispatcher's own answer was lost with the panic).
pub fn resolved(table: &'static CommandTable, argv: &[Bytes]) -> Resolved {
    Resolved::from(&resolve(table, argv))
}

/// What the dispatcher found for a request, handed back with the reply so that the caller can
/// count the request (INFO commandstats, SLOWLOG) without looking the command up again.
#[derive(Debug)]
pub enum Resolved {
    /// The command (or subcommand) that ran.
    Command(&'static Command),
    /// A known command refused for its number of arguments (its full name).
    ArityRejected(String),
    /// A known command refused before it ran (NOAUTH, OOM, MISCONF): Redis counts it as
    /// rejected.
    Rejected(&'static Command),
    /// No such command or subcommand.
    Unknown,
}

/// Find the command to run and how many words name it (1, or 2 for a subcommand), checking
/// arity on the way exactly in Redis's order: unknown command, container arity, unknown
/// subcommand, then the subcommand's own arity.
pub fn resolve<'t>(
    table: &'t CommandTable,
    argv: &[Bytes],
) -> Result<(&'t Command, usize), CommandError> {
    let name = argv.first().map(|b| &b[..]).unwrap_or_default();
    let command = table.get(name).ok_or_else(|| unknown_command(argv))?;
    check_arity(command, argv.len())?;
    // A command with subcommands routes on its second word when there is one; bare, it runs
    // its own handler (COMMAND) or has already failed its arity check (CONFIG).
    if command.subcommands.is_empty() || argv.len() < 2 {
        return Ok((command, 1));
    }
    let sub_name = &argv[1];
    let sub = command
        .subcommand(sub_name)
        .ok_or_else(|| CommandError::UnknownSubcommand {
            sub: quote_text(sub_name, QUOTE_LIMIT).to_vec(),
            container: command.name.to_uppercase(),
        })?;
    check_arity(sub, argv.len())?;
    Ok((sub, 2))
}

/// NOREPLICAS, READONLY and MASTERDOWN, which Redis checks after MISCONF and before the
/// command's own syntax. The spec's flags decide: WRITE commands are refused on a read-only
/// replica, commands without STALE while the link to the master is down.
fn replication_refusal(command: &Command, ctx: &Ctx<'_>) -> Option<CommandError> {
    // On a master only writes can be refused (NOREPLICAS): reads cost one atomic load here.
    if !ctx.replication.is_replica()
        && (!command.flags.write || ctx.settings.min_replicas_to_write == 0)
    {
        return None;
    }
    ctx.replication.refuse(
        &ctx.config(),
        ctx.client.from_master,
        command.flags.write,
        command.flags.stale,
    )
}

/// Commands flagged PROTECTED (DEBUG) run only as `enable-<name>-command` allows: `yes`, or
/// `local` for a client connected over loopback. Redis refuses the rest with this text, before
/// it asks for authentication.
fn protected_refusal(command: &Command, ctx: &Ctx<'_>) -> Option<CommandError> {
    if !command.flags.protected {
        return None;
    }
    let allowed = match ctx.config().enable_debug_command() {
        "yes" => true,
        "local" => ctx.client.local,
        _ => false,
    };
    if allowed {
        return None;
    }
    Some(CommandError::err(format_args!(
        "{} command not allowed. If the enable-{}-command option is set to \"local\", you can \
         run it from a local connection, otherwise you need to set this option in the \
         configuration file, and then restart the server.",
        command.name.to_uppercase(),
        command.name,
    )))
}

/// Commands flagged DENYOOM: refused while memory is over `maxmemory`.
fn is_denyoom(command: &Command) -> bool {
    command.flags.denyoom
}

/// Commands flagged NO_AUTH in their spec (AUTH, HELLO, QUIT, RESET) run before AUTH.
fn allowed_without_auth(command: &Command) -> bool {
    command.flags.no_auth
}

/// Redis's arity rule: positive means exactly that many words, negative at least that many.
pub fn arity_ok(command: &Command, argc: usize) -> bool {
    let arity = i64::from(command.spec.arity);
    let argc = i64::try_from(argc).unwrap_or(i64::MAX);
    if arity >= 0 {
        argc == arity
    } else {
        argc >= -arity
    }
}

fn check_arity(command: &Command, argc: usize) -> Result<(), CommandError> {
    if arity_ok(command, argc) {
        Ok(())
    } else {
        Err(CommandError::WrongArity(command.full_name.clone()))
    }
}

/// `ERR unknown command 'NAME', with args beginning with: 'a' 'b' `: the name cut at 128
/// bytes, then arguments quoted one by one while fewer than 128 characters have been written,
/// each cut to what is left of those 128.
fn unknown_command(argv: &[Bytes]) -> CommandError {
    let name = argv.first().map(|b| &b[..]).unwrap_or_default();
    let mut args = Vec::new();
    for arg in argv.iter().skip(1) {
        if args.len() >= QUOTE_LIMIT {
            break;
        }
        let room = QUOTE_LIMIT - args.len();
        args.push(b'\'');
        args.extend_from_slice(quote_text(arg, room));
        args.extend_from_slice(b"' ");
    }
    CommandError::UnknownCommand {
        name: quote_text(name, QUOTE_LIMIT).to_vec(),
        args,
    }
}

/// Text of a client-supplied word for an error message: Redis formats it with `%.Ns`, so it
/// stops at a NUL byte and after `limit` bytes.
fn quote_text(word: &[u8], limit: usize) -> &[u8] {
    let end = word
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(word.len())
        .min(limit);
    &word[..end]
}
