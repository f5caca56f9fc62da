//! `cloudtrail-digest`: verify CloudTrail digest chains and log files.

#![forbid(unsafe_code)]

mod audit;
mod cli;
mod keys;
mod mirror;
mod online;
mod validate_logs;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::ValidateLogs(args) => validate_logs::run(&args, cli.region.as_deref()),
        cli::Command::Audit(args) => audit::run(&args, cli.region.as_deref()),
        cli::Command::Keys(args) => keys::run(&args, cli.region.as_deref()),
        cli::Command::Mirror(args) => mirror::run(&args),
    };
    std::process::exit(code);
}
