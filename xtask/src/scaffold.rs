//! The text that `new-command` writes, as pure functions so they can be unit-tested.

/// What the contributor asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// File stem, lower case with dashes: `strlen`, `config-set`.
    pub name: String,
    pub group: String,
    pub arity: i32,
    pub summary: String,
    pub since: String,
    /// A dashed name that is one top-level command (`restore-asking`), not container-sub.
    pub top_level: bool,
}

const GROUPS: &[&str] = &[
    "generic",
    "string",
    "list",
    "set",
    "sorted_set",
    "hash",
    "pubsub",
    "transactions",
    "connection",
    "server",
    "scripting",
    "hyperloglog",
    "cluster",
    "sentinel",
    "geo",
    "stream",
    "bitmap",
];

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while",
];

impl Options {
    pub fn parse(args: &[&str]) -> Result<Options, String> {
        let (name, rest) = match args {
            [name, rest @ ..] if !name.starts_with("--") => (*name, rest),
            _ => {
                return Err(
                    "new-command needs a NAME, e.g. `cargo xtask new-command strlen --arity 2`"
                        .into(),
                )
            }
        };
        validate_name(name)?;
        let mut options = Options {
            name: name.to_string(),
            group: "generic".into(),
            arity: if name.contains('-') { -2 } else { -1 },
            summary: String::new(),
            since: "7.0.0".into(),
            top_level: false,
        };
        if let Some(at) = rest.iter().position(|a| *a == "--top-level") {
            options.top_level = true;
            let mut others = rest.to_vec();
            others.remove(at);
            return options.finish(&others);
        }
        options.finish(rest)
    }

    fn finish(mut self, mut rest: &[&str]) -> Result<Options, String> {
        let options = &mut self;
        if options.top_level {
            options.arity = -1;
        }
        while let [flag, value, tail @ ..] = rest {
            match *flag {
                "--group" if GROUPS.contains(value) => options.group = value.to_string(),
                "--group" => return Err(format!("--group must be one of: {}", GROUPS.join(", "))),
                "--arity" => {
                    options.arity = value
                        .parse()
                        .map_err(|_| format!("--arity takes an integer, not '{value}'"))?
                }
                "--summary" => options.summary = value.to_string(),
                "--since" => options.since = value.to_string(),
                other => return Err(format!("unknown option '{other}'")),
            }
            rest = tail;
        }
        if let [dangling] = rest {
            return Err(format!("option '{dangling}' needs a value"));
        }
        let words = if options.is_subcommand() { 2 } else { 1 };
        if options.arity == 0 || options.arity.unsigned_abs() < words {
            return Err(format!("--arity counts the command name{}: it must be at least {words} or at most -{words}",
                if words == 2 { " and the subcommand" } else { "" }));
        }
        if options.summary.is_empty() {
            options.summary = format!("Describe what {} does here", options.display_name());
        }
        Ok(self)
    }

    pub fn is_subcommand(&self) -> bool {
        self.name.contains('-') && !self.top_level
    }

    /// (container, subcommand) for a subcommand: split at the first dash, as Redis names its
    /// files (`client-no-evict` is CLIENT NO-EVICT).
    fn parts(&self) -> Option<(&str, &str)> {
        if self.is_subcommand() {
            self.name.split_once('-')
        } else {
            None
        }
    }

    /// The Rust module name: dashes become underscores, keywords are raw identifiers.
    pub fn module_name(&self) -> String {
        let stem = self.name.replace('-', "_");
        if KEYWORDS.contains(&stem.as_str()) {
            format!("r#{stem}")
        } else {
            stem
        }
    }

    /// The file stem of the module (no `r#`).
    pub fn module_file(&self) -> String {
        self.name.replace('-', "_")
    }

    /// `STRLEN`, or `CONFIG SET` for a subcommand.
    pub fn display_name(&self) -> String {
        match self.parts() {
            Some((container, sub)) => {
                format!("{} {}", container.to_uppercase(), sub.to_uppercase())
            }
            None => self.name.to_uppercase(),
        }
    }

    /// Positional arguments implied by the arity: required ones, then a repeated one when the
    /// arity is negative (at least N words).
    fn argument_count(&self) -> usize {
        let words = if self.is_subcommand() { 2 } else { 1 };
        self.arity.unsigned_abs() as usize - words
    }
}

/// Names are lower-case ASCII words joined by dashes: the first dash separates a container
/// from its subcommand (`config-set`, `client-no-evict`) unless `--top-level` says the whole
/// name is one command (`restore-asking`).
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = name.split('-').all(|p| {
        !p.is_empty()
            && p.starts_with(|c: char| c.is_ascii_lowercase())
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{name}' is not a command name: use lower-case letters and digits, with dashes between words (config-set)"
        ))
    }
}

