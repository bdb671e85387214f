//! The `fsim` command line: clap commands over the layers below (scenario, explore,
//! report). `src/main.rs` only calls [`main`].

use crate::explore::{self, Shard, StopAt, Strategy, Summary, corpus, dpor, exhaustive, shrink};
use crate::scenario::{self, Expect, Scenario, ScenarioError};
use crate::sim::determinism::check_seed;
use crate::sim::{Config, RandomChooser, Sim};
use crate::system::Systems;
use crate::workload;
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Instant;

mod bench;
mod bench_dpor;
mod bench_shrink;
mod bench_shrink_bugs;
mod explain;
mod replay;
mod run;

use bench::*;
use explain::*;
use replay::*;
use run::{RunOpts, RunStrategy, measure, merge};
#[derive(Parser)]
#[command(
    name = "fsim",
    version,
    about = "Deterministic simulation testing for OTP-style actor systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lists the scenarios in a directory: flaws, expected outcome, invariants, budget.
    List {
        /// The scenario directory.
        #[arg(default_value = "scenarios")]
        dir: std::path::PathBuf,
    },
    /// The verdict on every scenario: each expected violation reproduced (runs to find it,
    /// shrunk schedule), each expected pass checked (schedules run, exhaustive bound).
    ///
    /// Given a corpus entry (`seeds/<scenario>/<id>.json`) instead: that repro, checked
    /// to replay as recorded, told as a story, with what kind of bug it is and its
    /// certificate.
    Explain {
        /// The scenario directory, or a corpus entry.
        #[arg(default_value = "scenarios")]
        dir: std::path::PathBuf,
        /// Where a corpus entry's scenario is looked up by name.
        #[arg(long, default_value = "scenarios")]
        scenarios: std::path::PathBuf,
        /// Base seeds for the runs-to-find median.
        #[arg(long, default_value_t = 20)]
        bases: u64,
        /// Exhaustive bound for refutations and fixes (0: skip exhaustive search).
        #[arg(long, default_value_t = 1)]
        bound: u32,
        /// Seeds per passing scenario (default: its CI budget).
        #[arg(long)]
        seeds: Option<u64>,
    },
    /// Runs scenarios (files, or every `.toml` in a directory) over their seed budget and
    /// checks each does what it expects: a flawed one finds its violation, a fixed one
    /// passes every seed. Exits 1 when one does not, 2 on a malformed file.
    Run {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Seeds to run: `N` (0..N) or `A..B`; defaults to each scenario's budget.
        #[arg(long)]
        seeds: Option<String>,
        /// Use each scenario's CI budget instead of its full one.
        #[arg(long, conflicts_with = "seeds")]
        ci: bool,
        /// Keep going after a flawed scenario's first violation (to count them all).
        #[arg(long)]
        all: bool,
        /// The strategy (random, pct, pct:D, pos, swarm, portfolio, or exhaustive[:BOUND]
        /// for bounded exhaustive search); defaults to each scenario's.
        #[arg(long)]
        strategy: Option<RunStrategy>,
        /// Run only this job's share of the seeds: `K/N` (seeds whose offset is K mod N).
        #[arg(long, default_value = "0/1")]
        shard: Shard,
        /// Worker threads (each world stays single-threaded); default: every core.
        #[arg(long, visible_alias = "jobs")]
        threads: Option<usize>,
        /// Write the results as JSON (for `merge`).
        #[arg(long)]
        json: Option<std::path::PathBuf>,
        /// Write the results as JUnit XML.
        #[arg(long)]
        junit: Option<std::path::PathBuf>,
        /// Shrink an unexpected failure and write it to the corpus (`--corpus`).
        #[arg(long)]
        save: bool,
        /// The corpus directory for `--save`.
        #[arg(long, default_value = "seeds")]
        corpus: std::path::PathBuf,
        /// For flawed scenarios: measure, over this many base seeds (base k starts at
        /// k * 2^32), the runs needed to the first violation and that run's length, and
        /// print the medians.
        #[arg(long)]
        bases: Option<u64>,
    },
    /// The CI gate: the determinism self-check (the built-in workload over a seed budget
    /// and each scenario over a few seeds, every run twice, same trace hash), the
    /// regression corpus (every entry replays as recorded), then every scenario over its
    /// CI seed budget (a flawed one must find its violation, a fixed one pass every seed).
    /// Exits 1 on any failure, 2 on a malformed scenario.
    Check {
        /// Seeds of the determinism self-check on fsim's built-in mixed workload.
        #[arg(long, default_value_t = 10_000, value_parser = seed_count())]
        seeds: u64,
        /// Seeds of the determinism self-check on each scenario (each run twice).
        #[arg(long, default_value_t = 100, value_parser = seed_count())]
        determinism_seeds: u64,
        /// The scenario directory.
        #[arg(long, default_value = "scenarios")]
        scenarios: std::path::PathBuf,
        /// Each scenario's full budget instead of its CI budget.
        #[arg(long)]
        full: bool,
        /// The regression corpus; every entry must replay as recorded.
        #[arg(long, default_value = "seeds")]
        corpus: std::path::PathBuf,
        /// Write the scenario results as JSON.
        #[arg(long)]
        json: Option<std::path::PathBuf>,
        /// Write the scenario results as JUnit XML.
        #[arg(long)]
        junit: Option<std::path::PathBuf>,
        /// Write the shrunk schedule of every new failure here (as corpus entries).
        #[arg(long)]
        artifacts: Option<std::path::PathBuf>,
    },
    /// Exhaustive search: every schedule with at most `--bound` deviations from the
    /// default (faults included), with no reduction; or with `--all` every class of
    /// equivalent schedules, one run each (dynamic partial-order reduction), with no bound.
    /// A flawed scenario must be found; a fixed one must be proven. Exits 1 otherwise.
    /// (`--all` reduces nothing in a world whose invariants look between steps or that
    /// shares values outside the kernel, as the Foundation's do: there every step depends
    /// on every other.)
    Explore {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Deviations per run (the search without reduction).
        #[arg(long, default_value_t = 1)]
        bound: u32,
        /// Instead of a bound: every class of schedules, one run per class, with dynamic
        /// partial-order reduction; prints the runs the search without reduction needs
        /// beside it.
        #[arg(long, conflicts_with = "bound")]
        all: bool,
        /// Runs per scenario at most.
        #[arg(long, default_value_t = 200_000, value_parser = clap::value_parser!(u64).range(1..))]
        max_runs: u64,
    },
    /// Combines the JSON results of `run --json` from several shards (or machines)
    /// into one, and prints it; exits 1 if the shards disagree.
    Merge {
        /// The JSON files.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Write the merged JSON here instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Replays one run of a scenario — from a seed (with its strategy) or a tape file (one
    /// choice a line) — and tells it as a story (every step with `--trace`). A corpus
    /// entry is asserted: it exits 1 when its trace hash differs.
    Replay {
        /// A scenario file (with `--seed` or `--tape`), or a corpus entry
        /// (`seeds/<scenario>/<id>.json`), whose trace hash is then asserted.
        scenario: std::path::PathBuf,
        /// Where a corpus entry's scenario is looked up by name.
        #[arg(long, default_value = "scenarios")]
        scenarios: std::path::PathBuf,
        /// The seed.
        #[arg(long, conflicts_with = "tape")]
        seed: Option<u64>,
        /// A tape file.
        #[arg(long)]
        tape: Option<std::path::PathBuf>,
        /// The strategy the seed is for; defaults to the scenario's.
        #[arg(long)]
        strategy: Option<Strategy>,
        /// Also print every step of the run, one a line.
        #[arg(long)]
        trace: bool,
        /// Also print the last N steps of the run.
        #[arg(long, conflicts_with = "trace")]
        last: Option<usize>,
        /// Draw the run as a self-contained SVG sequence diagram here.
        #[arg(long)]
        svg: Option<std::path::PathBuf>,
        /// ... as a self-contained HTML page.
        #[arg(long)]
        html: Option<std::path::PathBuf>,
        /// ... as Mermaid text.
        #[arg(long)]
        mermaid: Option<std::path::PathBuf>,
    },
    /// Shrinks a failing run of a flawed scenario (the first failing seed, or `--seed`)
    /// to the best schedule that still fails the same way, prints it, and with `--save`
    /// writes it to the regression corpus (`seeds/<scenario>/<id>.json`).
    Shrink {
        /// Scenario files or directories (flawed ones are shrunk, others skipped).
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// The failing seed; by default the first in the scenario's budget.
        #[arg(long)]
        seed: Option<u64>,
        /// The strategy; defaults to the scenario's.
        #[arg(long)]
        strategy: Option<Strategy>,
        /// Write the shrunk failure to the corpus.
        #[arg(long)]
        save: bool,
        /// The corpus directory.
        #[arg(long, default_value = "seeds")]
        corpus: std::path::PathBuf,
        /// Replays at most.
        #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
        budget: u32,
        /// Also every step the violation depends on, one a line (the story tells only
        /// the deviations, the faults and the last calls).
        #[arg(long)]
        trace: bool,
    },
    /// Measures the kernel: ping-pong, a three-actor model over many seeds, spawn churn.
    #[command(hide = true)]
    Bench {
        /// Ping-pong messages.
        #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        messages: u64,
        /// Seeds of the three-actor model.
        #[arg(long, default_value_t = 100_000, value_parser = seed_count())]
        seeds: u64,
        /// Children spawned (and exited) one after another.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..))]
        children: u32,
        /// Instead: the explorers on the planted crash-between-steps race, with more and
        /// more unrelated actor work — runs to find it for exhaustive search, PCT, POS and
        /// random (median of 20 seeds).
        #[arg(long)]
        explore: bool,
        /// Instead: programs of Concuerror's DPOR test suite — the runs fsim's exhaustive
        /// search needs to complete each, beside the interleavings Concuerror explores (M).
        #[arg(long, conflicts_with = "explore")]
        dpor: bool,
        /// Instead: the shrinker on planted bugs — shrunk faults, deviations and steps
        /// beside each bug's hand-derived optimum, certified or not, and the time.
        #[arg(long, conflicts_with_all = ["explore", "dpor"])]
        shrink: bool,
    },
}

