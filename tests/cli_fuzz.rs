//! The whole command line under hostile input: every subcommand, with arguments and files
//! drawn from good, bad and hostile values (runs included), never panics or aborts and
//! always exits 0, 1 or 2. `FSIM_CLI_FUZZ_CASES` sets the number of cases (default 3,000).

use fsim::cli::{Layout, run};
use fsim::sim::Sim;
use fsim::system::{ParamError, SystemDef, Systems};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Params {
    workers: u32,
    broken: bool,
}

fn systems() -> Systems {
    Systems::new().with(
        SystemDef::new("tiny", "a few workers that draw", |p: Params| {
            if p.workers > 4 {
                return Err(ParamError::new("workers", "at most 4"));
            }
            Ok(move |sim: &mut Sim| {
                let broken = p.broken;
                for i in 0..p.workers {
                    sim.spawn(&format!("w{i}"), move |cx| async move {
                        let n = cx.draw(3).await;
                        cx.sleep(n as u64).await;
                        assert!(!broken || n != 2, "drew {n}");
                    });
                }
            })
        })
        .invariant("nothing", || {
            fsim::check::invariant("small", fsim::check::When::Always, |w| {
                if w.live_count() < 10 {
                    Ok(())
                } else {
                    Err("too many".into())
                }
            })
        }),
    )
}

/// The files the arguments may name: made once.
struct Files {
    root: PathBuf,
}

fn files() -> &'static Files {
    static FILES: OnceLock<Files> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("fsim-cli-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let sc = root.join("scenarios");
        std::fs::create_dir_all(&sc).unwrap();
        let w = |name: &str, text: &str| std::fs::write(sc.join(name), text).unwrap();
        w(
            "pass.toml",
            "name = \"pass\"\nexpect = \"pass\"\nworkers = 2\ninvariants = [\"small\"]\n[explore]\nseeds = 20\n",
        );
        w(
            "flawed.toml",
            "name = \"flawed\"\nexpect = \"violation\"\nexpect_invariant = \"panic\"\nworkers = 2\nbroken = true\n[faults]\nbudget = 1\nkill = [\"kill\", \"call:call:normal\"]\ntargets = [\"w0\"]\n[explore]\nseeds = 20\nstrategy = \"pct:2\"\n",
        );
        let bad = root.join("bad");
        std::fs::create_dir_all(&bad).unwrap();
        for (name, text) in [
            ("syntax.toml", "name = \"x\nexpect = "),
            ("caps.toml", "name = \"c\"\nexpect = \"pass\"\n[explore]\njump_ppm = 4294967295\n"),
            ("escape.toml", "name = \"../../x\"\nexpect = \"pass\"\n"),
            ("param.toml", "name = \"p\"\nexpect = \"pass\"\nworkers = 9\n"),
            ("reason.toml", &format!("name = \"r\"\nexpect = \"pass\"\n[faults]\nbudget = 1\nkill = [\"{}kill\"]\n", "call:".repeat(100_000))),
        ] {
            std::fs::write(bad.join(name), text).unwrap();
        }
        std::os::unix::fs::symlink("/dev/zero", root.join("zero.toml")).unwrap();
        std::fs::write(root.join("tape.txt"), "default\npick run <0.0.0>\njump\n").unwrap();
        std::fs::write(root.join("garbage.txt"), "pick teleport\n\u{0}\u{1}").unwrap();
        std::fs::write(root.join("empty.json"), "").unwrap();
        std::fs::write(root.join("junk.json"), "{\"format_version\": 2, \"scenario\": [").unwrap();
        std::fs::write(root.join("shards.json"), "[{\"scenario\":\"pass\",\"scenario_hash\":\"0\",\"strategy\":\"random\",\"seeds\":[0,5],\"shards\":[\"0/2\"],\"runs\":18446744073709551615,\"found\":0,\"steps\":1,\"first_found\":null,\"first_unexpected\":null}]").unwrap();
        std::fs::create_dir_all(root.join("empty_dir")).unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        // Relative paths among the hostile values ("1", "2..9") name files the command
        // line may write: they land here, not in the source tree. Every path this test
        // binary uses is absolute.
        std::env::set_current_dir(&root).unwrap();
        Files { root }
    })
}

fn value(f: &Files, pick: u8) -> String {
    let r = &f.root;
    let p = |x: &str| r.join(x).display().to_string();
    let all: Vec<String> = vec![
        p("scenarios"),
        p("scenarios/pass.toml"),
        p("scenarios/flawed.toml"),
        p("bad"),
        p("bad/syntax.toml"),
        p("bad/caps.toml"),
        p("bad/escape.toml"),
        p("bad/param.toml"),
        p("bad/reason.toml"),
        p("zero.toml"),
        p("tape.txt"),
        p("garbage.txt"),
        p("empty.json"),
        p("junk.json"),
        p("shards.json"),
        p("empty_dir"),
        p("out/new.json"),
        "/proc/cannot".into(),
        "missing.toml".into(),
        "0".into(),
        "1".into(),
        "3".into(),
        "5..3".into(),
        "2..9".into(),
        "18446744073709551615".into(),
        "4294967296".into(),
        "-1".into(),
        "pct:0".into(),
        "pct:2".into(),
        "pct:4294967295".into(),
        "exhaustive:1".into(),
        "exhaustive:99999".into(),
        "portfolio".into(),
        "1/2".into(),
        "2/2".into(),
        "5000".into(),
        "".into(),
        "\u{1}\u{7f}".into(),
    ];
    all[pick as usize % all.len()].clone()
}

