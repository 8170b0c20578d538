//! Reading a configuration: the command line, config files, `include`, and line dispatch.
//!
//! Like redis-server, everything is turned into one text that is read line by line: the
//! config file, then stdin (`-`), then a newline and the command-line options rewritten as
//! config lines. Line numbers in errors count through that whole text; an `include`d file
//! is read on its own and numbers its own lines.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::{reason, strerror, ConfigError};
use super::glob::{glob_files, has_glob_chars};
use super::syntax::{lossy, repr, split_args, trim_line};
use super::table::{self, Arity, Special, FILE_ONLY, IGNORED, MULTI_ARG, TABLE};
use super::value::{SetContext, Value};
use super::{Config, FileLine};

/// Redis follows `include` cycles until it crashes; we stop here.
const MAX_INCLUDE_DEPTH: usize = 32;

/// The start-up words after the program name, as redis-server reads them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CommandLine {
    /// The first word, when it does not start with `-`.
    pub file: Option<String>,
    /// A `-` as the first or last word: read the configuration from stdin too.
    pub from_stdin: bool,
    /// The options rewritten as config lines.
    pub options: String,
}

impl CommandLine {
    /// Rewrites `--name value ...` into config lines exactly like redis-server 7.0: an
    /// option's words run until the next word starting with `--` (but an option that has no
    /// word yet takes the next one even if it starts with `--`); values are quoted so that
    /// they read back unchanged; `--save` with nothing after it means `save ""`.
    pub(crate) fn parse(args: &[String]) -> CommandLine {
        let mut line = CommandLine::default();
        let mut next = 0;
        if let Some(first) = args.first().filter(|first| !first.starts_with('-')) {
            line.file = Some(first.clone());
            next = 1;
        }
        let last = args.len().saturating_sub(1);
        let mut option_has_value = true;
        for (index, word) in args.iter().enumerate().skip(next) {
            if word == "-" && (index == 0 || index == last) {
                line.from_stdin = true;
            } else if option_has_value && word.starts_with("--") {
                if !line.options.is_empty() {
                    line.options.push('\n');
                }
                line.options.push_str(&word[2..]);
                line.options.push(' ');
                // `--port 6380` as one word already carries its value.
                option_has_value = split_args(word.as_bytes()).is_none_or(|w| w.len() != 1);
                if !option_has_value {
                    let followed_by_option =
                        args.get(index + 1).is_some_and(|w| w.starts_with("--"));
                    if word.eq_ignore_ascii_case("--save") && (followed_by_option || index == last)
                    {
                        line.options.push_str("\"\"");
                        option_has_value = true;
                    } else if word.eq_ignore_ascii_case("--sentinel") && followed_by_option {
                        option_has_value = true;
                    }
                }
            } else {
                repr(word.as_bytes(), &mut line.options);
                line.options.push(' ');
                option_has_value = true;
            }
        }
        line
    }
}

/// Where a part of the text starts and what to call its lines in errors.
pub(crate) struct Segment {
    pub start: usize,
    pub origin: String,
}

/// Loads `cmd` into `config` (the start-up path).
pub(crate) fn load_command_line(
    config: &mut Config,
    cmd: &CommandLine,
    stdin: &mut dyn Read,
) -> Result<(), ConfigError> {
    let cwd = current_dir();
    let mut text = Vec::new();
    let mut segments = Vec::new();
    if let Some(file) = &cmd.file {
        // Like Redis' getAbsolutePath: `./x.conf` becomes `<cwd>/x.conf`.
        let absolute: PathBuf = cwd.join(file).components().collect();
        let absolute = absolute.to_string_lossy().into_owned();
        read_sources(&absolute, Path::new(&absolute), &mut text, &mut segments)?;
        config.config_file = Some(absolute);
    }
    if cmd.from_stdin {
        segments.push(Segment {
            start: text.len(),
            origin: "stdin".to_owned(),
        });
        stdin
            .read_to_end(&mut text)
            .map_err(|e| ConfigError::Stdin {
                reason: strerror(&e),
            })?;
    }
    segments.push(Segment {
        start: text.len(),
        origin: "command line".to_owned(),
    });
    text.push(b'\n');
    text.extend_from_slice(cmd.options.as_bytes());
    Loader::new(config, cwd, true).load_text(&text, &segments)
}