/// The files to create, as (path relative to the repository root, contents).
pub fn files(options: &Options) -> Vec<(String, String)> {
    vec![
        (
            format!("commands/{}.rs", options.module_file()),
            module_text(options),
        ),
        (format!("specs/{}.json", options.name), spec_text(options)),
        (
            format!("tests/cases/{}.txt", options.name),
            case_text(options),
        ),
    ]
}

fn arg_names(options: &Options) -> Vec<String> {
    (1..=options.argument_count())
        .map(|i| format!("arg{i}"))
        .collect()
}

fn syntax(options: &Options) -> String {
    let mut syntax = options.display_name();
    let names = arg_names(options);
    for name in &names {
        syntax.push(' ');
        syntax.push_str(name);
    }
    if options.arity < 0 {
        match names.last() {
            Some(last) => syntax.push_str(&format!(" [{last} ...]")),
            None => syntax.push_str(" [arg ...]"),
        }
    }
    syntax
}

fn module_text(options: &Options) -> String {
    let handler = options.module_file();
    format!(
        r#"//! {syntax}
//!
//! {summary}.

use crate::prelude::*;

register_command!("{name}", {handler});

fn {handler}(_ctx: &mut Ctx, _args: &Args) -> CommandResult {{
    // Read arguments by their spec names (`args.bytes("arg1")`, `args.int(..)`, `args.flag(..)`),
    // use `ctx.db()` for keys, and return the reply Redis gives. Until then this says so.
    Err(CommandError::err("{display} is not written yet"))
}}
"#,
        syntax = syntax(options),
        summary = options.summary.trim_end_matches('.'),
        name = options.name,
        display = options.display_name(),
    )
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn spec_text(options: &Options) -> String {
    let (key, container) = match options.parts() {
        Some((container, sub)) => (
            sub.to_uppercase(),
            format!(
                "\n        \"container\": {},",
                json_string(&container.to_uppercase())
            ),
        ),
        None => (options.name.to_uppercase(), String::new()),
    };
    let names = arg_names(options);
    let mut arguments = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let repeated = options.arity < 0 && i + 1 == names.len();
        let multiple = if repeated { ", \"multiple\": true" } else { "" };
        arguments.push(format!(
            "            {{\"name\": \"{name}\", \"type\": \"string\"{multiple}}}"
        ));
    }
    if options.arity < 0 && names.is_empty() {
        arguments.push("            {\"name\": \"arg\", \"type\": \"string\", \"optional\": true, \"multiple\": true}".to_string());
    }
    let arguments = if arguments.is_empty() {
        String::new()
    } else {
        format!(
            ",\n        \"arguments\": [\n{}\n        ]",
            arguments.join(",\n")
        )
    };
    format!(
        r#"{{
    "{key}": {{
        "summary": {summary},
        "complexity": "O(1)",
        "group": "{group}",
        "since": "{since}",
        "arity": {arity},{container}
        "command_flags": [],
        "acl_categories": []{arguments}
    }}
}}
"#,
        summary = json_string(&options.summary),
        group = options.group,
        since = options.since,
        arity = options.arity,
    )
}

fn case_text(options: &Options) -> String {
    let example: Vec<String> = std::iter::once(options.display_name())
        .chain(arg_names(options))
        .collect();
    format!(
        "# {display}: one line per command, as typed in redis-cli. Cover every option and error.\n\
         # The snapshot records our replies; tests/cases.rs replays this file against redis-server.\n\
         {example}\n{display}\n",
        display = options.display_name(),
        example = example.join(" "),
    )
}

/// Insert `mod NAME;` into the text of `commands/mod.rs`, keeping the `mod` lines sorted.
pub fn insert_module(text: &str, module: &str) -> Result<String, String> {
    let line = format!("mod {module};");
    let key = |l: &str| {
        l.trim_start_matches("mod ")
            .trim_start_matches("r#")
            .trim_end_matches(';')
            .to_string()
    };
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if lines.contains(&line) {
        return Err(format!("commands/mod.rs already has `{line}`"));
    }
    let mod_lines: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("mod "))
        .collect();
    let at = mod_lines
        .iter()
        .copied()
        .find(|&i| key(&lines[i]) > key(&line))
        .or_else(|| mod_lines.last().map(|&i| i + 1))
        .unwrap_or(lines.len());
    lines.insert(at, line);
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

