//! The exit codes of every command, named in one place.

use std::process::ExitCode;

/// How a run ended, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything checked is intact (also `--help` and `--version`).
    Success,
    /// 1: integrity failures (an invalid digest or log file; for `mirror`, refused objects).
    Failures,
    /// 2: a usage error (arguments refused before anything was read).
    Usage,
    /// 3: coverage is incomplete (`audit`: digests missing, no chain found, or objects
    /// archived and not restored, so not checked).
    Incomplete,
    /// 141 (128 + SIGPIPE): the output went into a closed pipe, so the run stopped
    /// quietly. Not a success: whoever reads the code must not take a cut-short run for
    /// a verdict.
    ClosedPipe,
    /// 255: a fatal error, no verdict (the AWS CLI's code); for `verify-query-results`,
    /// also a failed check, as the AWS CLI v2 command exits.
    Fatal,
    /// 252: `verify-query-results` arguments refused (the AWS CLI v2's code).
    ParamValidation,
    /// 254: `verify-query-results` in S3: S3 answered an error (the AWS CLI v2's code).
    ServiceError,
}

impl Exit {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failures => 1,
            Exit::Usage => 2,
            Exit::Incomplete => 3,
            Exit::ClosedPipe => 141,
            Exit::Fatal => 255,
            Exit::ParamValidation => 252,
            Exit::ServiceError => 254,
        }
    }

    /// The exit of an audit whose report gives `code` (`AuditReport::exit_code`). A code
    /// this tool does not know is taken as fatal, never as success.
    pub fn of_audit(code: i32) -> Exit {
        match code {
            0 => Exit::Success,
            1 => Exit::Failures,
            3 => Exit::Incomplete,
            _ => Exit::Fatal,
        }
    }

    /// Integrity failures if there are any, else success.
    pub fn failures_if(failed: bool) -> Exit {
        if failed {
            Exit::Failures
        } else {
            Exit::Success
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let all = [
            (Exit::Success, 0),
            (Exit::Failures, 1),
            (Exit::Usage, 2),
            (Exit::Incomplete, 3),
            (Exit::ClosedPipe, 141),
            (Exit::Fatal, 255),
            (Exit::ParamValidation, 252),
            (Exit::ServiceError, 254),
        ];
        for (exit, code) in all {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }

    #[test]
    fn audit_codes() {
        assert_eq!(Exit::of_audit(0), Exit::Success);
        assert_eq!(Exit::of_audit(1), Exit::Failures);
        assert_eq!(Exit::of_audit(3), Exit::Incomplete);
        assert_eq!(Exit::of_audit(2), Exit::Fatal);
        assert_eq!(Exit::of_audit(-1), Exit::Fatal);
    }
}