thread_local! {
    /// The systems the running command line serves (set by [`main`] for its duration).
    static SYSTEMS: std::cell::RefCell<Systems> = std::cell::RefCell::new(Systems::new());
}

use crate::report::command;

/// The whole `fsim` command line over `systems`: a user's crate gets it with
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     fsim::cli::main(fsim::system::Systems::new() /* .with(my_system()) */)
/// }
/// ```
///
/// Scenario files name one of `systems` (`system = "..."`; with one system it may be left
/// out). The exit code says how it went: 0 as expected, 1 a violation or an unexpected
/// outcome, 2 bad input or usage.
pub fn main(systems: Systems) -> ExitCode {
    main_with(systems, &Layout::default())
}

/// SIGINT or SIGTERM: sweeps stop after the runs in progress and the command line writes
/// what it has, marked interrupted, and exits 130. A second signal ends the process.
#[cfg(unix)]
extern "C" fn on_interrupt(sig: libc::c_int) {
    explore::interrupt();
    // SAFETY: `signal` is async-signal-safe; the next one gets the default action.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
    }
}

/// The exit code of a command line stopped by SIGINT or SIGTERM.
pub const INTERRUPTED_EXIT: u8 = 130;

/// [`main`] with the crate's own directories.
pub fn main_with(systems: Systems, layout: &Layout) -> ExitCode {
    // A command line whose output is piped into `head` stops quietly when the pipe
    // closes, as other Unix tools do, instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default action of SIGPIPE and installing a handler for
    // SIGINT/SIGTERM that only stores to an atomic and restores the default action (both
    // async-signal-safe), at the start of the process's command line, before any thread
    // is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let handler = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    run(std::env::args_os(), systems, layout)
}

