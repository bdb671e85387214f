//! The `fsim` command line: clap commands over the layers below (scenario, explore,
//! report). `src/main.rs` only calls [`main`].

use crate::explore::{self, Shard, StopAt, Strategy, Summary, corpus, exhaustive, shrink};
use crate::scenario::{self, Expect, Scenario, ScenarioError};
use crate::sim::determinism::check_seed;
use crate::sim::{Config, RandomChooser, Sim};
use crate::workload;
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::Instant;

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
        #[arg(default_value = "sim-scenarios")]
        dir: std::path::PathBuf,
    },
    /// The verdict on the report's claims: each flaw reproduced (runs to find it, shrunk
    /// schedule) or refuted (schedules explored, exhaustive bound), and each fix verified.
    Explain {
        /// The scenario directory.
        #[arg(default_value = "sim-scenarios")]
        dir: std::path::PathBuf,
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
        #[arg(long)]
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
        /// Write the results as JSON (for `fsim merge`).
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
    /// The CI gate: the determinism self-check (the built-in workload over a seed budget,
    /// every run twice, same trace hash), then every scenario over its CI seed budget (a
    /// flawed one must find its violation, a fixed one pass every seed). Exits 1 on any
    /// failure, 2 on a malformed scenario.
    Check {
        /// Seeds of the determinism self-check.
        #[arg(long, default_value_t = 10_000)]
        seeds: u64,
        /// The scenario directory.
        #[arg(long, default_value = "sim-scenarios")]
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
    /// Bounded exhaustive search: every schedule with at most `--bound` deviations from
    /// the default (faults included), with partial-order reduction. A flawed scenario must
    /// be found; a fixed one must be proven within the bound. Exits 1 otherwise.
    Explore {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Deviations per run.
        #[arg(long, default_value_t = 1)]
        bound: u32,
        /// Runs per scenario at most.
        #[arg(long, default_value_t = 200_000)]
        max_runs: u64,
    },
    /// Combines the JSON results of `fsim run --json` from several shards (or machines)
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
    /// choice a line) — and prints its trace. With `--expect-hash` it exits 1 when the
    /// trace hash differs.
    Replay {
        /// A scenario file (with `--seed` or `--tape`), or a corpus entry
        /// (`seeds/<scenario>/<id>.json`), whose trace hash is then asserted.
        scenario: std::path::PathBuf,
        /// Where a corpus entry's scenario is looked up by name.
        #[arg(long, default_value = "sim-scenarios")]
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
        /// Print only the last N events.
        #[arg(long)]
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
        #[arg(long, default_value_t = 20_000)]
        budget: u32,
    },
    /// Measures the kernel: ping-pong, a three-actor model over many seeds, spawn churn.
    Bench {
        /// Ping-pong messages.
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Seeds of the three-actor model.
        #[arg(long, default_value_t = 100_000)]
        seeds: u64,
        /// Children spawned (and exited) one after another.
        #[arg(long, default_value_t = 100_000)]
        children: u32,
        /// Instead: the explorers on the planted crash-between-steps race, with more and
        /// more unrelated actor work — runs to find it for exhaustive search, PCT, POS and
        /// random (median of 20 seeds).
        #[arg(long)]
        explore: bool,
    },
}

/// Runs `work` with a progress bar on standard error, when that is a terminal and the job
/// is long enough to want one.
fn with_progress<T: Send>(
    name: &str,
    total: u64,
    work: impl FnOnce(&std::sync::atomic::AtomicU64) -> T + Send,
) -> T {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicU64, Ordering};
    let done = AtomicU64::new(0);
    if !std::io::stderr().is_terminal() || total < 2_000 {
        return work(&done);
    }
    let bar = indicatif::ProgressBar::new(total).with_message(name.to_string());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:34} {bar:30} {pos}/{len} seeds {per_sec} eta {eta}",
        )
        .expect("a valid template"),
    );
    let out = std::thread::scope(|sc| {
        let h = sc.spawn(|| work(&done));
        while !h.is_finished() {
            bar.set_position(done.load(Ordering::Relaxed));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        h.join().expect("the sweep panicked")
    });
    bar.finish_and_clear();
    out
}

