//! Bad scenario files get an error naming the file, line and field — never a panic — and
//! `fsim run` exits 2 on them.

use fsim::scenario::{Scenario, ScenarioError};

const GOOD: &str = r#"name = "demo"
flaws = ["alive_check_then_act"]
invariants = ["api_totality"]
expect = "violation"
expect_invariant = "api_totality"

[faults]
budget = 1
kill = ["kill"]
targets = ["config_server"]

[[client]]
name = "reader"
ops = ["get ai.sampling_rate", "update ai.sampling_rate 5"]
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse("demo.toml", text, &fsim_foundation::systems())
}

fn error(text: &str) -> ScenarioError {
    parse(text).expect_err("the file is malformed")
}

#[test]
fn a_good_file_parses() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.name, "demo");
    assert_eq!(
        (s.system.as_str(), s.describe().as_str()),
        ("foundation", "alive_check_then_act")
    );
    assert_eq!(s.explore.seeds, 10_000);
    // The client's two operations run, in order, with their values in the trace.
    let r = s.run_tape(&fsim::sim::Tape::new(), true);
    let trace: Vec<String> = r.trace.unwrap().iter().map(|e| e.to_string()).collect();
    let get = trace
        .iter()
        .position(|l| l.contains("call GetPath(\"ai.sampling_rate\")"));
    let update = trace
        .iter()
        .position(|l| l.contains("call Update { path: \"ai.sampling_rate\", value: 5"));
    assert!(
        get.is_some() && update.is_some() && get < update,
        "{trace:#?}"
    );
}

#[test]
fn an_unknown_operation_names_its_line_and_field() {
    let e = error(&GOOD.replace("update ai.sampling_rate 5", "upsert x"));
    assert_eq!(
        (e.file.as_str(), e.line, e.field.as_str()),
        ("demo.toml", 14, "client[0].ops[1]")
    );
    assert!(e.message.contains("unknown operation `upsert x`"), "{e}");
    assert!(e.to_string().starts_with("demo.toml:14:"), "{e}");
}

#[test]
fn a_bad_number_in_an_operation_is_reported() {
    let e = error(&GOOD.replace("update ai.sampling_rate 5", "update ai.sampling_rate five"));
    assert_eq!((e.line, e.field.as_str()), (14, "client[0].ops[1]"));
    assert!(e.message.contains("`five` is not an integer"), "{e}");
}

#[test]
fn an_unknown_flaw_lists_the_known_ones() {
    let e = error(&GOOD.replace("[\"alive_check_then_act\"]", "[\"alive_check\"]"));
    assert_eq!((e.line, e.field.as_str()), (2, "flaws[0]"));
    assert!(
        e.message.contains("unknown flaw `alive_check`") && e.message.contains("global_names"),
        "{e}"
    );
}

#[test]
fn an_unknown_invariant_is_reported() {
    let e = error(&GOOD.replace(
        "invariants = [\"api_totality\"]",
        "invariants = [\"api_total\"]",
    ));
    assert_eq!((e.line, e.field.as_str()), (3, "invariants[0]"));
}

#[test]
fn the_expected_invariant_must_be_checked() {
    let text = GOOD.replace(
        "expect_invariant = \"api_totality\"",
        "expect_invariant = \"single_owner\"",
    );
    let e = error(&text);
    assert_eq!((e.line, e.field.as_str()), (5, "expect_invariant"));
    let e = error(&GOOD.replace("expect_invariant = \"api_totality\"\n", ""));
    assert_eq!(e.field, "expect_invariant");
    let e = error(&GOOD.replace("expect = \"violation\"", "expect = \"maybe\""));
    assert_eq!((e.line, e.field.as_str()), (4, "expect"));
}

#[test]
fn unknown_and_missing_fields_are_named() {
    let e = error(&GOOD.replace("budget = 1", "budgit = 1"));
    assert_eq!((e.line, e.field.as_str()), (8, "budgit"), "{e}");
    let e = error(&GOOD.replace("name = \"demo\"\n", ""));
    assert_eq!(e.field, "name", "{e}");
}

#[test]
fn a_type_error_or_broken_syntax_names_the_line() {
    let e = error(&GOOD.replace("budget = 1", "budget = \"one\""));
    assert_eq!(e.line, 8, "{e}");
    // The message names no field; the key it is the value of is named.
    assert_eq!(e.field, "faults.budget", "{e}");
    let e = error(&format!(
        "{GOOD}\n[[client]]\nname = \"w\"\ndraws = \"many\"\n"
    ));
    assert_eq!((e.line, e.field.as_str()), (18, "client[1].draws"), "{e}");
    let e = error(&GOOD.replace("name = \"demo\"", "name = 7"));
    assert_eq!((e.line, e.field.as_str()), (1, "name"), "{e}");
    // The same for a parameter of the system's own.
    let e = error(&GOOD.replace("name = \"demo\"", "name = \"demo\"\nsettle_ms = \"soon\""));
    assert_eq!((e.line, e.field.as_str()), (2, "settle_ms"), "{e}");
    let e = error(&GOOD.replace("[faults]", "[faults"));
    assert_eq!(e.line, 7, "{e}");
}

