//! Command registration and the command table.
//!
//! Each module in `commands/` registers itself with one line, [`register_command!`] (or
//! [`register_container!`] for a command that only holds subcommands). The macro embeds the
//! matching `specs/<file>.json` with `include_str!`, so a missing spec is a compile error.
//! At startup [`init`] parses every spec, pairs it with its handler and builds the table the
//! dispatcher looks commands up in; any malformed spec, or a container without its
//! subcommands, stops startup (and fails a test).

use std::sync::OnceLock;

/// Commands by lower-case name, found case-insensitively with no copy of the name and no
/// hashing of it: the lookup runs once per request (twice for a subcommand). An open-address
/// table of entry numbers, placed by a signature of the name's length and first and last
/// letters (case folded); a probe compares the candidate's name ignoring case.
#[derive(Debug, Default)]
pub struct Names {
    entries: Vec<(Box<[u8]>, Command)>,
    /// Entry number + 1 in each slot, 0 for none; a power of two, at least twice the entries.
    slots: Vec<u16>,
}

impl Names {
    /// Where a probe for `name` starts in a table of `size` slots (a power of two): the same
    /// for every spelling of one name. The length and the case-folded first, second and last
    /// bytes, spread over the table by a multiplication (Fibonacci hashing).
    fn start(name: &[u8], size: usize) -> usize {
        let fold = |b: Option<&u8>| u64::from(b.copied().unwrap_or(0) | 0x20);
        let signature = (name.len() as u64) << 24
            | fold(name.first()) << 16
            | fold(name.get(1)) << 8
            | fold(name.last());
        let spread = signature.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (spread >> (64 - size.trailing_zeros())) as usize
    }

