//! Differential conformance: each OTP_MODEL rule, and each ordering pattern of one node,
//! whose outcome is determinate on a real BEAM has an Elixir script in `tests/beam/`, the
//! lines the BEAM printed for it checked in beside it (`<script>.out`), and an fsim twin
//! here. Under one node's delivery (the default) every twin must print the recorded lines
//! on the default schedule and under every one of 256 seeds: a plain `cargo test` compares
//! every twin, with or without Elixir. Where `elixir` is installed, the scripts run again
//! and must still print the recorded lines; with `FSIM_REQUIRE_BEAM=1` (as `.ci/run` sets)
//! a missing `elixir` fails instead of skipping.

mod beam_twins;

use beam_twins::Out;
use fsim::sim::{Chooser, Config, DefaultChooser, RandomChooser, Sim};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One rule: its script and its twin.
pub struct Case {
    /// The script in `tests/beam/`.
    pub script: &'static str,
    /// Builds the fsim world; processes write their lines to the `Out`.
    pub twin: fn(&mut Sim, Out),
}

/// Seeds each twin runs under, besides the default schedule.
const SEEDS: u64 = 256;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/beam")
}

/// The script's id: its name up to the first `_` (`r14`, `o03`); its outcome lines start
/// with it.
fn id(script: &str) -> &str {
    script.split('_').next().unwrap_or(script)
}

/// The lines the BEAM printed, as checked in.
fn recorded(script: &str) -> Vec<String> {
    let out = dir().join(script).with_extension("out");
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("{}: {e} (record it: elixir {script})", out.display()));
    text.lines().map(str::to_string).collect()
}

fn beam_lines(script: &str) -> Vec<String> {
    let path = dir().join(script);
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
        .filter(|l| l.split(' ').next() == Some(id(script)))
        .map(str::to_string)
        .collect()
}

fn fsim_lines(case: &Case, chooser: &mut dyn Chooser, what: &str) -> Vec<String> {
    let out = Out::default();
    let mut sim = Sim::new(Config::default());
    (case.twin)(&mut sim, out.clone());
    let r = sim.run(chooser);
    assert!(
        !r.outcome.is_failure(),
        "{} ({what}): {:?}",
        case.script,
        r.outcome
    );
    out.lines()
}

#[test]
fn every_twin_prints_what_the_beam_printed_under_every_seed() {
    let mut disagreements = Vec::new();
    for case in beam_twins::cases() {
        let beam = recorded(case.script);
        assert!(
            !beam.is_empty(),
            "{}: no recorded outcome line",
            case.script
        );
        let default = fsim_lines(&case, &mut DefaultChooser, "default schedule");
        if default != beam {
            disagreements.push(format!(
                "{} (default schedule):\n  BEAM: {beam:?}\n  fsim: {default:?}",
                case.script
            ));
            continue;
        }
        for seed in 0..SEEDS {
            let mut chooser = RandomChooser::new(seed).with_rates(0, 0);
            let model = fsim_lines(&case, &mut chooser, &format!("seed {seed}"));
            if model != beam {
                disagreements.push(format!(
                    "{} (seed {seed}):\n  BEAM: {beam:?}\n  fsim: {model:?}",
                    case.script
                ));
                break;
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn a_real_beam_still_prints_the_recorded_lines() {
    if Command::new("elixir").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("FSIM_REQUIRE_BEAM").is_none(),
            "FSIM_REQUIRE_BEAM is set but elixir is not installed"
        );
        eprintln!(
            "SKIPPED: elixir is not installed (apt-get install -y elixir erlang-nox); the twins were still compared with the recorded lines"
        );
        return;
    }
    let mut changed = Vec::new();
    for case in beam_twins::cases() {
        let beam = beam_lines(case.script);
        let kept = recorded(case.script);
        if beam != kept {
            changed.push(format!(
                "{}:\n  now:      {beam:?}\n  recorded: {kept:?}",
                case.script
            ));
        }
    }
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}

#[test]
fn every_script_has_a_twin_and_a_recording() {
    let twins: Vec<&str> = beam_twins::cases().iter().map(|c| c.script).collect();
    for f in std::fs::read_dir(dir()).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().to_string_lossy().to_string();
        if name.ends_with(".exs") {
            assert!(twins.contains(&name.as_str()), "{name} has no fsim twin");
            assert!(
                f.path().with_extension("out").exists(),
                "{name} has no recorded output"
            );
        }
    }
}
