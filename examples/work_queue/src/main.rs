//! The work queue's command line: fsim's (`list`, `run`, `check`, `replay`, `shrink`,
//! `explore`, `explain`, `merge`) over the `work_queue` system.

fn main() -> std::process::ExitCode {
    fsim::cli::main(work_queue::systems())
}