    fn position(&self, name: &[u8]) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = Names::start(name, self.slots.len());
        loop {
            let entry = usize::from(self.slots[at]).checked_sub(1)?;
            let key = &self.entries[entry].0;
            // Keys are lower case already: only the client's bytes need folding.
            if key.len() == name.len()
                && key
                    .iter()
                    .zip(name)
                    .all(|(&k, &b)| k == b.to_ascii_lowercase())
            {
                return Some(entry);
            }
            at = (at + 1) & mask;
        }
    }

    /// The command called `name`, in any case.
    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        self.position(name).map(|at| &self.entries[at].1)
    }

    fn get_mut(&mut self, name: &[u8]) -> Option<&mut Command> {
        self.position(name).map(|at| &mut self.entries[at].1)
    }

    /// Add `command` under the lower-case `key`; a command already there is handed back and
    /// the table is unchanged.
    fn insert(&mut self, key: Box<[u8]>, command: Command) -> Option<Command> {
        if self.position(&key).is_some() {
            return Some(command);
        }
        self.entries.push((key, command));
        let size = (self.entries.len() * 2).next_power_of_two().max(2);
        let mut slots = vec![0u16; size];
        for (entry, (name, _)) in self.entries.iter().enumerate() {
            let mut at = Names::start(name, size);
            while slots[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = u16::try_from(entry + 1).expect("fewer than 65,535 commands");
        }
        self.slots = slots;
        None
    }

    pub fn values(&self) -> impl Iterator<Item = &Command> {
        self.entries.iter().map(|(_, command)| command)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

use crate::args::{Args, Check};
use crate::context::Ctx;
use crate::error::CommandError;
use crate::reply::Reply;
use crate::spec::{self, CommandSpec, CompiledArgs, SpecError};

/// What a command handler is: context and validated arguments in, a reply or an error out.
/// Handlers are synchronous and never see the socket.
pub type Handler = fn(&mut Ctx<'_>, &Args<'_>) -> Result<Reply, CommandError>;

/// See [`Registration::key_flags`]: the key-spec flags of one call, from its arguments.
pub type KeyFlags = fn(&Args<'_>) -> &'static [&'static str];

impl Registration {
    /// The fields a registration leaves out (used by the macros' struct update).
    pub const NONE: Registration = Registration {
        file: "",
        spec_json: "",
        check: None,
        key_flags: None,
        handler: None,
    };
}

/// One registration, collected by `inventory` from every command module.
pub struct Registration {
    /// The spec's file stem: `set`, `config-get`.
    pub file: &'static str,
    pub spec_json: &'static str,
    /// Checks between matching and number conversion (see `args::Rules::check`).
    pub check: Option<Check>,
    /// For a command whose key spec has VARIABLE_FLAGS: the flags one call really has, for
    /// COMMAND GETKEYSANDFLAGS (SET is OW without GET and RW ACCESS with it).
    pub key_flags: Option<KeyFlags>,
    /// `None` for a pure container such as CONFIG, which only dispatches to its subcommands.
    /// A command may have both: bare `COMMAND` runs its handler, `COMMAND INFO` a subcommand.
    pub handler: Option<Handler>,
}

inventory::collect!(Registration);

/// Register a command handler together with its spec, `specs/<file>.json`. Optional extras,
/// in any order: `check = function` (run between argument matching and number conversion)
/// and `key_flags = function` (the real key flags of a call, for VARIABLE_FLAGS key specs).
#[macro_export]
macro_rules! register_command {
    ($file:literal, $handler:expr $(, $extra:ident = $value:expr)* $(,)?) => {
        ::inventory::submit! {
            $crate::registry::Registration {
                file: $file,
                spec_json: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/", $file, ".json")),
                handler: Some($handler),
                $($extra: Some($value),)*
                ..$crate::registry::Registration::NONE
            }
        }
    };
}

/// Register a container command (one that only holds subcommands), `specs/<file>.json`.
#[macro_export]
macro_rules! register_container {
    ($file:literal) => {
        ::inventory::submit! {
            $crate::registry::Registration {
                file: $file,
                spec_json: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/", $file, ".json")),
                ..$crate::registry::Registration::NONE
            }
        }
    };
}

/// A command ready to dispatch.
#[derive(Debug)]
pub struct Command {
    /// Lower-case full name: `set`, `config|get`.
    pub full_name: String,
    /// Lower-case own name: `get` for `config|get`.
    pub name: String,
    pub spec: CommandSpec,
    pub args: CompiledArgs,
    pub handler: Option<Handler>,
    pub check: Option<Check>,
    pub key_flags: Option<KeyFlags>,
    /// Subcommands by lower-case name, for containers.
    pub subcommands: Names,
    /// The spec's SKIP_SLOWLOG flag, read once per request.
    pub skip_slowlog: bool,
    /// The spec's flags the request path consults, read once when the table is built.
    pub flags: Flags,
}

/// Command flags the dispatcher and session check on every request, so that no request scans
/// the spec's flag strings.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    /// WRITE: changes the dataset (refused on MISCONF; replicated).
    pub write: bool,
    /// DENYOOM: refused while memory is over `maxmemory`.
    pub denyoom: bool,
    /// PROTECTED: allowed only as `enable-<name>-command` says (DEBUG).
    pub protected: bool,
    /// NO_AUTH: runs before authentication (AUTH, HELLO, QUIT, RESET).
    pub no_auth: bool,
    /// FAST: recorded as a `fast-command` latency event rather than `command`.
    pub fast: bool,
    /// STALE: allowed on a replica whose master link is down (replica-serve-stale-data no).
    pub stale: bool,
}

impl Flags {
    fn from_spec(flags: &[String]) -> Flags {
        let has = |name: &str| flags.iter().any(|f| f == name);
        Flags {
            write: has("WRITE"),
            denyoom: has("DENYOOM"),
            protected: has("PROTECTED"),
            no_auth: has("NO_AUTH"),
            fast: has("FAST"),
            stale: has("STALE"),
        }
    }
}

/// All commands, keyed by lower-case name.
#[derive(Debug, Default)]
pub struct CommandTable {
    commands: Names,
}

impl CommandTable {
    /// Build the table from the given registrations (all of `inventory`'s in production).
    pub fn build<'r>(
        registrations: impl IntoIterator<Item = &'r Registration>,
    ) -> Result<CommandTable, SpecError> {
        let mut top = Names::default();
        let mut subs = Vec::new();
        for reg in registrations {
            let parsed = spec::parse(reg.file, reg.spec_json)?;
            let fail = |message: String| SpecError {
                file: reg.file.to_string(),
                message,
            };
            let is_container = reg.handler.is_none();
            if is_container && parsed.spec.arity > -2 {
                return Err(fail(
                    "field 'arity': a container without a handler needs an arity of -2 or less"
                        .into(),
                ));
            }
            if is_container && !parsed.spec.arguments.is_empty() {
                return Err(fail(
                    "a container command has no 'arguments' of its own".into(),
                ));
            }
            let skip_slowlog = parsed
                .spec
                .command_flags
                .iter()
                .any(|f| f == "SKIP_SLOWLOG");
            let flags = Flags::from_spec(&parsed.spec.command_flags);
            let command = Command {
                flags,
                args: CompiledArgs::compile(&parsed.spec.arguments),
                full_name: parsed.full_name,
                name: parsed.name,
                spec: parsed.spec,
                handler: reg.handler,
                check: reg.check,
                key_flags: reg.key_flags,
                subcommands: Names::default(),
                skip_slowlog,
            };
            match command.spec.container.clone() {
                Some(container) => subs.push((container.to_lowercase(), command)),
                None => {
                    let key: Box<[u8]> = command.name.as_bytes().into();
                    if top.insert(key, command).is_some() {
                        return Err(fail("the command is registered twice".into()));
                    }
                }
            }
        }
        for (container, command) in subs {
            let file = command.full_name.replace('|', "-");
            let parent: &mut Command =
                top.get_mut(container.as_bytes()).ok_or_else(|| SpecError {
                    file: file.clone(),
                    message: format!("field 'container' names '{container}', which has no spec"),
                })?;
            let key: Box<[u8]> = command.name.as_bytes().into();
            parent.subcommands.insert(key, command);
        }
        if let Some(empty) = top
            .values()
            .find(|c| c.handler.is_none() && c.subcommands.is_empty())
        {
            return Err(SpecError {
                file: empty.full_name.clone(),
                message: "a container needs at least one subcommand".into(),
            });
        }
        Ok(CommandTable { commands: top })
    }

    /// A top-level command by name, case-insensitively.
    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        self.commands.get(name)
    }

    /// Every top-level command, sorted by name so replies do not depend on hashing.
    pub fn commands(&self) -> Vec<&Command> {
        let mut all: Vec<&Command> = self.commands.values().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// A command or subcommand by its full name (`get`, `config|get`), case-insensitively.
    pub fn get_full(&self, full_name: &[u8]) -> Option<&Command> {
        match full_name.iter().position(|&b| b == b'|') {
            None => self.get(full_name),
            Some(bar) => self
                .get(&full_name[..bar])?
                .subcommand(&full_name[bar + 1..]),
        }
    }

    /// Number of top-level commands (what COMMAND COUNT reports).
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

impl Command {
    /// A subcommand of this container by name, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&Command> {
        self.subcommands.get(name)
    }
}

static TABLE: OnceLock<CommandTable> = OnceLock::new();

/// Build the command table from every registration. Called once at startup; an error names the
/// spec file at fault.
pub fn init() -> Result<&'static CommandTable, SpecError> {
    if let Some(table) = TABLE.get() {
        return Ok(table);
    }
    let table = CommandTable::build(inventory::iter::<Registration>)?;
    Ok(TABLE.get_or_init(|| table))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command and subcommand is found under its name in any case, and nothing else
    /// is: names one letter off, cut short, lengthened or empty find nothing, whatever slot
    /// their signature starts the probe at.
    #[test]
    fn names_are_found_in_any_case_and_only_them() {
        let table = init().unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for command in table.commands() {
            let mut pairs = vec![(&table.commands, command)];
            pairs.extend(
                command
                    .subcommands
                    .values()
                    .map(|s| (&command.subcommands, s)),
            );
            for (names, wanted) in pairs {
                let name = wanted.name.as_bytes();
                let upper = name.to_ascii_uppercase();
                let mixed: Vec<u8> = name
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if i % 2 == 0 {
                            b.to_ascii_uppercase()
                        } else {
                            *b
                        }
                    })
                    .collect();
                for spelling in [name, &upper[..], &mixed[..]] {
                    let found = names.get(spelling).map(|c| &c.full_name);
                    assert_eq!(found, Some(&wanted.full_name), "{spelling:?}");
                }
                let mut longer = name.to_vec();
                longer.push(b'x');
                let mut changed = name.to_vec();
                changed[0] ^= 0x01;
                for miss in [&name[..name.len() - 1], &longer[..], &changed[..], b""] {
                    if let Some(other) = names.get(miss) {
                        assert!(
                            other.name.as_bytes().eq_ignore_ascii_case(miss),
                            "{miss:?} found {}",
                            other.full_name
                        );
                    }
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} names checked");
    }
}
