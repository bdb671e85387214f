//! The scenario files in `scenarios/`, through `fsim::test_scenario`: the flawed one finds
//! its violation, the fixed one passes its CI budget; and what a scenario file may not say
//! (a misspelt parameter, a fault target no process has) is an error naming the line.

use fsim::scenario::{Expect, Scenario, ScenarioError};
use rate_limiter::{NEVER_OVER_LIMIT, systems};
use std::path::{Path, PathBuf};

fn file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn load(name: &str) -> Scenario {
    Scenario::load(&file(name), &systems()).unwrap_or_else(|e| panic!("{e}"))
}

/// `flawed.toml` with `edit` applied, parsed as `edited.toml`.
fn parse_edited(edit: impl Fn(&str) -> String) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(file("flawed.toml")).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit must change the file");
    Scenario::parse("edited.toml", &edited, &systems())
}

/// The 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

#[test]
fn the_flawed_scenario_finds_its_violation() {
    let s = load("flawed.toml");
    assert_eq!(s.expect, Expect::Violation(NEVER_OVER_LIMIT.into()));
    let budget = s.explore.ci_seeds;
    // The file says what to expect; saying it again in code makes the test read as such.
    let found = fsim::test_scenario(s)
        .expect_violation(NEVER_OVER_LIMIT)
        .runs(budget)
        .check()
        .found
        .expect("found");
    eprintln!(
        "rate_limiter_flawed: found after {} run(s) (seed {}); shrunk: {} steps, {} faults, {} deviations",
        found.runs, found.seed, found.shrunk.steps, found.shrunk.faults, found.shrunk.deviations
    );
}

#[test]
fn the_fixed_scenario_passes_its_ci_budget() {
    let s = load("fixed.toml");
    assert_eq!(s.expect, Expect::Pass);
    assert_eq!((s.explore.seeds, s.explore.ci_seeds), (10_000, 2_000));
    let budget = s.explore.ci_seeds;
    let checked = fsim::test_scenario(s).runs(budget).check();
    assert_eq!(checked.runs, 2_000);
    assert!(checked.found.is_none());
}

#[test]
fn a_misspelt_parameter_is_an_error_naming_its_line() {
    let text = std::fs::read_to_string(file("flawed.toml")).unwrap();
    let e = parse_edited(|t| t.replace("clients = 3", "clientz = 3")).unwrap_err();
    assert_eq!(e.line, line_of(&text, "clients ="), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("edited.toml:{}:", e.line)),
        "{e}"
    );
    assert!(e.message.contains("clientz"), "{e}");
}

/// A fault menu killing processes labelled `target`, appended to a file.
fn with_faults(text: &str, target: &str) -> String {
    format!("{text}\n[faults]\nbudget = 1\nkill = [\"kill\"]\ntargets = [\"{target}\"]\n")
}

#[test]
fn a_misspelt_fault_target_is_an_error_naming_its_line() {
    let e = parse_edited(|t| with_faults(t, "clients")).unwrap_err();
    let text = std::fs::read_to_string(file("flawed.toml")).unwrap();
    assert_eq!(
        e.line,
        line_of(&with_faults(&text, "clients"), "targets ="),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with(&format!("edited.toml:{}:", e.line)),
        "{e}"
    );
    assert_eq!(e.field, "faults.targets[0]", "{e}");
    assert!(
        e.message.contains("no process is labelled `clients`") && e.message.contains("client"),
        "{e}"
    );
    // Spelt right, the same menu loads.
    parse_edited(|t| with_faults(t, "client")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_parameter_the_system_refuses_is_an_error_naming_it() {
    let e = parse_edited(|t| t.replace("window_ms = 10", "window_ms = 0")).unwrap_err();
    assert_eq!(e.field, "window_ms", "{e}");
    assert!(e.message.contains("must be positive"), "{e}");
}

#[test]
fn an_unknown_invariant_is_an_error_listing_the_known_ones() {
    let e = parse_edited(|t| {
        t.replace(
            "invariants = [\"never_over_limit\"]",
            "invariants = [\"never_over_the_limit\"]",
        )
    })
    .unwrap_err();
    assert_eq!(e.field, "invariants[0]", "{e}");
    assert!(e.message.contains(NEVER_OVER_LIMIT), "{e}");
}
