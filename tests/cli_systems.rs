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
                        assert!(!broken || n != 2, "worker{i} drew {n}");
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
