//! Differential conformance: each OTP_MODEL rule whose outcome is determinate on one node
//! has an Elixir script in `tests/beam/` and an fsim twin here. Both print the same lines;
//! the twin must print them under every seed, and the BEAM must print the same. Skips with
//! a message when `elixir` is not installed (`.ci/run` installs it).

mod beam_twins;

use beam_twins::Out;
use fsim::sim::{Config, RandomChooser, Sim};
use std::path::Path;
use std::process::Command;

/// One rule: its script and its twin.
pub struct Case {
    /// The script in `tests/beam/`.
    pub script: &'static str,
    /// Builds the fsim world; processes write their lines to the `Out`.
    pub twin: fn(&mut Sim, Out),
}

fn beam_lines(script: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/beam")
        .join(script);
    let out = Command::new("elixir")
        .arg(&path)
        .output()
        .expect("elixir runs");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('r'))
        .map(str::to_string)
        .collect()
}

fn fsim_lines(case: &Case, seed: u64) -> Vec<String> {
    let out = Out::default();
    let mut sim = Sim::new(Config::default());
    (case.twin)(&mut sim, out.clone());
    let r = sim.run(&mut RandomChooser::new(seed).with_rates(0, 0));
    assert!(
        !r.outcome.is_failure(),
        "{} seed {seed}: {:?}",
        case.script,
        r.outcome
    );
    out.lines()
}

#[test]
fn the_model_agrees_with_a_real_beam() {
    if Command::new("elixir").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED: elixir is not installed (apt-get install -y elixir erlang-nox); .ci/run installs it"
        );
        return;
    }
    let mut disagreements = Vec::new();
    for case in beam_twins::cases() {
        let beam = beam_lines(case.script);
        assert!(!beam.is_empty(), "{} printed no outcome line", case.script);
        for seed in 0..64 {
            let model = fsim_lines(&case, seed);
            if model != beam {
                disagreements.push(format!(
                    "{} (seed {seed}):\n  BEAM: {beam:?}\n  fsim: {model:?}",
                    case.script
                ));
                break;
            }
        }
        println!("{}", beam.join("\n"));
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn every_script_has_a_twin() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/beam");
    let twins: Vec<&str> = beam_twins::cases().iter().map(|c| c.script).collect();
    for f in std::fs::read_dir(dir).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().to_string();
        assert!(twins.contains(&name.as_str()), "{name} has no fsim twin");
    }
}