/// Loads one text whose lines are all called `origin` in errors.
pub(crate) fn load_text(
    config: &mut Config,
    text: &[u8],
    origin: &str,
    check_paths: bool,
) -> Result<(), ConfigError> {
    let segments = [Segment {
        start: 0,
        origin: origin.to_owned(),
    }];
    Loader::new(config, current_dir(), check_paths).load_text(text, &segments)
}

/// The process' working directory; relative paths in the config start from it.
pub(crate) fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// Appends the file(s) named by `shown` (resolved as `path`) to `text`. A name with glob
/// characters reads every match in order (none is fine), as Redis does.
fn read_sources(
    shown: &str,
    path: &Path,
    text: &mut Vec<u8>,
    segments: &mut Vec<Segment>,
) -> Result<(), ConfigError> {
    let files: Vec<(String, PathBuf)> = if has_glob_chars(shown) {
        let found = glob_files(path);
        found
            .into_iter()
            .map(|p| (p.to_string_lossy().into_owned(), p))
            .collect()
    } else {
        vec![(shown.to_owned(), path.to_path_buf())]
    };
    for (shown, path) in files {
        let bytes = std::fs::read(&path).map_err(|e| ConfigError::Open {
            path: shown.clone(),
            reason: strerror(&e),
        })?;
        segments.push(Segment {
            start: text.len(),
            origin: shown,
        });
        text.extend_from_slice(&bytes);
    }
    Ok(())
}

/// Why a line was refused: a reason for the usual error block, or an error of its own
/// (an unreadable `include`, an error inside an included file).
enum LineError {
    Reason(String),
    Fatal(ConfigError),
}

impl From<&str> for LineError {
    fn from(reason: &str) -> LineError {
        LineError::Reason(reason.to_owned())
    }
}

/// Reading state; `reading_file` and `save_seen` reproduce how Redis combines `save` lines.
struct Loader<'c> {
    config: &'c mut Config,
    cwd: PathBuf,
    save_seen: bool,
    reading_file: bool,
    depth: usize,
    check_paths: bool,
}

