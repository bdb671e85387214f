//! The rate limiter's command line: fsim's (`list`, `run`, `check`, `replay`, `shrink`,
//! `explore`, `explain`, `merge`) over the `rate_limiter` system.

fn main() -> std::process::ExitCode {
    fsim::cli::main(rate_limiter::systems())
}
