//! `fsim` with the Foundation registered: the command line every user's crate gets with
//! `fsim::cli::main(their_systems)`.

fn main() -> std::process::ExitCode {
    let layout = fsim::cli::Layout {
        scenarios: "sim-scenarios".into(),
        ..Default::default()
    };
    fsim::cli::main_with(fsim_foundation::systems(), &layout)
}
