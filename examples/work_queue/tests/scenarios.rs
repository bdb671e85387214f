//! The scenario files in `scenarios/`, through `fsim::test_scenario`: the flawed one finds
//! its violation, the fixed one passes its CI budget; and what a scenario file may not say
//! (a misspelt parameter, a fault target no process has) is an error naming the line.

use fsim::scenario::{Expect, Scenario, ScenarioError};
use std::path::{Path, PathBuf};
use work_queue::{APPLIED_ONCE, systems};

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
    assert_eq!(s.expect, Expect::Violation(APPLIED_ONCE.into()));
    let budget = s.explore.ci_seeds;
    // The file says what to expect; saying it again in code makes the test read as such.
    let found = fsim::test_scenario(s)
        .expect_violation(APPLIED_ONCE)
        .runs(budget)
        .check()
        .found
        .expect("found");
    eprintln!(
        "work_queue_flawed: found after {} run(s) (seed {}); shrunk: {} steps, {} faults, {} deviations",
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
    let e = parse_edited(|t| t.replace("lease_ms = 10", "lease_time = 10")).unwrap_err();
    assert_eq!(e.line, line_of(&text, "lease_ms ="), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("edited.toml:{}:", e.line)),
        "{e}"
    );
    assert!(e.message.contains("lease_time"), "{e}");
}

#[test]
fn a_misspelt_fault_target_is_an_error_naming_its_line() {
    let text = std::fs::read_to_string(file("flawed.toml")).unwrap();
    let e = parse_edited(|t| t.replace("targets = [\"worker\"]", "targets = [\"workers\"]"))
        .unwrap_err();
    assert_eq!(e.line, line_of(&text, "targets ="), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("edited.toml:{}:", e.line)),
        "{e}"
    );
    assert_eq!(e.field, "faults.targets[0]", "{e}");
    assert!(
        e.message.contains("no process is labelled `workers`") && e.message.contains("worker"),
        "{e}"
    );
}

#[test]
fn a_parameter_the_system_refuses_is_an_error_naming_it() {
    let e = parse_edited(|t| t.replace("workers = 2", "workers = 0")).unwrap_err();
    assert_eq!(e.field, "workers", "{e}");
    assert!(e.message.contains("at least 1"), "{e}");
}

#[test]
fn an_unknown_invariant_is_an_error_listing_the_known_ones() {
    let e = parse_edited(|t| {
        t.replace(
            "invariants = [\"applied_once\", \"all_done\"]",
            "invariants = [\"applied_once\", \"all_dun\"]",
        )
    })
    .unwrap_err();
    assert_eq!(e.field, "invariants[1]", "{e}");
    assert!(
        e.message.contains("all_dun") && e.message.contains("all_done"),
        "{e}"
    );
}

#[test]
fn the_scenario_files_fault_menu_is_the_systems() {
    // `faults(&Params)` is what code uses; the files must give the same menu.
    for name in ["flawed.toml", "fixed.toml"] {
        let s = load(name);
        assert_eq!(
            s.faults,
            work_queue::faults(&work_queue::Params::default()),
            "{name}"
        );
    }
}