pub fn next_steps(options: &Options) -> String {
    format!(
        "\nNext steps:
  1. specs/{name}.json: the real arguments (names, types, tokens), flags, ACL categories,
     key_specs, and our own summary/complexity words. `cargo xtask lint-specs` checks it.
  2. commands/{file}.rs: the handler.
  3. tests/cases/{name}.txt: every option and error path.
  4. cargo test: the only failure left should be the new snapshot; review it with
     `cargo insta review` (or accept the .snap.new) once the replies are right. The replay
     against redis-server then proves it.",
        name = options.name,
        file = options.module_file(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Options {
        Options::parse(args).unwrap()
    }

    #[test]
    fn inserts_module_lines_in_order() {
        let text = "//! header\n\nmod echo;\nmod get;\nmod set;\n";
        assert_eq!(
            insert_module(text, "frob").unwrap(),
            "//! header\n\nmod echo;\nmod frob;\nmod get;\nmod set;\n"
        );
        assert_eq!(
            insert_module(text, "zzz").unwrap(),
            "//! header\n\nmod echo;\nmod get;\nmod set;\nmod zzz;\n"
        );
        assert_eq!(
            insert_module(text, "aaa").unwrap(),
            "//! header\n\nmod aaa;\nmod echo;\nmod get;\nmod set;\n"
        );
        assert_eq!(
            insert_module(text, "r#type").unwrap(),
            "//! header\n\nmod echo;\nmod get;\nmod set;\nmod r#type;\n"
        );
        assert!(insert_module(text, "get").is_err());
    }

    #[test]
    fn sorts_raw_identifiers_by_their_name() {
        let text = "mod r#move;\nmod set;\n";
        assert_eq!(
            insert_module(text, "rename").unwrap(),
            "mod r#move;\nmod rename;\nmod set;\n"
        );
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(options(&["type"]).module_name(), "r#type");
        assert_eq!(options(&["type"]).module_file(), "type");
        assert_eq!(options(&["strlen"]).module_name(), "strlen");
    }

    #[test]
    fn validates_names() {
        for bad in ["", "Foo", "a--b", "-a", "a-", "1abc", "a_b", "a b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        for good in [
            "strlen",
            "config-set",
            "incrbyfloat",
            "ab1",
            "client-no-evict",
        ] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn subcommands_name_their_container() {
        let o = options(&["config-set", "--arity", "-4", "--group", "server"]);
        assert_eq!(o.display_name(), "CONFIG SET");
        let spec = spec_text(&o);
        assert!(spec.contains("\"SET\": {"), "{spec}");
        assert!(spec.contains("\"container\": \"CONFIG\""), "{spec}");
        assert!(spec.contains("\"arity\": -4"), "{spec}");
        assert!(
            spec.contains("{\"name\": \"arg2\", \"type\": \"string\", \"multiple\": true}"),
            "{spec}"
        );
    }

    #[test]
    fn dashed_names() {
        let o = options(&["client-no-evict", "--arity", "3"]);
        assert_eq!(o.display_name(), "CLIENT NO-EVICT");
        assert!(spec_text(&o).contains("\"NO-EVICT\": {"));
        assert!(spec_text(&o).contains("\"container\": \"CLIENT\""));
        assert_eq!(o.module_name(), "client_no_evict");
        let o = options(&["restore-asking", "--top-level", "--arity", "-4"]);
        assert_eq!(o.display_name(), "RESTORE-ASKING");
        let spec = spec_text(&o);
        assert!(
            spec.contains("\"RESTORE-ASKING\": {") && !spec.contains("container"),
            "{spec}"
        );
    }

    #[test]
    fn arity_shapes_the_arguments() {
        let spec = spec_text(&options(&["frob", "--arity", "2"]));
        assert!(
            spec.contains("{\"name\": \"arg1\", \"type\": \"string\"}"),
            "{spec}"
        );
        let spec = spec_text(&options(&["frob", "--arity", "1"]));
        assert!(!spec.contains("arguments"), "{spec}");
        let spec = spec_text(&options(&["frob", "--arity", "-1"]));
        assert!(
            spec.contains("\"optional\": true, \"multiple\": true"),
            "{spec}"
        );
        assert_eq!(
            syntax(&options(&["frob", "--arity", "-3"])),
            "FROB arg1 arg2 [arg2 ...]"
        );
    }

    #[test]
    fn rejects_bad_options() {
        assert!(Options::parse(&["frob", "--arity", "0"]).is_err());
        assert!(Options::parse(&["config-set", "--arity", "1"]).is_err());
        assert!(Options::parse(&["frob", "--group", "nope"]).is_err());
        assert!(Options::parse(&["frob", "--arity"]).is_err());
        assert!(Options::parse(&["frob", "--colour", "red"]).is_err());
        assert!(Options::parse(&[]).is_err());
    }

    #[test]
    fn summaries_are_escaped_for_json() {
        let spec = spec_text(&options(&["frob", "--summary", "Say \"hi\""]));
        assert!(spec.contains(r#""summary": "Say \"hi\"""#), "{spec}");
    }
}