/// Parses the command line and runs the command; the exit code says how it went (0 as
/// expected, 1 a violation or an unexpected outcome, 2 bad input or usage).
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::List { dir } => list(&dir),
        Command::Explain {
            dir,
            bases,
            bound,
            seeds,
        } => explain(&dir, bases, bound, seeds),
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
        } => match (bases, strategy) {
            (_, Some(RunStrategy::Exhaustive(bound))) => explore_cmd(&paths, bound, 200_000),
            (Some(n), strategy) => measure(&paths, n, strategy.map(RunStrategy::seeded)),
            (None, strategy) => run(
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
        },
        Command::Merge { files, out } => merge(&files, out.as_deref()),
        Command::Explore {
            paths,
            bound,
            max_runs,
        } => explore_cmd(&paths, bound, max_runs),
        Command::Shrink {
            paths,
            seed,
            strategy,
            save,
            corpus,
            budget,
        } => shrink_cmd(
            &paths,
            seed,
            strategy,
            save.then_some(corpus.as_path()),
            budget,
        ),
        Command::Replay {
            scenario,
            scenarios,
            seed,
            tape,
            strategy,
            last,
            svg,
            html,
            mermaid,
        } => {
            let pictures = Pictures { svg, html, mermaid };
            if scenario.extension().is_some_and(|x| x == "json") {
                replay_entry(&scenario, &scenarios, last, &pictures)
            } else {
                replay(&scenario, seed, tape.as_deref(), strategy, last, &pictures)
            }
        }
        Command::Check {
            seeds,
            scenarios,
            full,
            corpus,
            json,
            junit,
            artifacts,
        } => {
            let determinism = check(seeds);
            let regressions = check_corpus(&corpus, &scenarios);
            let races = run(
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
        } => {
            if explore {
                bench_explore();
            } else {
                bench(messages, seeds, children);
            }
            ExitCode::SUCCESS
        }
    }
}

fn parse_seeds(s: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || format!("--seeds `{s}`: expected N or A..B");
    match s.split_once("..") {
        Some((a, b)) => {
            let a = a.parse().map_err(|_| bad())?;
            let b = b.parse().map_err(|_| bad())?;
            if a < b { Ok(a..b) } else { Err(bad()) }
        }
        None => s.parse().map(|n| 0..n).map_err(|_| bad()),
    }
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
            out.extend(scenario::load_dir(p)?);
        } else {
            out.push(Scenario::load(p)?);
        }
    }
    Ok(out)
}

fn list(dir: &std::path::Path) -> ExitCode {
    let scenarios = match load_or_report(&[dir.to_path_buf()]) {
        Ok(s) => s,
        Err(code) => return code,
    };
    println!("| scenario | flaws | expect | invariants | seeds (CI) | strategy |");
    println!("|---|---|---|---|---|---|");
    for s in &scenarios {
        let flaws: Vec<String> = s.flaws.iter().map(|f| f.to_string()).collect();
        let expect = match &s.expect {
            Expect::Pass => "pass".to_string(),
            Expect::Violation(inv) => format!("violation of {inv}"),
        };
        println!(
            "| {} | {} | {expect} | {} | {} ({}) | {} |",
            s.name,
            if flaws.is_empty() {
                "none (fixed design)".into()
            } else {
                flaws.join(", ")
            },
            s.invariants.join(", "),
            s.explore.seeds,
            s.explore.ci_seeds,
            s.explore.strategy
        );
    }
    ExitCode::SUCCESS
}