/// A flag and its good values (empty: a switch); bad ones come from [`value`].
const FLAGS: &[(&str, &[&str])] = &[
    ("--seeds", &["1", "7", "2..9", "100..140"]),
    ("--ci", &[]),
    ("--all", &[]),
    (
        "--strategy",
        &[
            "random",
            "pct:2",
            "pos",
            "swarm",
            "portfolio",
            "exhaustive:1",
        ],
    ),
    ("--shard", &["0/1", "1/2", "0/3"]),
    ("--jobs", &["1", "2"]),
    ("--json", &["@out/run.json"]),
    ("--junit", &["@out/junit.xml"]),
    ("--save", &[]),
    ("--corpus", &["@corpus"]),
    ("--bases", &["1", "2"]),
    ("--bound", &["0", "1"]),
    ("--max-runs", &["5", "40"]),
    ("--out", &["@out/merged.json"]),
    ("--scenarios", &["@scenarios"]),
    ("--seed", &["0", "3", "99"]),
    ("--tape", &["@tape.txt"]),
    ("--last", &["0", "4"]),
    ("--svg", &["@out/run.svg"]),
    ("--html", &["@out/run.html"]),
    ("--mermaid", &["@out/run.mmd"]),
    ("--budget", &["0", "20"]),
    ("--full", &[]),
    ("--artifacts", &["@out/shrunk"]),
    ("--determinism-seeds", &["1", "2"]),
    ("--help", &[]),
    ("--version", &[]),
];

/// Good positional arguments per subcommand.
fn positional(cmd: &str, f: &Files, pick: u8) -> String {
    let r = |x: &str| f.root.join(x).display().to_string();
    let good: Vec<String> = match cmd {
        "merge" => vec![r("out/run.json"), r("shards.json")],
        "replay" => vec![
            r("scenarios/pass.toml"),
            r("scenarios/flawed.toml"),
            r("corpus"),
        ],
        _ => vec![
            r("scenarios"),
            r("scenarios/pass.toml"),
            r("scenarios/flawed.toml"),
        ],
    };
    good[pick as usize % good.len()].clone()
}

/// Budgets that keep every case short; the drawn arguments come after and may replace them.
fn small(cmd: &str) -> Vec<String> {
    let v: &[&str] = match cmd {
        "check" => &["--seeds", "3", "--determinism-seeds", "1"],
        "explain" => &["--seeds", "3", "--bases", "1", "--bound", "0"],
        "explore" => &["--max-runs", "30"],
        "shrink" => &["--budget", "30"],
        _ => &[],
    };
    v.iter().map(|s| s.to_string()).collect()
}

fn code(c: ExitCode) -> Option<u8> {
    (0..=2u8).find(|n| c == ExitCode::from(*n))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("FSIM_CLI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_command_line_exits_0_1_or_2_without_panicking(
        cmd in prop::sample::select(vec!["list", "run", "check", "replay", "shrink", "explore", "explain", "merge", "nonsense"]),
        path in (0u8..10, any::<u8>()),
        words in prop::collection::vec((0usize..FLAGS.len(), 0u8..10, any::<u8>()), 0..5),
    ) {
        let f = files();
        let mut args: Vec<String> = vec!["fsim".into(), cmd.to_string()];
        args.extend(small(cmd));
        // Mostly good values, so that runs happen; sometimes a hostile one.
        args.push(if path.0 < 8 { positional(cmd, f, path.1) } else { value(f, path.1) });
        for (flag, dice, pick) in words {
            let (name, good) = FLAGS[flag];
            args.push(name.to_string());
            if !good.is_empty() || dice >= 9 {
                let v = if dice < 8 && !good.is_empty() {
                    good[pick as usize % good.len()].to_string()
                } else {
                    value(f, pick)
                };
                args.push(match v.strip_prefix('@') {
                    Some(rel) => f.root.join(rel).display().to_string(),
                    None => v,
                });
            }
        }
        // `--seeds N` for `run` stays small unless it is refused: a valid huge range is a
        // long run, not a bug.
        if cmd == "run" {
            for i in 0..args.len().saturating_sub(1) {
                if args[i] == "--seeds" && args[i + 1].parse::<u64>().is_ok_and(|n| n > 50) {
                    args[i + 1] = "50".into();
                }
            }
        }
        let layout = Layout { scenarios: f.root.join("scenarios"), corpus: f.root.join("corpus") };
        let got = std::panic::catch_unwind(|| run(args.clone(), systems(), &layout));
        prop_assert!(got.is_ok(), "panicked on {args:?}");
        prop_assert!(code(got.unwrap()).is_some(), "exit code not 0, 1 or 2 on {args:?}");
    }
}

#[test]
fn the_fixture_files_are_what_the_fuzz_needs() {
    let f = files();
    let layout = Layout {
        scenarios: f.root.join("scenarios"),
        corpus: f.root.join("corpus"),
    };
    let r = |a: &[&str]| {
        let mut v = vec!["fsim"];
        v.extend_from_slice(a);
        code(run(v, systems(), &layout))
    };
    let sc = f.root.join("scenarios");
    assert_eq!(r(&["run", sc.to_str().unwrap()]), Some(0));
    for bad in ["syntax", "caps", "escape", "param", "reason"] {
        let p = f.root.join(format!("bad/{bad}.toml"));
        assert_eq!(r(&["run", p.to_str().unwrap()]), Some(2), "{bad}");
    }
    let _ = Path::new("");
}
