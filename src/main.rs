//! The `fsim` binary: see [`fsim::cli`].

fn main() -> std::process::ExitCode {
    fsim::cli::main()
}