/// Where a crate keeps its scenario files and its regression corpus: the defaults of the
/// commands' `--scenarios`/`--corpus` options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The scenario directory (default `scenarios`).
    pub scenarios: std::path::PathBuf,
    /// The regression corpus (default `seeds`).
    pub corpus: std::path::PathBuf,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            scenarios: "scenarios".into(),
            corpus: "seeds".into(),
        }
    }
}

/// [`main`] with explicit arguments (the first is the program name) and directories.
pub fn run<I, T>(args: I, systems: Systems, layout: &Layout) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let scenarios = layout.scenarios.display().to_string();
    let corpus = layout.corpus.display().to_string();
    let mut cmd = Cli::command();
    for (sub, arg, value) in [
        ("list", "dir", &scenarios),
        ("explain", "dir", &scenarios),
        ("explain", "scenarios", &scenarios),
        ("check", "scenarios", &scenarios),
        ("replay", "scenarios", &scenarios),
        ("run", "corpus", &corpus),
        ("check", "corpus", &corpus),
        ("shrink", "corpus", &corpus),
    ] {
        // clap keeps defaults as `&'static str`; a command line is parsed once per process.
        let value: &'static str = Box::leak(value.clone().into_boxed_str());
        cmd = cmd.mut_subcommand(sub, |c| c.mut_arg(arg, |a| a.default_value(value)));
    }
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let program = args
        .first()
        .map(std::path::Path::new)
        .and_then(|p| p.file_name())
        .map_or_else(|| "fsim".into(), |n| n.to_string_lossy().into_owned());
    // A user's crate's binary answers `--version` by its own name, and says which fsim
    // it runs (fsim cannot know the crate's own version).
    if program != "fsim" {
        // As the defaults above: a command line is parsed once per process.
        let name: &'static str = Box::leak(program.clone().into_boxed_str());
        cmd = cmd
            .name(name)
            .version(concat!("(fsim ", env!("CARGO_PKG_VERSION"), ")"));
    }
    let cli = match cmd
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            // Through `eprint!`/`print!` unless on a terminal (colours): a test that runs
            // the command line in process captures the usage text with its own output.
            use std::io::IsTerminal;
            let terminal = if e.use_stderr() {
                std::io::stderr().is_terminal()
            } else {
                std::io::stdout().is_terminal()
            };
            if terminal {
                let _ = e.print();
            } else if e.use_stderr() {
                eprint!("{e}");
            } else {
                print!("{e}");
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let previous = SYSTEMS.with(|s| s.replace(systems));
    let previous_program = crate::report::set_program(program);
    let code = dispatch(cli);
    SYSTEMS.with(|s| s.replace(previous));
    crate::report::set_program(previous_program);
    code
}

fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::List { dir } => list(&dir),
        Command::Explain {
            dir,
            scenarios,
            bases,
            bound,
            seeds,
        } => {
            if dir.extension().is_some_and(|x| x == "json") {
                return explain_entry(&dir, &scenarios);
            }
            // A verdict needs schedules behind it.
            if seeds == Some(0) || bases == 0 || bases > BASES_MAX {
                eprintln!(
                    "error: explain needs --seeds of at least 1 and --bases between 1 and {BASES_MAX}"
                );
                return ExitCode::from(2);
            }
            explain(&dir, bases, bound, seeds)
        }
        Command::Run {
            paths,
            seeds,
            ci,
            all,
            bases,
            strategy,
            shard,
            threads,
            json,
            junit,
            save,
            corpus,
        } => {
            // Options that a mode would silently ignore are refused by name.
            let sweep_only = [
                ("--json", json.is_some()),
                ("--junit", junit.is_some()),
                ("--seeds", seeds.is_some()),
                ("--shard", shard != Shard::ALL),
                ("--save", save),
                ("--all", all),
                ("--ci", ci),
            ];
            let mode = match (&bases, &strategy) {
                (Some(_), Some(RunStrategy::Exhaustive(_))) => {
                    eprintln!(
                        "error: --bases measures seeded strategies; --strategy exhaustive does not take it"
                    );
                    return ExitCode::from(2);
                }
                (_, Some(RunStrategy::Exhaustive(_))) => Some("--strategy exhaustive"),
                (Some(_), _) => Some("--bases"),
                _ => None,
            };
            if let Some(mode) = mode
                && let Some((flag, _)) = sweep_only.iter().find(|(_, on)| *on)
            {
                eprintln!("error: {flag} does not apply with {mode} (it would be ignored)");
                return ExitCode::from(2);
            }
            if threads.is_some_and(|t| t == 0 || t > THREADS_MAX) {
                eprintln!("error: --jobs must be between 1 and {THREADS_MAX}");
                return ExitCode::from(2);
            }
            if bases.is_some_and(|b| b == 0 || b > BASES_MAX) {
                eprintln!("error: --bases must be between 1 and {BASES_MAX}");
                return ExitCode::from(2);
            }
            let save_to = save.then_some(("--corpus", corpus.as_path()));
            if let Err(code) = check_outputs(json.as_deref(), junit.as_deref(), save_to) {
                return code;
            }
            run_mode(
                paths, seeds, ci, all, bases, strategy, shard, threads, json, junit, save, corpus,
            )
        }
        Command::Merge { files, out } => merge(&files, out.as_deref()),
        Command::Explore {
            paths,
            bound,
            all,
            max_runs,
        } => explore_cmd(
            &paths,
            if all {
                explain::Reach::All
            } else {
                explain::Reach::Bound(bound)
            },
            max_runs,
        ),
        Command::Shrink {
            paths,
            seed,
            strategy,
            save,
            corpus,
            budget,
            trace,
        } => shrink_cmd(
            &paths,
            seed,
            strategy,
            save.then_some(corpus.as_path()),
            budget,
            trace,
        ),
        Command::Replay {
            scenario,
            scenarios,
            seed,
            tape,
            strategy,
            trace,
            last,
            svg,
            html,
            mermaid,
        } => {
            let pictures = Pictures { svg, html, mermaid };
            let last = if trace { Some(usize::MAX) } else { last };
            if scenario.extension().is_some_and(|x| x == "json") {
                replay_entry(&scenario, &scenarios, last, &pictures)
            } else {
                replay(&scenario, seed, tape.as_deref(), strategy, last, &pictures)
            }
        }
        Command::Check {
            seeds,
            determinism_seeds,
            scenarios,
            full,
            corpus,
            json,
            junit,
            artifacts,
        } => {
            let save_to = artifacts.as_deref().map(|a| ("--artifacts", a));
            if let Err(code) = check_outputs(json.as_deref(), junit.as_deref(), save_to) {
                return code;
            }
            // A corpus that does not exist yet is none; a file there would check nothing.
            if corpus.exists() && !corpus.is_dir() {
                eprintln!("error: --corpus {}: not a directory", corpus.display());
                return ExitCode::from(2);
            }
            let determinism = match load_or_report(std::slice::from_ref(&scenarios)) {
                Ok(all) => check_determinism(seeds, &all, determinism_seeds),
                Err(code) => return code,
            };
            let regressions = check_corpus(&corpus, &scenarios);
            let races = run::run(
                &[scenarios],
                None,
                !full,
                false,
                &RunOpts {
                    strategy: None,
                    shard: Shard::ALL,
                    threads: explore::threads(),
                    json,
                    junit,
                    save: artifacts,
                },
            );
            [determinism, regressions, races]
                .into_iter()
                .find(|c| *c != ExitCode::SUCCESS)
                .unwrap_or(ExitCode::SUCCESS)
        }
        Command::Bench {
            messages,
            seeds,
            children,
            explore,
            dpor,
            shrink,
        } => {
            if shrink {
                bench_shrink::print_table(&bench_shrink_bugs::bugs());
            } else if dpor {
                bench_dpor();
            } else if explore {
                bench_explore();
            } else {
                bench(messages, seeds, children);
            }
            ExitCode::SUCCESS
        }
    }
}

