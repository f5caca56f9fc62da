//! `cloudtrail-digest`: verify CloudTrail digest chains and log files.

mod audit;
mod cli;
mod validate_logs;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::ValidateLogs(args) => validate_logs::run(&args, cli.region.as_deref()),
        cli::Command::Audit(args) => audit::run(&args, cli.region.as_deref()),
    };
    std::process::exit(code);
}
