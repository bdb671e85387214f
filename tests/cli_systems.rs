//! The command line over a user's own system, in process (`fsim::cli::run`): a failed
//! assert in a process fails `fsim run` (exit 1), an expected one is found (exit 0), a
//! wrong input exits 2, and the shrunk repro saved with `--save` replays.

use fsim::cli::{Layout, run};
use fsim::sim::Sim;
use fsim::system::{ParamError, SystemDef, Systems};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Params {
    /// The process asserts something false when this is set.
    broken: bool,
    workers: u32,
}

fn boom() -> Systems {
    Systems::new().with(SystemDef::new(
        "boom",
        "workers that check an assertion",
        |p: Params| {
            if p.workers == 0 {
                return Err(ParamError::new("workers", "must be at least 1"));
            }
            Ok(move |sim: &mut Sim| {
                let broken = p.broken;
                for i in 0..p.workers {
                    sim.spawn(&format!("worker{i}"), move |cx| async move {
                        let n = cx.draw(3).await;
                        assert!(!broken || n != 2, "worker{i} drew {n}\u{1}\u{7}");
                    });
                }
            })
        },
    ))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fsim-cli-systems-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fsim(args: &[&str], at: &Path) -> ExitCode {
    let layout = Layout {
        scenarios: at.join("scenarios"),
        corpus: at.join("seeds"),
    };
    let mut all = vec!["fsim"];
    all.extend_from_slice(args);
    run(all, boom(), &layout)
}

/// `fine.toml`: one worker that passes, the scenario most refusals are tried on.
fn fine(at: &Path) -> String {
    scenario(
        at,
        "fine.toml",
        "name = \"fine\"\nexpect = \"pass\"\nworkers = 1\n",
    )
}

fn scenario(at: &Path, file: &str, text: &str) -> String {
    let p = at.join("scenarios").join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_failed_assert_fails_fsim_run_and_an_expected_one_is_found() {
    let at = dir("assert");
    let broken = scenario(
        &at,
        "broken.toml",
        "name = \"broken\"\nexpect = \"pass\"\nbroken = true\nworkers = 2\n[explore]\nseeds = 50\n",
    );
    assert_eq!(fsim(&["run", &broken], &at), ExitCode::from(1));
    // Saved, shrunk, and it replays as recorded.
    let corpus = at.join("seeds");
    assert_eq!(
        fsim(
            &[
                "run",
                &broken,
                "--save",
                "--corpus",
                corpus.to_str().unwrap()
            ],
            &at
        ),
        ExitCode::from(1)
    );
    let entry = std::fs::read_dir(corpus.join("broken"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains("\"invariant\": \"panic\""), "{text}");
    assert_eq!(
        fsim(&["replay", entry.to_str().unwrap()], &at),
        ExitCode::SUCCESS
    );
    std::fs::remove_file(&broken).unwrap();
    std::fs::remove_dir_all(&corpus).unwrap();

    let expected = scenario(
        &at,
        "expected.toml",
        "name = \"broken\"\nexpect = \"violation\"\nexpect_invariant = \"panic\"\nbroken = true\nworkers = 2\n",
    );
    assert_eq!(
        fsim(&["run", &expected, "--seeds", "50"], &at),
        ExitCode::SUCCESS
    );
    let fine = scenario(
        &at,
        "fine.toml",
        "name = \"fine\"\nexpect = \"pass\"\nworkers = 2\n",
    );
    assert_eq!(
        fsim(&["run", &fine, "--seeds", "200"], &at),
        ExitCode::SUCCESS
    );
    // The crate's whole gate: determinism, its corpus (the expected failure, shrunk and
    // saved), its scenarios.
    assert_eq!(
        fsim(&["shrink", &expected, "--save"], &at),
        ExitCode::SUCCESS
    );
    assert!(corpus.join("broken").is_dir());
    assert_eq!(fsim(&["check", "--seeds", "10"], &at), ExitCode::SUCCESS);
    // A scenario file edited after its entry was recorded: the gate fails.
    std::fs::write(
        &expected,
        std::fs::read_to_string(&expected).unwrap() + "\n# edited\n",
    )
    .unwrap();
    assert_eq!(fsim(&["check", "--seeds", "10"], &at), ExitCode::from(1));
    std::fs::remove_dir_all(&at).ok();
}

#[test]
fn wrong_input_exits_2() {
    let at = dir("bad");
    let typo = scenario(
        &at,
        "typo.toml",
        "name = \"typo\"\nexpect = \"pass\"\nwokers = 2\n",
    );
    assert_eq!(fsim(&["run", &typo], &at), ExitCode::from(2));
    let refused = scenario(
        &at,
        "refused.toml",
        "name = \"refused\"\nexpect = \"pass\"\nworkers = 0\n",
    );
    assert_eq!(fsim(&["run", &refused], &at), ExitCode::from(2));
    let e = fsim::scenario::Scenario::load(Path::new(&refused), &boom()).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (3, "workers"), "{e}");
    assert_eq!(fsim(&["run"], &at), ExitCode::from(2), "usage");
    assert_eq!(fsim(&["frobnicate"], &at), ExitCode::from(2), "usage");
    std::fs::remove_dir_all(&at).ok();
}

#[test]
fn bad_input_is_refused_before_any_run_with_exit_2() {
    let at = dir("refused");
    let empty = at.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(
        fsim(&["run", empty.to_str().unwrap()], &at),
        ExitCode::from(2),
        "an empty directory"
    );
    let fine = fine(&at);
    for args in [
        vec!["run", &fine, "--seeds", "0"],
        vec!["run", &fine, "--seeds", "5..3"],
        vec![
            "run",
            &fine,
            "--strategy",
            "exhaustive:1",
            "--json",
            "x.json",
        ],
        vec!["run", &fine, "--strategy", "exhaustive:1", "--shard", "1/2"],
        vec!["run", &fine, "--bases", "2", "--json", "x.json"],
        vec!["run", &fine, "--bases", "0"],
        vec!["run", &fine, "--json", at.to_str().unwrap()],
        vec!["run", &fine, "--junit", "/nonexistent-dir/junit.xml"],
        vec!["run", &fine, "--save", "--corpus", "/proc/fsim-cannot"],
    ] {
        assert_eq!(fsim(&args, &at), ExitCode::from(2), "{args:?}");
    }
    // Numbers beyond their documented caps, and a name that would escape the corpus.
    for (text, line, field) in [
        ("name = \"../../escaped\"\nexpect = \"pass\"\n", 1, "name"),
        (
            "name = \"x\"\nexpect = \"pass\"\n[explore]\nfault_ppm = 2000000\n",
            4,
            "explore.fault_ppm",
        ),
        (
            "name = \"x\"\nexpect = \"pass\"\n[explore]\njump_ppm = 4294967295\n",
            4,
            "explore.jump_ppm",
        ),
        (
            "name = \"x\"\nexpect = \"pass\"\n[limits]\nprocesses_max = 0\n",
            4,
            "limits.processes_max",
        ),
        (
            "name = \"x\"\nexpect = \"pass\"\n[faults]\nbudget = 4294967295\n",
            4,
            "faults.budget",
        ),
        (
            "name = \"x\"\nexpect = \"pass\"\n[explore]\nseeds = 0\n",
            4,
            "explore.seeds",
        ),
    ] {
        let text = &format!("workers = 1\n{text}");
        let e = fsim::scenario::Scenario::parse("f.toml", text, &boom()).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (line + 1, field), "{e}");
        let p = scenario(&at, "bad.toml", text);
        assert_eq!(fsim(&["run", &p], &at), ExitCode::from(2), "{text}");
    }
    std::fs::remove_dir_all(&at).ok();
}

#[test]
fn jobs_endless_files_and_control_characters() {
    let at = dir("misc");
    let fine = fine(&at);
    assert_eq!(
        fsim(&["run", &fine, "--jobs", "5000"], &at),
        ExitCode::from(2)
    );
    assert_eq!(fsim(&["run", &fine, "--jobs", "0"], &at), ExitCode::from(2));
    let zero = at.join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    assert_eq!(
        fsim(&["run", zero.to_str().unwrap()], &at),
        ExitCode::from(2)
    );
    // A panic message with control characters still gives valid XML characters.
    let junit = at.join("junit.xml");
    let broken = scenario(
        &at,
        "broken.toml",
        "name = \"broken\"\nexpect = \"pass\"\nbroken = true\nworkers = 3\n",
    );
    assert_eq!(
        fsim(
            &[
                "run",
                &broken,
                "--seeds",
                "100",
                "--junit",
                junit.to_str().unwrap()
            ],
            &at
        ),
        ExitCode::from(1)
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure message="), "{xml}");
    assert!(
        xml.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t')),
        "{xml:?}"
    );
    std::fs::remove_dir_all(&at).ok();
}

#[test]
fn explain_gives_no_verdict_over_no_schedules() {
    let at = dir("explain");
    fine(&at);
    let d = at.join("scenarios");
    let d = d.to_str().unwrap();
    assert_eq!(
        fsim(&["explain", d, "--seeds", "0", "--bound", "0"], &at),
        ExitCode::from(2)
    );
    assert_eq!(
        fsim(&["explain", d, "--bases", "0"], &at),
        ExitCode::from(2)
    );
    assert_eq!(
        fsim(&["explain", d, "--seeds", "20", "--bound", "1"], &at),
        ExitCode::SUCCESS
    );
    std::fs::remove_dir_all(&at).ok();
}

/// Two scenario files of one name would share a corpus directory, and the entries of one
/// would fail against the other as "changed since recorded": loading refuses them.
#[test]
fn two_scenarios_of_one_name_are_refused() {
    let at = dir("same-name");
    let a = scenario(
        &at,
        "a.toml",
        "name = \"twin\"\nexpect = \"pass\"\nworkers = 1\n",
    );
    let b = scenario(
        &at,
        "b.toml",
        "workers = 2\nname = \"twin\"\nexpect = \"pass\"\n",
    );
    let d = at.join("scenarios");
    assert_eq!(
        fsim(&["run", d.to_str().unwrap(), "--seeds", "5"], &at),
        ExitCode::from(2)
    );
    assert_eq!(
        fsim(&["run", &a, &b, "--seeds", "5"], &at),
        ExitCode::from(2)
    );
    assert_eq!(fsim(&["check", "--seeds", "5"], &at), ExitCode::from(2));
    let e = fsim::scenario::load_dir(&d, &boom()).unwrap_err();
    assert_eq!(
        (e.file.as_str(), e.line, e.field.as_str()),
        (b.as_str(), 2, "name")
    );
    assert!(
        e.to_string().contains(&a) && e.message.contains("`twin`"),
        "{e}"
    );
    std::fs::remove_dir_all(&at).ok();
}

/// A corpus entry that cannot be written fails the command (exit 2), as it does `shrink
/// --save`; a corpus that cannot be created is refused before the sweep.
#[test]
fn a_corpus_entry_that_cannot_be_written_exits_2() {
    let at = dir("unwritable");
    let expected = scenario(
        &at,
        "expected.toml",
        "name = \"broken\"\nexpect = \"violation\"\nexpect_invariant = \"panic\"\nbroken = true\nworkers = 2\n",
    );
    let corpus = at.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    // The entry's directory is a file.
    std::fs::write(corpus.join("broken"), "").unwrap();
    let c = corpus.to_str().unwrap();
    assert_eq!(
        fsim(
            &["run", &expected, "--seeds", "50", "--save", "--corpus", c],
            &at
        ),
        ExitCode::from(2)
    );
    assert_eq!(
        fsim(&["check", "--seeds", "5", "--artifacts", c], &at),
        ExitCode::from(2)
    );
    let under_a_file = corpus.join("broken").join("sub");
    assert_eq!(
        fsim(
            &[
                "check",
                "--seeds",
                "5",
                "--artifacts",
                under_a_file.to_str().unwrap()
            ],
            &at
        ),
        ExitCode::from(2)
    );
    std::fs::remove_dir_all(&at).ok();
}

/// `check`'s output paths are checked before anything runs, as `run`'s are: a bad
/// `--json` leaves the JUnit file unwritten, since no scenario ran.
#[test]
fn check_refuses_a_bad_output_path_before_it_starts() {
    let at = dir("check-outputs");
    fine(&at);
    let junit = at.join("junit.xml");
    let j = junit.to_str().unwrap();
    for (flag, bad) in [
        ("--json", "/nonexistent-dir/x.json"),
        ("--junit", "/nonexistent-dir/x.xml"),
    ] {
        let other = if flag == "--json" {
            "--junit"
        } else {
            "--json"
        };
        assert_eq!(
            fsim(&["check", "--seeds", "5", flag, bad, other, j], &at),
            ExitCode::from(2)
        );
        assert!(
            !junit.exists(),
            "{flag}: the sweep ran before the path was checked"
        );
    }
    std::fs::remove_dir_all(&at).ok();
}

/// A count of 0 checks nothing: refused (exit 2), as `run --seeds 0` is.
#[test]
fn counts_of_zero_are_refused() {
    let at = dir("zero-counts");
    let fine = fine(&at);
    for args in [
        vec!["check", "--seeds", "0"],
        vec!["check", "--determinism-seeds", "0"],
        vec!["check", "--seeds", "4294967297"],
        vec!["explore", &fine, "--max-runs", "0"],
        vec!["shrink", &fine, "--budget", "0"],
        vec!["bench", "--seeds", "0"],
    ] {
        assert_eq!(fsim(&args, &at), ExitCode::from(2), "{args:?}");
    }
    assert_eq!(
        fsim(&["check", "--seeds", "5", "--determinism-seeds", "1"], &at),
        ExitCode::SUCCESS
    );
    std::fs::remove_dir_all(&at).ok();
}

/// A corpus that is a file, or entries sitting directly in it (not in
/// `<corpus>/<scenario>/`), would check nothing: exit 2.
#[test]
fn a_corpus_that_would_check_nothing_is_refused() {
    let at = dir("corpus-shape");
    let expected = scenario(
        &at,
        "expected.toml",
        "name = \"broken\"\nexpect = \"violation\"\nexpect_invariant = \"panic\"\nbroken = true\nworkers = 2\n",
    );
    let corpus = at.join("seeds");
    assert_eq!(
        fsim(&["shrink", &expected, "--save"], &at),
        ExitCode::SUCCESS
    );
    assert_eq!(fsim(&["check", "--seeds", "5"], &at), ExitCode::SUCCESS);
    // Moved out of its scenario's directory.
    let entry = std::fs::read_dir(corpus.join("broken"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::rename(&entry, corpus.join(entry.file_name().unwrap())).unwrap();
    assert_eq!(fsim(&["check", "--seeds", "5"], &at), ExitCode::from(2));
    // In another scenario's directory, and in the directory of a scenario there is none of.
    std::fs::create_dir_all(corpus.join("other")).unwrap();
    let moved = corpus.join("other").join(entry.file_name().unwrap());
    std::fs::rename(corpus.join(entry.file_name().unwrap()), &moved).unwrap();
    assert_eq!(fsim(&["check", "--seeds", "5"], &at), ExitCode::from(2));
    let text = std::fs::read_to_string(&moved).unwrap();
    std::fs::write(&moved, text.replace("\"broken\"", "\"other\"")).unwrap();
    assert_eq!(fsim(&["check", "--seeds", "5"], &at), ExitCode::from(2));
    std::fs::remove_dir_all(corpus.join("other")).unwrap();
    // A file instead of a directory.
    let file = at.join("a-file");
    std::fs::write(&file, "").unwrap();
    assert_eq!(
        fsim(
            &["check", "--seeds", "5", "--corpus", file.to_str().unwrap()],
            &at
        ),
        ExitCode::from(2)
    );
    // None yet: a new crate's.
    let none = at.join("none");
    assert_eq!(
        fsim(
            &["check", "--seeds", "5", "--corpus", none.to_str().unwrap()],
            &at
        ),
        ExitCode::SUCCESS
    );
    std::fs::remove_dir_all(&at).ok();
}

/// A fault budget or targets with no kind of fault would inject nothing: an error naming
/// the line and field. A file without `[faults]` stays valid.
#[test]
fn a_fault_budget_without_a_fault_kind_is_an_error() {
    let head = "name = \"x\"\nexpect = \"pass\"\nworkers = 1\n";
    for (faults, line, field) in [
        ("[faults]\nbudget = 2\n", 5, "faults.budget"),
        ("[faults]\ntargets = [\"worker0\"]\n", 5, "faults.targets"),
        (
            "[faults]\nbudget = 1\ntargets = [\"worker0\"]\n",
            5,
            "faults.budget",
        ),
    ] {
        let e = fsim::scenario::Scenario::parse("f.toml", &format!("{head}{faults}"), &boom())
            .unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (line, field), "{e}");
        assert!(e.message.contains("no fault kind"), "{e}");
    }
    for fine in [
        "",
        "[faults]\n",
        "[faults]\nbudget = 0\n",
        "[faults]\nbudget = 1\nkill = [\"kill\"]\n",
        "[faults]\nbudget = 1\ncrash_after_effect = true\n",
        "[faults]\nbudget = 1\nfail_init = true\ntargets = [\"worker0\"]\n",
    ] {
        fsim::scenario::Scenario::parse("f.toml", &format!("{head}{fine}"), &boom())
            .unwrap_or_else(|e| panic!("{fine}: {e}"));
    }
}

/// An unknown key is neither the system's parameter nor a scenario key: the error lists
/// both; a duplicate key is named.
#[test]
fn an_unknown_or_duplicate_key_is_named_with_what_is_known() {
    let e = fsim::scenario::Scenario::parse(
        "f.toml",
        "name = \"x\"\nexpect = \"pass\"\ninvariant = [\"panic\"]\n",
        &boom(),
    )
    .unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (3, "invariant"), "{e}");
    for key in [
        "`workers`",
        "`invariants`",
        "`expect_invariant`",
        "`faults`",
        "`model`",
    ] {
        assert!(e.message.contains(key), "{key}: {e}");
    }
    let e = fsim::scenario::Scenario::parse(
        "f.toml",
        "name = \"x\"\nexpect = \"pass\"\nworkers = 1\nworkers = 2\n",
        &boom(),
    )
    .unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("duplicate key `workers`"), "{e}");
}