/// `--bases` at most (base k starts at seed k * 2^32).
const BASES_MAX: u64 = 10_000;

/// `--jobs` at most: a world per thread, and nothing gains from more threads than this.
const THREADS_MAX: usize = 1_024;

/// `fsim run` once its options are checked: exhaustive search, the runs-to-failure
/// measure, or the seed sweep.
#[allow(clippy::too_many_arguments)]
fn run_mode(
    paths: Vec<std::path::PathBuf>,
    seeds: Option<String>,
    ci: bool,
    all: bool,
    bases: Option<u64>,
    strategy: Option<RunStrategy>,
    shard: Shard,
    threads: Option<usize>,
    json: Option<std::path::PathBuf>,
    junit: Option<std::path::PathBuf>,
    save: bool,
    corpus: std::path::PathBuf,
) -> ExitCode {
    match (bases, strategy) {
        (_, Some(RunStrategy::Exhaustive(bound))) => {
            explore_cmd(&paths, explain::Reach::Bound(bound), 200_000)
        }
        (Some(n), strategy) => measure(&paths, n, strategy.map(RunStrategy::seeded)),
        (None, strategy) => run::run(
            &paths,
            seeds.as_deref(),
            ci,
            all,
            &RunOpts {
                strategy: strategy.map(RunStrategy::seeded),
                shard,
                threads: threads.unwrap_or_else(explore::threads),
                json,
                junit,
                save: save.then_some(corpus),
            },
        ),
    }
}

