//! Writing to stdout and stderr. Rust ignores SIGPIPE, so a write into a closed pipe
//! (`cloudtrail-digest ... | head -1`) fails with `BrokenPipe`; every write of this tool
//! goes through here or through [`Stop::output`], which turn that into a quiet stop
//! ([`Exit::ClosedPipe`]) instead of a panic or an error message.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

use cloudtrail_digest::{escape_text, ESCAPE_NOTE};

use crate::exit::Exit;

/// Why a command stopped before its verdict.
#[derive(Debug)]
pub enum Stop {
    /// Arguments refused (exit 2), with the message to print.
    Usage(String),
    /// A fatal error (exit 255), with the message to print.
    Fatal(String),
    /// Stdout or stderr is a closed pipe: nothing more can be said.
    ClosedPipe,
}

impl Stop {
    /// A failed write of the output: quiet for a closed pipe, fatal otherwise.
    pub fn output(e: io::Error) -> Stop {
        if e.kind() == io::ErrorKind::BrokenPipe {
            Stop::ClosedPipe
        } else {
            Stop::Fatal(format!("cannot write output: {e}"))
        }
    }

    /// A fatal error worded by `message`.
    pub fn fatal(message: impl fmt::Display) -> Stop {
        Stop::Fatal(message.to_string())
    }

    /// Prints the message (if any) with `say`, and gives the exit code.
    pub fn report(self, say: impl FnOnce(&str)) -> Exit {
        match self {
            Stop::Usage(m) => {
                say(&m);
                Exit::Usage
            }
            Stop::Fatal(m) => {
                say(&m);
                Exit::Fatal
            }
            Stop::ClosedPipe => Exit::ClosedPipe,
        }
    }
}

/// Writes `text` to stdout and flushes it.
pub fn print(text: fmt::Arguments) -> Result<(), Stop> {
    let mut out = io::stdout().lock();
    out.write_fmt(text)
        .and_then(|()| out.flush())
        .map_err(Stop::output)
}

/// Writes `text` to stderr. A closed stderr is ignored: there is nowhere left to say it,
/// and the exit code still tells.
pub fn eprint(text: fmt::Arguments) {
    let _ = io::stderr().write_fmt(text);
}

/// Prints what clap has to say (help and version on stdout, usage errors on stderr), as
/// clap itself would before exiting.
pub fn clap_message(e: &clap::Error) -> Exit {
    let exit = if e.use_stderr() {
        Exit::Usage
    } else {
        Exit::Success
    };
    match e.print() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::ClosedPipe,
        _ => exit,
    }
}

/// The result of a command: its verdict, or why it stopped, printed with `say`. A name
/// in the message is shown escaped ([`escape_text`]: its lines are kept), and then
/// [`ESCAPE_NOTE`] follows it after a blank line.
pub fn finish(outcome: Result<Exit, Stop>, say: impl FnOnce(&str)) -> Exit {
    outcome.unwrap_or_else(|stop| stop.report(|message| say(&escaped(message))))
}

/// `message` safe for a terminal: as it is, or escaped ([`escape_text`]) with
/// [`ESCAPE_NOTE`] after a blank line.
pub fn escaped(message: &str) -> Cow<'_, str> {
    match escape_text(message) {
        Cow::Borrowed(m) => Cow::Borrowed(m),
        Cow::Owned(m) => Cow::Owned(format!("{m}\n\n{ESCAPE_NOTE}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_a_quiet_stop() {
        let stop = Stop::output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(matches!(stop, Stop::ClosedPipe));
        let mut said = false;
        assert_eq!(stop.report(|_| said = true), Exit::ClosedPipe);
        assert!(!said);
    }

    #[test]
    fn names_in_a_message_are_escaped_and_noted() {
        let fatal = |m: &str| {
            let mut said = String::new();
            finish(Err(Stop::Fatal(m.to_string())), |m| said = m.to_string());
            said
        };
        assert_eq!(
            fatal("s3://b/a\\b: gone\nnext line"),
            "s3://b/a\\b: gone\nnext line"
        );
        assert_eq!(
            fatal("s3://b/\u{1b}[2K\r\u{202e}: gone"),
            format!("s3://b/\\x1b[2K\\x0d\\u{{202e}}: gone\n\n{ESCAPE_NOTE}")
        );
    }

    #[test]
    fn other_write_errors_are_fatal() {
        let stop = Stop::output(io::Error::from(io::ErrorKind::StorageFull));
        let mut said = String::new();
        assert_eq!(stop.report(|m| said = m.to_string()), Exit::Fatal);
        assert!(said.starts_with("cannot write output: "), "{said}");
    }
}