#[test]
fn setup_only_in_tests_and_some_workload_needed() {
    let e = error(&GOOD.replace("\"get ai.sampling_rate\",", "\"setup\","));
    assert_eq!(e.field, "client[0].ops[0]");
    assert!(e.message.contains("only valid in a test"), "{e}");
    let i = GOOD.find("[[client]]").unwrap();
    let e = error(&GOOD[..i]);
    assert!(e.message.contains("at least one"), "{e}");
    // A rule over the whole file names no line (not `demo.toml:0:0`).
    assert!(
        e.to_string().starts_with("demo.toml: field `client`: "),
        "{e}"
    );
}

#[test]
fn a_bad_kill_reason_and_a_bad_strategy_are_reported() {
    let e = error(&GOOD.replace("kill = [\"kill\"]", "kill = [\"\"]"));
    assert_eq!((e.line, e.field.as_str()), (9, "faults.kill[0]"), "{e}");
    let e = error(&format!("{GOOD}\n[explore]\nstrategy = \"dfs\"\n"));
    assert_eq!(e.field, "explore.strategy");
}

#[test]
fn fsim_run_exits_2_on_a_malformed_file_and_names_it() {
    let dir = std::env::temp_dir().join(format!("fsim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(&path, GOOD.replace("update ai.sampling_rate 5", "upsert x")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fsim"))
        .args(["run", path.to_str().unwrap(), "--seeds", "5"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("broken.toml:14:") && stderr.contains("client[0].ops[1]"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn drawn_operations_parse_and_need_a_list() {
    let text = GOOD.replace(
        "ops = [\"get ai.sampling_rate\", \"update ai.sampling_rate 5\"]",
        "draw = [\"get_all\", \"reset\"]\ndraws = 4",
    );
    let s = parse(&text).unwrap();
    let r = s.run_seed(3);
    let draws = r
        .tape
        .choices
        .iter()
        .filter(|c| matches!(c, fsim::sim::Choice::Draw(_)))
        .count();
    assert_eq!(draws, 4, "four operations drawn on the tape");
    let e = error(&text.replace("draw = [\"get_all\", \"reset\"]\n", ""));
    assert_eq!(e.field, "client[0].draws");
    let e = error(&text.replace("\"reset\"", "\"rest\""));
    assert_eq!((e.line, e.field.as_str()), (14, "client[0].draw[1]"));
}

#[test]
fn a_fault_target_that_matches_no_process_is_an_error() {
    let e = error(&GOOD.replace(
        "targets = [\"config_server\"]",
        "targets = [\"config_sever\"]",
    ));
    assert_eq!((e.line, e.field.as_str()), (10, "faults.targets[0]"), "{e}");
    assert!(
        e.message.contains("no process is labelled `config_sever`")
            && e.message.contains("config_server"),
        "the labels that exist are listed: {e}"
    );
}

#[test]
fn an_unknown_system_and_a_bad_panic_policy_are_reported() {
    let e = error(&format!("system = \"foundaton\"\n{GOOD}"));
    assert_eq!((e.line, e.field.as_str()), (1, "system"), "{e}");
    assert!(e.message.contains("known: foundation"), "{e}");
    let e = error(&format!("panics = \"maybe\"\n{GOOD}"));
    assert_eq!((e.line, e.field.as_str()), (1, "panics"), "{e}");
}

/// A check written outside the Foundation reads what the catalogue's checks read: the
/// application's ServiceContext and its observer log, shared with the world.
#[test]
fn a_custom_invariant_over_a_foundation_scenario_sees_the_observer() {
    use fsim::check::{When, invariant};
    use fsim::sim::{RandomChooser, Sim};
    use fsim_foundation::{ServiceContext, label};
    let s = parse(&GOOD.replace("flaws = [\"alive_check_then_act\"]", "flaws = []")).unwrap();
    let mut sim = Sim::new(s.config());
    s.setup(&mut sim);
    sim.invariant(invariant("one_config_server", When::Always, |w| {
        let app = w.get::<ServiceContext>().ok_or("no ServiceContext")?;
        let running = app.observer.log().app_supervisor.is_some();
        let n = w
            .live_pids()
            .filter(|p| w.label(*p) == Some(label::CONFIG))
            .count();
        if n <= 1 || !running {
            Ok(())
        } else {
            Err(format!("{n} ConfigServers alive"))
        }
    }));
    sim.invariant(invariant("saw_the_app_run", When::End, |w| {
        let app = w.get::<ServiceContext>().ok_or("no ServiceContext")?;
        match app.observer.log().app_supervisor {
            Some(_) => Ok(()),
            None => Err("the observer never recorded the application".into()),
        }
    }));
    let r = sim.run(&mut RandomChooser::new(7));
    assert!(!r.outcome.is_failure(), "{:?}", r.outcome);
}

/// A workload that subscribes without end reports the process bound (the highest
/// `processes_max` a file may give is capped), rather than growing until memory runs out.
#[test]
fn a_runaway_workload_reports_its_bound() {
    let text = "name = \"runaway\"\nexpect = \"pass\"\n[limits]\nprocesses_max = 2000\nsteps_max = 10000000\n[[client]]\nname = \"sub\"\nops = [\"subscribe\"]\nrepeat = 1000000\n";
    let s = parse(text).unwrap();
    let r = s.run_seed(0);
    assert!(
        matches!(
            r.outcome,
            fsim::sim::Outcome::BoundHit(fsim::sim::Bound::Processes { max: 2000 })
        ),
        "{:?}",
        r.outcome
    );
    assert!(!r.recent.is_empty(), "with the last events");
    let e = error(&text.replace("processes_max = 2000", "processes_max = 100000000"));
    assert_eq!(e.field, "limits.processes_max");
}