/// Checks the output paths of a sweep (`--json`, `--junit`, and the corpus new failures
/// are saved to, under its flag's name) before it starts, so that its results are not lost
/// to a bad path at the end; a bad one is reported as exit code 2.
fn check_outputs(
    json: Option<&std::path::Path>,
    junit: Option<&std::path::Path>,
    corpus: Option<(&str, &std::path::Path)>,
) -> Result<(), ExitCode> {
    let bad = |flag: &str, p: &std::path::Path, e: std::io::Error| {
        eprintln!("error: {flag} {}: {e}", p.display());
        ExitCode::from(2)
    };
    for (flag, path) in [("--json", json), ("--junit", junit)] {
        if let Some(p) = path {
            writable(p).map_err(|e| bad(flag, p, e))?;
        }
    }
    if let Some((flag, dir)) = corpus {
        std::fs::create_dir_all(dir).map_err(|e| bad(flag, dir, e))?;
    }
    Ok(())
}

/// A seed count: 1 to [`crate::scenario::caps::SEEDS_MAX`] (0 would check nothing).
fn seed_count() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..=crate::scenario::caps::SEEDS_MAX)
}

/// Can a file be written at `path`? Checked before a long sweep, so that its results are
/// not lost to a bad path at the end.
fn writable(path: &std::path::Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if path.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let probe = dir.join(format!(".fsim-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

fn parse_seeds(s: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || {
        format!(
            "--seeds `{s}`: expected N or A..B with A < B, at most {} seeds",
            crate::scenario::caps::SEEDS_MAX
        )
    };
    let range: std::ops::Range<u64> = match s.split_once("..") {
        Some((a, b)) => {
            let a = a.parse().map_err(|_| bad())?;
            let b = b.parse().map_err(|_| bad())?;
            a..b
        }
        None => 0..s.parse().map_err(|_| bad())?,
    };
    let len = range.end.saturating_sub(range.start);
    if len == 0 || len > crate::scenario::caps::SEEDS_MAX {
        return Err(bad());
    }
    Ok(range)
}

/// [`load`], with a malformed file reported on standard error as exit code 2.
fn load_or_report(paths: &[std::path::PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    load(paths).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn load(paths: &[std::path::PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let found = load_dir(p)?;
            if found.is_empty() {
                return Err(ScenarioError {
                    file: p.display().to_string(),
                    line: 0,
                    column: 0,
                    field: String::new(),
                    message: "no scenario files (*.toml) in this directory".into(),
                });
            }
            out.extend(found);
        } else {
            out.push(load_file(p)?);
        }
    }
    scenario::unique_names(&out)?;
    Ok(out)
}

/// A corpus entry and its scenario (looked up by name in `scenarios`); bad input is
/// reported on standard error as exit code 2.
fn load_entry(
    path: &std::path::Path,
    scenarios: &std::path::Path,
) -> Result<(corpus::Entry, Scenario), ExitCode> {
    let bad = |e: String| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    };
    let entry = corpus::Entry::load(path).map_err(bad)?;
    let all = load_dir(scenarios).map_err(|e| bad(e.to_string()))?;
    match all.into_iter().find(|s| s.name == entry.scenario) {
        Some(s) => Ok((entry, s)),
        None => Err(bad(format!(
            "{}: no scenario named {} in {}",
            path.display(),
            entry.scenario,
            scenarios.display()
        ))),
    }
}

/// Loads one scenario file of the systems this command line serves.
fn load_file(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
    SYSTEMS.with(|s| Scenario::load(path, &s.borrow()))
}

/// Loads every scenario file in a directory.
fn load_dir(dir: &std::path::Path) -> Result<Vec<Scenario>, ScenarioError> {
    SYSTEMS.with(|s| scenario::load_dir(dir, &s.borrow()))
}
