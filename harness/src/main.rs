//! `harness` binary: parses flags, builds a runtime sized by `--threads`,
//! and hands over to [`harness::execute`].

use clap::Parser;
use harness::cli::{Cli, Command};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // --help and --version.
            let _ = error.print();
            std::process::exit(0);
        }
        Err(error) => {
            let _ = error.print();
            // clap's own usage code is 2, which means "expectation failed" here.
            let reason = error.kind().to_string();
            eprintln!("ALERT: harness could not run (exit 1): invalid arguments: {reason} (report: none written)");
            std::process::exit(1);
        }
    };
    let threads = match &cli.command {
        Command::Load(args) => args.threads,
        Command::MockGateway(args) => args.threads,
        Command::Smoke(_) | Command::Report(_) => 1,
    };
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()
    };
    let code = match runtime {
        Ok(runtime) => runtime.block_on(harness::execute(cli.command)),
        Err(error) => {
            eprintln!("ALERT: harness could not run (exit 1): cannot start the async runtime: {error} (report: none written)");
            1
        }
    };
    std::process::exit(code);
}