impl<'c> Loader<'c> {
    fn new(config: &'c mut Config, cwd: PathBuf, check_paths: bool) -> Loader<'c> {
        Loader {
            config,
            cwd,
            save_seen: false,
            reading_file: false,
            depth: 0,
            check_paths,
        }
    }

    fn load_text(&mut self, text: &[u8], segments: &[Segment]) -> Result<(), ConfigError> {
        self.reading_file = true;
        let mut line_start = 0;
        for (index, raw) in text.split(|&c| c == b'\n').enumerate() {
            let start = line_start;
            line_start += raw.len() + 1;
            let line = trim_line(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fail = |reason: String| ConfigError::Line {
                origin: origin_of(segments, start),
                line_number: index + 1,
                line: lossy(line),
                reason,
            };
            let Some(words) = split_args(line) else {
                return Err(fail(reason::UNBALANCED_QUOTES.to_owned()));
            };
            let Some((name, args)) = words.split_first() else {
                continue;
            };
            match self.apply_line(&name.to_ascii_lowercase(), args) {
                Ok(()) => {}
                Err(LineError::Reason(reason)) => return Err(fail(reason)),
                Err(LineError::Fatal(error)) => return Err(error),
            }
        }
        self.check_whole()?;
        // Redis clears this flag at the end of every text, included ones too.
        self.reading_file = false;
        Ok(())
    }

    fn apply_line(&mut self, name: &[u8], args: &[Vec<u8>]) -> Result<(), LineError> {
        if let Some((index, _)) = table::lookup(name) {
            return self.apply_directive(index, args).map_err(LineError::Reason);
        }
        if args.len() == 1 && IGNORED.iter().any(|ignored| ignored.as_bytes() == name) {
            return Ok(());
        }
        let name_text = lossy(name);
        let file_only = FILE_ONLY.iter().find(|(known, arity)| {
            *known == name_text
                && match arity {
                    Arity::Exactly(n) => args.len() == *n,
                    Arity::AtLeast(n) => args.len() >= *n,
                    Arity::Any => true,
                }
        });
        match file_only.map(|(known, _)| *known) {
            Some("include") => self.include(&lossy(&args[0])),
            Some("sentinel") if !args.is_empty() => Err(reason::SENTINEL_NOT_SENTINEL.into()),
            Some("user") => self.add_user(args),
            Some(known) => {
                self.config.lines.push(FileLine::new(known, args));
                Ok(())
            }
            None if name.contains(&b'.') => self.add_module_config(name_text, args),
            None => Err(reason::BAD_DIRECTIVE.into()),
        }
    }

    /// Sets a table directive from the words of a line.
    fn apply_directive(&mut self, index: usize, args: &[Vec<u8>]) -> Result<(), String> {
        let directive = &TABLE[index];
        let args: Cow<'_, [Vec<u8>]> = if !directive.has(MULTI_ARG) {
            if args.len() != 1 {
                return Err(reason::WRONG_ARG_COUNT.to_owned());
            }
            Cow::Borrowed(args)
        } else if args.len() == 1 && !args[0].is_empty() {
            // `save "900 1"` is read as `save 900 1`; Redis reads an unbalanced quote in
            // there as no words at all.
            Cow::Owned(split_args(&args[0]).unwrap_or_default())
        } else {
            Cow::Borrowed(args)
        };
        let mut ctx = SetContext {
            reading_file: self.reading_file,
            save_seen: &mut self.save_seen,
            cwd: &self.cwd,
            check_paths: self.check_paths,
        };
        let value = self.config.parse_value(index, &args, &mut ctx)?;
        if matches!(directive.kind, table::Kind::Special(Special::Dir)) {
            if let Value::Str(dir) = &value {
                // Redis changes directory right away: later relative paths start there.
                self.cwd = PathBuf::from(dir);
            }
        }
        self.config.store(index, value);
        self.config.user_set[index] = true;
        Ok(())
    }

    fn include(&mut self, path: &str) -> Result<(), LineError> {
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(reason::INCLUDE_TOO_DEEP.into());
        }
        let mut text = Vec::new();
        let mut segments = Vec::new();
        read_sources(path, &self.cwd.join(path), &mut text, &mut segments)
            .map_err(LineError::Fatal)?;
        self.depth += 1;
        let result = self.load_text(&text, &segments);
        self.depth -= 1;
        result.map_err(LineError::Fatal)
    }

    /// A user may be declared once; the rules themselves are for the ACL code to check.
    fn add_user(&mut self, args: &[Vec<u8>]) -> Result<(), LineError> {
        let name = lossy(&args[0]);
        if self
            .config
            .lines
            .iter()
            .any(|l| l.directive == "user" && l.args.first() == Some(&name))
        {
            return Err(LineError::Reason(format!(
                "Error in user declaration '{name}': {}",
                reason::DUPLICATE_USER
            )));
        }
        self.config.lines.push(FileLine::new("user", args));
        Ok(())
    }

    /// `module.name value` configures a module; the last line for a name wins.
    fn add_module_config(&mut self, name: String, args: &[Vec<u8>]) -> Result<(), LineError> {
        if args.len() != 1 {
            return Err(reason::MODULE_CONFIG_WITHOUT_VALUE.into());
        }
        self.config.lines.retain(|line| line.directive != name);
        self.config.lines.push(FileLine {
            directive: name,
            args: vec![lossy(&args[0])],
        });
        Ok(())
    }

    /// Checks Redis makes once the text is read.
    fn check_whole(&self) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::Invalid { reason };
        if let Some(logfile) = self.config.logfile() {
            if self.check_paths {
                std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(self.cwd.join(&logfile))
                    .map_err(|e| invalid(format!("Can't open the log file: {}", strerror(&e))))?;
            }
        }
        if self.config.flag("cluster-enabled") && self.config.replicaof().is_some() {
            return Err(invalid(reason::REPLICAOF_IN_CLUSTER.to_owned()));
        }
        Ok(())
    }
}

fn origin_of(segments: &[Segment], offset: usize) -> String {
    segments
        .iter()
        .rev()
        .find(|segment| segment.start <= offset)
        .map_or_else(String::new, |segment| segment.origin.clone())
}
