//! The command line end to end: exit codes 0 (as expected), 1 (a violation or an
//! unexpected outcome), 2 (bad input); list, run with JUnit and --save, replay of what was
//! saved, explain, merge.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root, where `sim-scenarios/` and `seeds/` are.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn fsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fsim"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fsim-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn list_names_every_scenario() {
    let o = fsim(&["list"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o);
    for f in std::fs::read_dir(root().join("sim-scenarios")).unwrap() {
        let name = f
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        assert!(
            out.contains(&format!("| {name} |")),
            "{name} missing from:\n{out}"
        );
    }
}

#[test]
fn list_says_which_flaws_are_deterministic_bugs_and_which_are_races() {
    let out = text(&fsim(&["list"]));
    for (name, default) in [
        ("unbounded_growth", "fails (deterministic)"),
        ("reset_without_demonitor", "fails (deterministic)"),
        ("volatile_subscriptions", "passes"),
        ("startup_order", "passes"),
    ] {
        let row = out
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{out}"));
        assert!(row.contains(&format!("| {default} |")), "{row}");
        assert!(row.contains("| local |"), "the delivery model: {row}");
    }
}

#[test]
fn run_writes_junit_and_a_new_failure_is_shrunk_saved_and_replays() {
    let dir = tmp("run");
    let junit = dir.join("junit.xml");
    let o = fsim(&[
        "run",
        "sim-scenarios/startup_order.toml",
        "--seeds",
        "50",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("tests=\"1\" failures=\"0\"") && xml.contains("name=\"startup_order\""),
        "{xml}"
    );

    // The fixed workload with the flaw switched on, but still expected to pass: a "new bug".
    let fixed =
        std::fs::read_to_string(root().join("sim-scenarios/startup_order_fixed.toml")).unwrap();
    let bug = dir.join("new_bug.toml");
    std::fs::write(
        &bug,
        fixed
            .replace("name = \"startup_order_fixed\"", "name = \"new_bug\"")
            .replace("flaws = []", "flaws = [\"startup_order\"]"),
    )
    .unwrap();
    let corpus = dir.join("seeds");
    let o = fsim(&[
        "run",
        bug.to_str().unwrap(),
        "--seeds",
        "200",
        "--save",
        "--corpus",
        corpus.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL new_bug") && out.contains("shrunk:") && out.contains("fsim replay"),
        "{out}"
    );
    assert!(
        std::fs::read_to_string(&junit)
            .unwrap()
            .contains("failures=\"1\"")
    );
    let saved: Vec<PathBuf> = std::fs::read_dir(corpus.join("new_bug"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1);
    let o = fsim(&[
        "replay",
        saved[0].to_str().unwrap(),
        "--scenarios",
        dir.to_str().unwrap(),
        "--mermaid",
        dir.join("d.mmd").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("replays as recorded"));
    assert!(
        std::fs::read_to_string(dir.join("d.mmd"))
            .unwrap()
            .starts_with("sequenceDiagram")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explain_gives_a_verdict_per_claim() {
    let dir = tmp("explain");
    for f in [
        "unbounded_growth.toml",
        "unbounded_growth_fixed.toml",
        "monitor_then_update.toml",
    ] {
        std::fs::copy(root().join("sim-scenarios").join(f), dir.join(f)).unwrap();
    }
    let o = fsim(&[
        "explain",
        dir.to_str().unwrap(),
        "--bases",
        "2",
        "--bound",
        "1",
        "--seeds",
        "100",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("| unbounded_growth | reproduced: bounded_resources; deterministic bug (fails on the default schedule, no fault); reachable on one node (local delivery) |"),
        "{out}"
    );
    assert!(
        out.contains("| unbounded_growth_fixed | no violation |"),
        "{out}"
    );
    assert!(
        out.contains("| monitor_then_update | no violation |")
            && out.contains("exhaustive search: proven: all"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_exits_2_and_shards_that_disagree_exit_1() {
    assert_eq!(fsim(&["run", "no/such/file.toml"]).status.code(), Some(2));
    assert_eq!(
        fsim(&["run", "sim-scenarios/", "--seeds", "9..3"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        fsim(&["run", "sim-scenarios/", "--shard", "4/4"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(fsim(&["frobnicate"]).status.code(), Some(2));
    // Two budgets: `--ci` would be ignored, so it is refused.
    let o = fsim(&["run", "sim-scenarios/", "--ci", "--seeds", "5"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--ci"), "{}", text(&o));
    let dir = tmp("merge");
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    for (f, seeds) in [(&a, "0..20"), (&b, "0..30")] {
        let o = fsim(&[
            "run",
            "sim-scenarios/unbounded_growth_fixed.toml",
            "--seeds",
            seeds,
            "--json",
            f.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let o = fsim(&["merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "different seed ranges do not merge: {}",
        text(&o)
    );
    std::fs::write(&b, "[{\"scenario\": 1}]").unwrap();
    let o = fsim(&["merge", b.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("b.json") && text(&o).contains("line 1"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("field `[0].scenario`"), "{}", text(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_bad_tape_entry_is_named_by_its_line() {
    let dir = tmp("tape");
    let tape = dir.join("bad.tape");
    // Blank lines are no entries: the bad one is entry 1, on line 3.
    std::fs::write(&tape, "default\n\npick run 3\n").unwrap();
    let o = fsim(&[
        "replay",
        "sim-scenarios/volatile_subscriptions.toml",
        "--tape",
        tape.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "{}:3: entry 1: cannot read \"pick run 3\"",
            tape.display()
        )),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    use std::io::Read;
    // A trace far larger than a pipe's buffer, so that writes meet the closed pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_fsim"))
        .current_dir(root())
        .args([
            "replay",
            "sim-scenarios/foundation_soak_fixed.toml",
            "--seed",
            "1",
            "--trace",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then closed: `| head -c 1`
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn sigint_stops_the_sweep_writes_a_summary_marked_interrupted_and_exits_130() {
    let dir = tmp("sigint");
    let json = dir.join("results.json");
    std::fs::write(&json, "stale results of an earlier run").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_fsim"))
        .current_dir(root())
        .args([
            "run",
            "sim-scenarios/foundation_soak_fixed.toml",
            "--seeds",
            "100000000",
            "--json",
            json.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let written = std::fs::read_to_string(&json).unwrap();
    let v: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v[0]["interrupted"], serde_json::json!(true), "{written}");
    assert!(v[0]["runs"].as_u64().unwrap() > 0, "{written}");
    assert!(text(&out).contains("INTERRUPTED"), "{}", text(&out));
    std::fs::remove_dir_all(&dir).ok();
}

/// `fsim shrink` tells every report race's repro as a story of at most 15 lines: the
/// default stretches collapsed, each fault and deviation marked with what it chose
/// instead, and the violation last; `--trace` adds every step.
#[test]
fn shrink_tells_each_report_race_in_at_most_15_lines() {
    let o = fsim(&["shrink", "sim-scenarios/"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let mut stories = 0;
    let mut lines = out.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(counts) = line.strip_suffix(" from the default schedule:") else {
            continue;
        };
        stories += 1;
        // "N steps, F fault(s), D deviation(s)"
        let nums: Vec<u32> = counts
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|s| s.parse().ok())
            .collect();
        let (faults, deviations) = (nums[1], nums[2]);
        let mut body = Vec::new();
        while let Some(l) = lines.next_if(|l| l.starts_with("    ")) {
            body.push(l.trim().to_string());
        }
        // The header and the body.
        let told = body.len() + 1;
        assert!(told <= 15, "{told} lines:\n{}", body.join("\n"));
        let marked = body
            .iter()
            .filter(|l| l.contains("fault: ") || l.contains("instead of the default"))
            .count() as u32;
        assert_eq!(marked, faults + deviations, "{}", body.join("\n"));
        assert!(
            body.last()
                .is_some_and(|l| l.starts_with("then ") && l.contains(" is violated: ")),
            "{}",
            body.join("\n")
        );
        assert!(body.iter().any(|l| l.contains("default schedule (")));
    }
    assert_eq!(stories, 10, "one story per report race:\n{out}");
    let o = fsim(&["shrink", "sim-scenarios/startup_order.toml", "--trace"]);
    assert!(text(&o).contains("every step the violation depends on:"));
    // `replay` of the saved repro tells the same story after the trace.
    let entry = std::fs::read_dir(root().join("seeds/startup_order"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let o = fsim(&[
        "replay",
        entry.to_str().unwrap(),
        "--scenarios",
        "sim-scenarios",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("the story:") && out.contains("fault: config_server<0.5.0> is killed"),
        "{out}"
    );
    // The full trace only with --trace: without it, far fewer lines than steps.
    assert!(out.lines().count() < 20, "{out}");
    let o = fsim(&[
        "replay",
        entry.to_str().unwrap(),
        "--scenarios",
        "sim-scenarios",
        "--trace",
    ]);
    let traced = text(&o);
    assert!(
        traced.lines().count() > 36 && traced.contains("the story:"),
        "{traced}"
    );
}

/// `fsim explain <corpus entry>`: every saved report-race repro replays as recorded and
/// is told as a story, with its kind (a race or a deterministic bug, as `list` says) and
/// a certificate with its numbers.
#[test]
fn explain_tells_each_saved_repro() {
    let mut told = 0;
    for dir in std::fs::read_dir(root().join("seeds")).unwrap() {
        let dir = dir.unwrap().path();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap().path();
            // As README writes it: the scenarios are found where `replay` finds them.
            let o = fsim(&["explain", entry.to_str().unwrap()]);
            let out = text(&o);
            assert_eq!(o.status.code(), Some(0), "{out}");
            assert!(out.contains("replays as recorded"), "{out}");
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            let deterministic = [
                "unbounded_growth",
                "reset_without_demonitor",
                "tests_touch_supervised",
            ]
            .contains(&name.as_str());
            let kind = if deterministic {
                "kind: a deterministic bug"
            } else {
                "kind: a race"
            };
            assert!(out.contains(kind), "{name}: {out}");
            let certificate = if deterministic {
                "certificate: minimal: the default schedule fails with no fault"
            } else {
                "certificate: minimal: every schedule with at most"
            };
            assert!(out.contains(certificate), "{name}: {out}");
            assert!(
                deterministic || out.contains(" runs searched)"),
                "{name}: {out}"
            );
            let story: Vec<&str> = out
                .lines()
                .skip_while(|l| *l != "the story:")
                .skip(1)
                .collect();
            assert!(
                (3..=15).contains(&story.len()),
                "{name}: {} lines:\n{out}",
                story.len()
            );
            assert!(
                story
                    .last()
                    .is_some_and(|l| l.contains(" is violated: ") || l.contains("panicked")),
                "{name}: {out}"
            );
            told += 1;
        }
    }
    assert_eq!(told, 10, "one saved repro per report race");
    // A corpus entry that does not exist, or whose scenario is not there: exit 2.
    let o = fsim(&[
        "explain",
        "seeds/none/0.json",
        "--scenarios",
        "sim-scenarios",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// A corpus that cannot be written is bad input: exit 2, naming the path.
#[test]
fn an_unwritable_corpus_is_named() {
    let file = tmp("unwritable").join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let o = fsim(&[
        "shrink",
        "sim-scenarios/startup_order.toml",
        "--save",
        "--corpus",
        file.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains(&format!("{}/startup_order", file.display())),
        "{out}"
    );
}
