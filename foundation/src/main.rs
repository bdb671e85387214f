//! `fsim` with the Foundation registered: the command line every user's crate gets with
//! `fsim::cli::main(their_systems)`.

fn main() -> std::process::ExitCode {
    fsim::cli::main(fsim_foundation::systems())
}