fn explain(dir: &std::path::Path, bases: u64, bound: u32, seeds: Option<u64>) -> ExitCode {
    let scenarios = match load_or_report(&[dir.to_path_buf()]) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut bad = 0;
    println!("| claim (scenario) | verdict | evidence |");
    println!("|---|---|---|");
    for s in &scenarios {
        let verdict = match &s.expect {
            Expect::Violation(inv) => explain_flaw(s, inv, bases),
            Expect::Pass => explain_pass(s, bound, seeds),
        };
        match verdict {
            Ok((v, evidence)) => println!("| {} | {v} | {evidence} |", s.name),
            Err(why) => {
                bad += 1;
                println!("| {} | NOT AS EXPECTED | {why} |", s.name);
            }
        }
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Reproduced: runs to the first violation (median over `bases`) and the shrunk repro.
fn explain_flaw(s: &Scenario, inv: &str, bases: u64) -> Result<(String, String), String> {
    let mut runs = Vec::new();
    let mut first = None;
    for b in 0..bases.max(1) {
        let start = b << 32;
        let sw = explore::sweep(
            s,
            s.explore.strategy,
            start..start + s.explore.seeds,
            StopAt::FirstFailure,
        );
        if let Some(k) = &sw.first_unexpected {
            return Err(format!(
                "seed {}: {}",
                k.seed,
                explore::describe(&k.report.outcome)
            ));
        }
        let k = sw
            .first_found
            .ok_or(format!("{inv} not violated in {} seeds", s.explore.seeds))?;
        runs.push(sw.runs);
        first.get_or_insert(k);
    }
    runs.sort();
    let k = first.expect("at least one base");
    let shrunk =
        shrink::shrink(s, &k.report.tape, shrink::Options::default()).map_err(|e| e.to_string())?;
    Ok((
        format!("reproduced: {inv}"),
        format!(
            "median {} runs to find ({}); shrunk from {} to {} steps, {} fault(s), {} deviation(s); `fsim shrink {} --seed {}`",
            runs[runs.len() / 2],
            s.explore.strategy,
            k.report.steps,
            shrunk.report.steps,
            shrunk.report.faults,
            shrunk.report.deviations,
            s.path
                .as_ref()
                .map_or(s.name.clone(), |p| p.display().to_string()),
            k.seed
        ),
    ))
}

/// Refuted (a report claim that must pass) or fixed: seeds passed and the bound proven.
fn explain_pass(s: &Scenario, bound: u32, seeds: Option<u64>) -> Result<(String, String), String> {
    let n = seeds.unwrap_or(s.explore.ci_seeds);
    let sw = explore::sweep(s, s.explore.strategy, 0..n, StopAt::FirstFailure);
    if let Some(k) = sw.first_unexpected.or(sw.first_found) {
        return Err(format!(
            "seed {}: {}",
            k.seed,
            explore::describe(&k.report.outcome)
        ));
    }
    let mut evidence = format!("{n} {} schedules pass", s.explore.strategy);
    if bound > 0 {
        let ex = exhaustive::search(
            |c| s.run_chooser(c),
            |r| r.outcome.is_failure(),
            exhaustive::Bound {
                deviations: bound,
                max_runs: 200_000,
            },
        );
        if let Some((_, r)) = ex.found {
            return Err(format!("exhaustive: {}", explore::describe(&r.outcome)));
        }
        evidence += &if ex.complete {
            format!(
                "; exhaustive search proves all {} schedules within {bound} deviation(s)",
                ex.runs
            )
        } else {
            format!(
                "; {} schedules within {bound} deviation(s) pass (search incomplete)",
                ex.runs
            )
        };
    }
    let verdict = if s.flaws.iter().count() > 0 {
        "refuted under BEAM semantics"
    } else {
        "fix verified"
    };
    Ok((verdict.to_string(), evidence))
}

fn explore_cmd(paths: &[std::path::PathBuf], bound: u32, max_runs: u64) -> ExitCode {
    let scenarios = match load_or_report(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut bad = 0;
    for s in &scenarios {
        let started = Instant::now();
        let search = exhaustive::search(
            |c| s.run_chooser(c),
            |r| r.outcome.is_failure(),
            exhaustive::Bound {
                deviations: bound,
                max_runs,
            },
        );
        let secs = started.elapsed().as_secs_f64();
        let verdict = match (&s.expect, &search.found) {
            (Expect::Violation(inv), Some((_, r)))
                if s.judge(&r.outcome) == scenario::Judgement::Found =>
            {
                format!(
                    "ok   found {inv} after {} runs ({} steps)",
                    search.runs, r.steps
                )
            }
            (Expect::Pass, None) if search.complete => format!(
                "ok   proven: {} runs cover every schedule with <= {bound} deviations ({} pruned as equivalent)",
                search.runs, search.pruned
            ),
            (_, Some((tape, r))) => {
                bad += 1;
                format!(
                    "FAIL after {} runs: {}\n  tape (replay it with `fsim replay --tape FILE`): {}",
                    search.runs,
                    explore::describe(&r.outcome),
                    tape.to_lines().join(" | ")
                )
            }
            (Expect::Violation(inv), None) => {
                bad += 1;
                format!(
                    "FAIL {inv} not found in {} runs (complete: {})",
                    search.runs, search.complete
                )
            }
            (Expect::Pass, None) => {
                bad += 1;
                format!("FAIL not complete within {max_runs} runs")
            }
        };
        println!("{:<34} {verdict} [{secs:.1} s]", s.name);
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

struct RunOpts {
    strategy: Option<Strategy>,
    shard: Shard,
    threads: usize,
    json: Option<std::path::PathBuf>,
    junit: Option<std::path::PathBuf>,
    /// Shrink an unexpected failure and write it to this corpus directory.
    save: Option<std::path::PathBuf>,
}

/// Shrinks an unexpected violation, prints the shrunk schedule and how to replay it, and
/// writes it to the corpus when asked.
fn report_new_failure(
    s: &Scenario,
    strategy: Strategy,
    seed: u64,
    tape: &crate::sim::Tape,
    save: Option<&std::path::Path>,
) {
    let Ok(shrunk) = shrink::shrink(s, tape, shrink::Options::default()) else {
        return; // not a violation (a bound): the recent events above are the report
    };
    let slice = explore::causal_slice(&s.run_tape(&shrunk.tape, true));
    println!(
        "       shrunk: {} steps, {} fault(s), {} deviation(s); the violation's causal past:",
        shrunk.report.steps, shrunk.report.faults, shrunk.report.deviations
    );
    for e in slice.iter().rev().take(12).rev() {
        println!("         {}", e.to_string().lines().next().unwrap_or(""));
    }
    let file = s
        .path
        .as_ref()
        .map_or(s.name.clone(), |p| p.display().to_string());
    match save {
        Some(root) => {
            let entry = corpus::Entry::record(s, &strategy.to_string(), seed, &shrunk.tape);
            match entry.save(root) {
                Ok(p) => println!("       saved; replay with: fsim replay {}", p.display()),
                Err(e) => eprintln!("error: writing the corpus entry: {e}"),
            }
        }
        None => println!(
            "       replay with: fsim replay {file} --seed {seed} --strategy {strategy} (add --save to keep the shrunk schedule)"
        ),
    }
}

/// JUnit XML: one test case per scenario.
fn junit(cases: &[(String, f64, Option<String>)]) -> String {
    let esc = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let failures = cases.iter().filter(|c| c.2.is_some()).count();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"fsim\" tests=\"{}\" failures=\"{failures}\">\n",
        cases.len()
    );
    for (name, secs, failure) in cases {
        x += &format!(
            "  <testcase classname=\"fsim.scenarios\" name=\"{}\" time=\"{secs:.3}\"",
            esc(name)
        );
        match failure {
            None => x += "/>\n",
            Some(m) => x += &format!(">\n    <failure message=\"{}\"/>\n  </testcase>\n", esc(m)),
        }
    }
    x + "</testsuite>\n"
}

fn merge(files: &[std::path::PathBuf], out: Option<&std::path::Path>) -> ExitCode {
    let mut parts = Vec::new();
    for f in files {
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                serde_json::from_str::<Vec<Summary>>(&t)
                    .map_err(|e| format!("line {} column {}: {e}", e.line(), e.column()))
            });
        match parsed {
            Ok(p) => parts.extend(p),
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return ExitCode::from(2);
            }
        }
    }
    let merged = match Summary::merge(&parts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let json = serde_json::to_string_pretty(&merged).expect("summaries serialize");
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, json + "\n") {
                eprintln!("error: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
        None => println!("{json}"),
    }
    ExitCode::SUCCESS
}

fn run(
    paths: &[std::path::PathBuf],
    seeds: Option<&str>,
    ci: bool,
    all: bool,
    opts: &RunOpts,
) -> ExitCode {
    let scenarios = match load_or_report(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let range = match seeds.map(parse_seeds).transpose() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut bad = 0;
    let mut summaries = Vec::new();
    let mut cases = Vec::new();
    for s in &scenarios {
        let budget = if ci {
            s.explore.ci_seeds
        } else {
            s.explore.seeds
        };
        let seeds = range.clone().unwrap_or(0..budget);
        let started = Instant::now();
        let stop = if all {
            StopAt::Never
        } else {
            StopAt::FirstFailure
        };
        let strategy = opts.strategy.unwrap_or(s.explore.strategy);
        let sw = with_progress(&s.name, seeds.end - seeds.start, |done| {
            explore::sweep_with(
                s,
                strategy,
                seeds.clone(),
                opts.shard,
                opts.threads,
                stop,
                Some(done),
            )
        });
        summaries.push(Summary::of(s, strategy, &seeds, opts.shard, &sw));
        let secs = started.elapsed().as_secs_f64();
        let mut failure = None;
        let ok = match (&s.expect, &sw.first_found, &sw.first_unexpected) {
            (_, _, Some(k)) => {
                let what = format!(
                    "seed {}: unexpected {}",
                    k.seed,
                    explore::describe(&k.report.outcome)
                );
                println!("FAIL {:<34} {what}", s.name);
                for e in &k.report.recent {
                    println!("       {e}");
                }
                report_new_failure(s, strategy, k.seed, &k.report.tape, opts.save.as_deref());
                failure = Some(what);
                false
            }
            (Expect::Violation(inv), Some(k), None) => {
                println!(
                    "ok   {:<34} {inv} violated at seed {} ({} runs, {} steps): {}",
                    s.name,
                    k.seed,
                    sw.runs,
                    k.report.steps,
                    explore::describe(&k.report.outcome)
                );
                if opts.save.is_some() {
                    report_new_failure(s, strategy, k.seed, &k.report.tape, opts.save.as_deref());
                }
                true
            }
            (Expect::Violation(inv), None, None) => {
                let what = format!("{inv} never violated in seeds {seeds:?}");
                println!("FAIL {:<34} {what}", s.name);
                failure = Some(what);
                false
            }
            (Expect::Pass, _, None) => {
                println!(
                    "ok   {:<34} passed {} seeds, {:.0} steps per run ({:.1} s)",
                    s.name,
                    sw.runs,
                    sw.steps as f64 / sw.runs.max(1) as f64,
                    secs
                );
                true
            }
        };
        bad += !ok as u32;
        cases.push((s.name.clone(), started.elapsed().as_secs_f64(), failure));
    }
    if let Some(path) = &opts.junit
        && let Err(e) = std::fs::write(path, junit(&cases))
    {
        eprintln!("error: {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if let Some(path) = &opts.json {
        let json = serde_json::to_string_pretty(&summaries).expect("summaries serialize");
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    println!(
        "{} scenarios: {} as expected, {} not",
        scenarios.len(),
        scenarios.len() as u32 - bad,
        bad
    );
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn measure(paths: &[std::path::PathBuf], bases: u64, strategy: Option<Strategy>) -> ExitCode {
    let scenarios = match load_or_report(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    println!(
        "| scenario | invariant | runs to first violation (median of {bases}) | min..max | failing run: steps (median) | faults |"
    );
    println!("|---|---|---|---|---|---|");
    let mut bad = 0;
    for s in &scenarios {
        let Expect::Violation(inv) = &s.expect else {
            continue;
        };
        let (mut runs, mut steps, mut faults) = (Vec::new(), Vec::new(), Vec::new());
        for b in 0..bases {
            let start = b << 32;
            let strategy = strategy.unwrap_or(s.explore.strategy);
            let sw = explore::sweep(
                s,
                strategy,
                start..start + s.explore.seeds,
                StopAt::FirstFailure,
            );
            match sw.first_found {
                Some(k) if sw.first_unexpected.is_none() => {
                    runs.push(sw.runs);
                    steps.push(k.report.steps as u64);
                    faults.push(k.report.faults as u64);
                }
                _ => bad += 1,
            }
        }
        let median = |v: &mut Vec<u64>| {
            v.sort();
            v.get(v.len() / 2).copied().unwrap_or(0)
        };
        let (lo, hi) = (
            runs.iter().min().copied().unwrap_or(0),
            runs.iter().max().copied().unwrap_or(0),
        );
        println!(
            "| {} | {inv} | {} | {lo}..{hi} | {} | {} |",
            s.name,
            median(&mut runs),
            median(&mut steps),
            median(&mut faults)
        );
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{bad} base seeds found no violation (or an unexpected one) within the budget");
        ExitCode::from(1)
    }
}

fn shrink_cmd(
    paths: &[std::path::PathBuf],
    seed: Option<u64>,
    strategy: Option<Strategy>,
    save: Option<&std::path::Path>,
    budget: u32,
) -> ExitCode {
    let scenarios = match load_or_report(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut bad = 0;
    for s in scenarios
        .iter()
        .filter(|s| matches!(s.expect, Expect::Violation(_)))
    {
        let strategy = strategy.unwrap_or(s.explore.strategy);
        let found = match seed {
            Some(seed) => Some((seed, s.run_strategy(strategy, seed))),
            None => explore::sweep(s, strategy, 0..s.explore.seeds, StopAt::FirstFailure)
                .first_found
                .map(|k| (k.seed, k.report)),
        };
        let Some((seed, report)) = found else {
            println!("{}: no failing seed to shrink", s.name);
            bad += 1;
            continue;
        };
        let started = Instant::now();
        let shrunk = match shrink::shrink(s, &report.tape, shrink::Options { budget }) {
            Ok(x) => x,
            Err(e) => {
                println!("{}: seed {seed}: {e}", s.name);
                bad += 1;
                continue;
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let slice = explore::causal_slice(&s.run_tape(&shrunk.tape, true));
        println!(
            "{}: seed {seed} ({strategy}): {} steps -> {} steps ({} in the violation's causal past), \
             {} faults, {} deviations, {} choices; {} replays, {} rounds, {ms:.0} ms",
            s.name,
            shrunk.original_steps,
            shrunk.report.steps,
            slice.len(),
            shrunk.report.faults,
            shrunk.report.deviations,
            shrunk.tape.len(),
            shrunk.replays,
            shrunk.rounds,
        );
        println!("  {}", explore::describe(&shrunk.report.outcome));
        for e in &slice {
            println!("    {}", e.to_string().lines().next().unwrap_or(""));
        }
        if let Some(root) = save {
            let entry = corpus::Entry::record(s, &strategy.to_string(), seed, &shrunk.tape);
            match entry.save(root) {
                Ok(p) => println!("  saved {}", p.display()),
                Err(e) => {
                    eprintln!("error: writing the corpus entry: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `fsim run --strategy`: a seeded strategy, or bounded exhaustive search.
#[derive(Clone, Copy, Debug)]
enum RunStrategy {
    Seeded(Strategy),
    Exhaustive(u32),
}

impl RunStrategy {
    fn seeded(self) -> Strategy {
        match self {
            RunStrategy::Seeded(s) => s,
            RunStrategy::Exhaustive(_) => unreachable!("exhaustive runs go to explore"),
        }
    }
}

impl std::str::FromStr for RunStrategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.strip_prefix("exhaustive") {
            Some("") => Ok(RunStrategy::Exhaustive(1)),
            Some(b) => b
                .strip_prefix(':')
                .and_then(|b| b.parse().ok())
                .map(RunStrategy::Exhaustive)
                .ok_or_else(|| format!("`{s}`: expected exhaustive or exhaustive:BOUND")),
            None => s.parse().map(RunStrategy::Seeded),
        }
    }
}

/// Where `fsim replay` draws the run.
struct Pictures {
    svg: Option<std::path::PathBuf>,
    html: Option<std::path::PathBuf>,
    mermaid: Option<std::path::PathBuf>,
}

impl Pictures {
    fn draw(&self, s: &Scenario, r: &crate::sim::RunReport) -> Result<(), String> {
        let d = crate::report::Diagram::of(&s.name, r);
        for (path, text) in [
            (&self.svg, d.svg()),
            (&self.html, d.html()),
            (&self.mermaid, d.mermaid()),
        ] {
            if let Some(p) = path {
                std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
                println!("drew {}", p.display());
            }
        }
        Ok(())
    }
}

fn replay(
    path: &std::path::Path,
    seed: Option<u64>,
    tape: Option<&std::path::Path>,
    strategy: Option<Strategy>,
    last: Option<usize>,
    pictures: &Pictures,
) -> ExitCode {
    let s = match Scenario::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let tape = match (seed, tape) {
        (Some(seed), _) => {
            s.run_strategy(strategy.unwrap_or(s.explore.strategy), seed)
                .tape
        }
        (None, Some(t)) => {
            let text = match std::fs::read_to_string(t) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("error: {}: {e}", t.display());
                    return ExitCode::from(2);
                }
            };
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            match crate::sim::Tape::from_lines(&lines) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", t.display());
                    return ExitCode::from(2);
                }
            }
        }
        (None, None) => {
            eprintln!("error: give --seed N or --tape FILE");
            return ExitCode::from(2);
        }
    };
    let r = s.run_tape(&tape, true);
    print_run(&s, &r, last);
    if let Err(e) = pictures.draw(&s, &r) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    if let Some(seed) = seed {
        // The seeded run and the replay of its tape must be the same run.
        let seeded = s.run_strategy(strategy.unwrap_or(s.explore.strategy), seed);
        if seeded.trace_hash != r.trace_hash {
            eprintln!(
                "DIVERGED: seed {seed} ran with trace hash {:016x}, its tape replays to {:016x}",
                seeded.trace_hash, r.trace_hash
            );
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn print_run(s: &Scenario, r: &crate::sim::RunReport, last: Option<usize>) {
    let trace = r.trace.as_deref().unwrap_or(&[]);
    let from = last.map_or(0, |n| trace.len().saturating_sub(n));
    for e in &trace[from..] {
        println!("{e}");
    }
    println!(
        "{}: {} steps, {} choices, {} faults, {} deviations, trace hash {:016x}",
        s.name,
        r.steps,
        r.tape.len(),
        r.faults,
        r.deviations,
        r.trace_hash
    );
    println!("{}", explore::describe(&r.outcome));
}

/// `fsim replay seeds/<scenario>/<id>.json`: the recorded run, asserted.
fn replay_entry(
    path: &std::path::Path,
    scenarios: &std::path::Path,
    last: Option<usize>,
    pictures: &Pictures,
) -> ExitCode {
    let entry = match corpus::Entry::load(path) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let all = match scenario::load_dir(scenarios) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(s) = all.iter().find(|s| s.name == entry.scenario) else {
        eprintln!(
            "error: {}: no scenario named {} in {}",
            path.display(),
            entry.scenario,
            scenarios.display()
        );
        return ExitCode::from(2);
    };
    match entry.verify(s) {
        Ok(r) => {
            print_run(s, &r, last);
            println!("replays as recorded (trace hash {})", entry.trace_hash);
            match pictures.draw(s, &r) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Err(why) => {
            eprintln!("DIVERGED: {}: {why}", path.display());
            ExitCode::from(1)
        }
    }
}

/// Replays every corpus entry against its scenario (found by name in `scenarios`).
fn check_corpus(root: &std::path::Path, scenarios: &std::path::Path) -> ExitCode {
    let all = match scenario::load_dir(scenarios) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let paths = corpus::entries(root);
    let mut bad = 0;
    for p in &paths {
        let verdict = corpus::Entry::load(p).and_then(|e| {
            let s = all
                .iter()
                .find(|s| s.name == e.scenario)
                .ok_or_else(|| format!("no scenario named {}", e.scenario))?;
            e.verify(s).map(|r| (e, r))
        });
        match verdict {
            Ok((e, r)) => println!(
                "ok   corpus {} ({} steps, {})",
                p.display(),
                r.steps,
                match &e.expected {
                    corpus::Expected::Violation { invariant } => format!("violates {invariant}"),
                    corpus::Expected::Pass => "passes".into(),
                }
            ),
            Err(why) => {
                bad += 1;
                println!("FAIL corpus {}: {why}", p.display());
            }
        }
    }
    println!(
        "corpus: {} entries, {} replay as recorded, {bad} do not",
        paths.len(),
        paths.len() - bad
    );
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn check(seeds: u64) -> ExitCode {
    let config = workload::mixed_config();
    let started = Instant::now();
    let mut failures = 0u64;
    let mut steps = 0u64;
    for seed in 0..seeds {
        match check_seed(&config, seed, workload::mixed) {
            Ok(r) => {
                steps += r.steps as u64;
                if r.outcome.is_failure() {
                    failures += 1;
                    eprintln!("seed {seed}: {:?}", r.outcome);
                    for e in &r.recent {
                        eprintln!("  {e}");
                    }
                }
            }
            Err(d) => {
                failures += 1;
                eprintln!("{d}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "mixed workload: {seeds} seeds checked twice for determinism, {steps} steps, {failures} failures ({secs:.1} s)"
    );
    println!("{} passed, {} failed", seeds - failures, failures);
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn bench_explore() {
    use crate::sim::{Outcome, ReplayChooser};
    println!(
        "| unrelated pairs x messages | decisions | exhaustive (runs) | pct:2 (median runs) | pos | random |"
    );
    println!("|---|---|---|---|---|---|");
    for (pairs, work) in [(0u32, 0u32), (2, 10), (8, 10), (8, 100), (32, 100)] {
        let config = workload::planted_config("writer");
        let run = |c: &mut dyn crate::sim::Chooser| {
            let mut sim = Sim::new(config.clone());
            workload::crash_between_steps(&mut sim, pairs, work);
            sim.run(c)
        };
        let decisions = run(&mut ReplayChooser::new(Default::default())).tape.len() as u32;
        let found = |r: &crate::sim::RunReport| matches!(r.outcome, Outcome::Violation(_));
        let ex = exhaustive::search(
            run,
            found,
            exhaustive::Bound {
                deviations: 1,
                max_runs: 1_000_000,
            },
        );
        let shape = explore::strategy::Shape {
            fault_ppm: 20_000,
            jump_ppm: 0,
            fault_budget: 1,
            decisions,
        };
        let median_runs = |st: Strategy| {
            let mut v: Vec<u64> = (0..20u64)
                .map(|base| {
                    (0..5_000u64)
                        .position(|i| found(&run(&mut *st.chooser((base << 32) + i, shape))))
                        .map_or(u64::MAX, |p| p as u64 + 1)
                })
                .collect();
            v.sort();
            match v[10] {
                u64::MAX => "> 5000".to_string(),
                n => n.to_string(),
            }
        };
        println!(
            "| {pairs} x {work} | {decisions} | {} | {} | {} | {} |",
            ex.runs,
            median_runs(Strategy::Pct { depth: 2 }),
            median_runs(Strategy::Pos),
            median_runs(Strategy::Random)
        );
    }
}

fn bench(messages: u64, seeds: u64, n: u32) {
    let t = Instant::now();
    let mut sim = Sim::new(workload::unbounded_config());
    workload::ping_pong(&mut sim, messages);
    let r = sim.run(&mut RandomChooser::new(1));
    let s = t.elapsed().as_secs_f64();
    println!(
        "ping_pong {messages} msgs: {} decisions in {s:.3} s = {:.2}M decisions/s, {:.2}M msgs/s",
        r.steps,
        r.steps as f64 / s / 1e6,
        messages as f64 / s / 1e6
    );
    let t = Instant::now();
    let mut steps = 0u64;
    let config = Config::default();
    for seed in 0..seeds {
        let mut sim = Sim::new(config.clone());
        workload::three_actors(&mut sim);
        steps += sim.run(&mut RandomChooser::new(seed)).steps as u64;
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "three_actors: {seeds} executions in {s:.3} s = {:.0}k executions/s ({:.1} decisions each)",
        seeds as f64 / s / 1e3,
        steps as f64 / seeds as f64
    );
    let t = Instant::now();
    let mut sim = Sim::new(workload::unbounded_config());
    workload::churn(&mut sim, n);
    let r = sim.run(&mut RandomChooser::new(1));
    let s = t.elapsed().as_secs_f64();
    println!(
        "spawn_exit_churn: {n} children in {s:.3} s = {:.2}M spawn+exit/s ({} decisions, {:?})",
        n as f64 / s / 1e6,
        r.steps,
        r.outcome
    );
}
