//! Every invariant of the Foundation's catalogue fails somewhere: a checker that can never
//! fail gives false confidence. For each one, a scenario (a flawed one, or the soak
//! workload with a flaw on) and a seed budget in which some run violates it.

use fsim::explore::{self, StopAt};
use fsim::scenario::{Expect, Scenario};
use fsim_foundation::checks::CATALOGUE;
use std::path::Path;

/// The scenario text that checks only `invariant`, with `flaws` if given.
fn only(file: &str, invariant: &str, flaws: Option<&str>) -> Scenario {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(root.join("sim-scenarios").join(file)).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("invariants = ") {
            out.push(format!("invariants = [\"{invariant}\"]"));
        } else if line.starts_with("expect = ") {
            out.push("expect = \"violation\"".into());
            out.push(format!("expect_invariant = \"{invariant}\""));
        } else if line.starts_with("expect_invariant") {
        } else if line.starts_with("flaws = ") && flaws.is_some() {
            out.push(format!("flaws = [\"{}\"]", flaws.unwrap()));
        } else {
            out.push(line.to_string());
        }
    }
    if let Some(f) = flaws
        && !text.contains("\nflaws = ")
    {
        out.insert(0, format!("flaws = [\"{f}\"]"));
    }
    Scenario::parse(file, &out.join("\n"), &fsim_foundation::systems()).unwrap()
}

#[test]
fn every_catalogued_invariant_fails_in_some_scenario() {
    let cases: [(&str, &str, Option<&str>, u64); 13] = [
        ("single_owner", "global_names.toml", None, 200),
        (
            "no_intensity_exhaustion",
            "tests_touch_supervised.toml",
            None,
            50,
        ),
        (
            "supervised_ancestry",
            "tests_touch_supervised.toml",
            None,
            50,
        ),
        ("api_totality", "alive_check_then_act.toml", None, 200),
        ("test_isolation", "shared_state.toml", None, 200),
        ("monitors_match", "reset_without_demonitor.toml", None, 50),
        (
            "subscription_durability",
            "volatile_subscriptions.toml",
            None,
            500,
        ),
        (
            "no_orphans",
            "foundation_soak_fixed.toml",
            Some("startup_order"),
            500,
        ),
        ("bounded_tasks", "unsupervised_retry.toml", None, 50),
        ("pending_applied_once", "unsupervised_retry.toml", None, 50),
        ("dependents_consistent", "one_for_one_deps.toml", None, 200),
        ("start_order", "startup_order.toml", None, 50),
        ("bounded_resources", "unbounded_growth.toml", None, 50),
    ];
    for (name, ..) in CATALOGUE {
        assert!(
            cases.iter().any(|c| c.0 == name),
            "{name} has no scenario in which it fails"
        );
    }
    for (invariant, file, flaws, seeds) in cases {
        let s = only(file, invariant, flaws);
        assert_eq!(s.expect, Expect::Violation(invariant.into()));
        let sw = explore::sweep(&s, s.explore.strategy, 0..seeds, StopAt::FirstFailure);
        assert!(
            sw.first_found.is_some(),
            "{invariant} never failed in {seeds} seeds of {file} (flaws {flaws:?}): {:?}",
            sw.first_unexpected
                .map(|k| explore::describe(&k.report.outcome))
        );
    }
}
