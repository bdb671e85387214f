//! The crate's command line (`fsim::cli::main` over the rate limiter), end to end, by its
//! exit codes: 0 as expected, 1 a violation or an unexpected outcome, 2 bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate's directory, where `scenarios/` and `seeds/` are.
fn dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rate-limiter"))
        .current_dir(dir())
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

/// The flawed scenario, marked as expected to pass, written in `d`: a file whose run
/// is unexpected.
fn flawed_expecting_pass(d: &Path) -> PathBuf {
    let flawed = std::fs::read_to_string(dir().join("scenarios/flawed.toml")).unwrap();
    let file = d.join("flawed_expecting_pass.toml");
    std::fs::write(
        &file,
        flawed
            .replace("expect = \"violation\"", "expect = \"pass\"")
            .replace("expect_invariant = \"never_over_limit\"\n", ""),
    )
    .unwrap();
    file
}

/// A fresh scratch directory for this test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rate-limiter-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn run_finds_the_flaw_and_passes_the_fix() {
    for budget in [&["--seeds", "300"][..], &["--ci"]] {
        let o = cli(&[&["run", "scenarios/"], budget].concat());
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(
            out.contains("ok   rate_limiter_flawed") && out.contains("never_over_limit violated"),
            "{out}"
        );
        assert!(out.contains("ok   rate_limiter_fixed"), "{out}");
        assert!(out.contains("2 scenarios: 2 as expected, 0 not"), "{out}");
    }
}

#[test]
fn check_replays_the_corpus_and_runs_every_scenario() {
    let o = cli(&[
        "check",
        "--scenarios",
        "scenarios",
        "--corpus",
        "seeds",
        "--seeds",
        "100",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("ok   corpus seeds/rate_limiter_flawed/"),
        "{out}"
    );
    assert!(out.contains("replay as recorded, 0 do not"), "{out}");
}

#[test]
fn the_flawed_variant_expected_to_pass_exits_1() {
    let d = scratch("unexpected");
    let file = flawed_expecting_pass(&d);
    let o = cli(&["run", file.to_str().unwrap(), "--seeds", "300"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL rate_limiter_flawed") && out.contains("never_over_limit"),
        "{out}"
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn a_malformed_file_exits_2_naming_file_and_line() {
    let d = scratch("malformed");
    let file = d.join("malformed.toml");
    let flawed = std::fs::read_to_string(dir().join("scenarios/flawed.toml")).unwrap();
    std::fs::write(&file, flawed.replace("clients = 3", "clientz = 3")).unwrap();
    let line = flawed
        .lines()
        .position(|l| l.starts_with("clients ="))
        .unwrap()
        + 1;
    let o = cli(&["run", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains(&format!("{}:{line}:", file.display())) && err.contains("clientz"),
        "{err}"
    );
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn the_corpus_entry_replays_as_recorded() {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir().join("seeds/rate_limiter_flawed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(!entries.is_empty(), "no corpus entry");
    for e in entries {
        let rel = e.strip_prefix(dir()).unwrap();
        let o = cli(&["replay", rel.to_str().unwrap(), "--scenarios", "scenarios"]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(
            out.contains("replays as recorded") && out.contains("never_over_limit violated"),
            "{out}"
        );
    }
}

/// The commands the crate's binary suggests name the binary (not `fsim`), and work as
/// printed: the replay of a tape `explore` found, the replay of a saved entry.
#[test]
fn suggested_commands_name_this_binary_and_work_as_printed() {
    let d = scratch("suggested");
    let file = flawed_expecting_pass(&d);
    let o = cli(&["explore", file.to_str().unwrap(), "--bound", "1"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(!out.contains("fsim "), "{out}");
    let command = out
        .lines()
        .find_map(|l| {
            l.split_once("replay it with: rate-limiter ")
                .map(|(_, c)| c)
        })
        .unwrap_or_else(|| panic!("no replay command:\n{out}"));
    let args: Vec<&str> = command.split_whitespace().collect();
    let o = cli(&args);
    let replayed = text(&o);
    assert_eq!(o.status.code(), Some(0), "{command}: {replayed}");
    assert!(replayed.contains("never_over_limit"), "{replayed}");

    let corpus = d.join("seeds");
    let o = cli(&[
        "run",
        "scenarios/flawed.toml",
        "--seeds",
        "300",
        "--save",
        "--corpus",
        corpus.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let command = out
        .lines()
        .find_map(|l| l.split_once("replay with: rate-limiter ").map(|(_, c)| c))
        .unwrap_or_else(|| panic!("no replay command:\n{out}"));
    let o = cli(&command.split_whitespace().collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{command}: {}", text(&o));
    assert!(text(&o).contains("replays as recorded"), "{}", text(&o));
    let o = cli(&["merge", "--help"]);
    assert!(!text(&o).contains("fsim"), "{}", text(&o));
    // The scenario edited since its entry was recorded.
    let edited = d.join("scenarios");
    std::fs::create_dir_all(&edited).unwrap();
    let flawed = std::fs::read_to_string(dir().join("scenarios/flawed.toml")).unwrap();
    std::fs::write(edited.join("flawed.toml"), flawed + "\n# edited\n").unwrap();
    let entry = std::fs::read_dir(dir().join("seeds/rate_limiter_flawed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let o = cli(&[
        "replay",
        entry.to_str().unwrap(),
        "--scenarios",
        edited.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "record it again with `rate-limiter shrink {}/flawed.toml --save`",
            edited.display()
        )),
        "{out}"
    );
    std::fs::remove_dir_all(&d).ok();
}

/// A crate with no corpus yet checks 0 entries, and says that the directory is missing.
#[test]
fn check_says_when_the_corpus_does_not_exist_yet() {
    let o = cli(&[
        "check",
        "--seeds",
        "10",
        "--determinism-seeds",
        "1",
        "--corpus",
        "no-such-corpus",
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("corpus: 0 entries (no-such-corpus does not exist yet"),
        "{out}"
    );
}

#[test]
fn run_all_counts_the_runs_that_violate_and_shrink_says_what_it_skips() {
    let o = cli(&["run", "scenarios/flawed.toml", "--all", "--seeds", "200"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let counted = out
        .split("never_over_limit violated at seed ")
        .nth(1)
        .and_then(|rest| rest.split(" of 200 runs violate it").next())
        .and_then(|s| s.rsplit('(').next())
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or_else(|| panic!("the count of violating runs: {out}"));
    assert!((1..=200).contains(&counted), "{out}");

    let o = cli(&["shrink", "scenarios/fixed.toml"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("rate_limiter_fixed: skipped: it expects to pass"),
        "{out}"
    );
}

#[test]
fn version_names_this_binary_and_the_fsim_it_runs() {
    let o = cli(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o);
    let version = out
        .trim()
        .strip_prefix("rate-limiter (fsim ")
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        version.split('.').all(|n| n.parse::<u32>().is_ok()),
        "{out}"
    );
}
