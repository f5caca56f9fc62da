//! `cloudtrail-digest`: verify CloudTrail digest chains and log files.

#![forbid(unsafe_code)]

mod audit;
mod cli;
mod destination;
mod exit;
mod export;
mod keys;
mod ledger;
mod locate;
mod merge;
mod mirror;
mod online;
mod output;
mod plan;
mod progress;
mod query_results;
mod scope;
mod validate_logs;
mod window;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

fn main() -> ExitCode {
    let exit = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(e) => output::clap_message(&e),
    };
    exit.into()
}

fn run(cli: Cli) -> Exit {
    let region = cli.region.as_deref();
    match &cli.command {
        Command::ValidateLogs(args) => validate_logs::run(args, region),
        Command::Audit(args) => audit::run(args, region),
        Command::Keys(args) => keys::run(args, region),
        Command::Mirror(args) => mirror::run(args),
        Command::Export(args) => export::run(args, region),
        Command::Plan(args) => plan::run(args, region),
        Command::Merge(args) => merge::run(args),
        Command::VerifyQueryResults(args) => query_results::run(args, region),
    }
}
