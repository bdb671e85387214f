//! `fsim run` and `fsim merge`: sweeps, their reports (text, JSON, JUnit), new failures.

use super::*;

/// Runs `work` with a progress bar on standard error, when that is a terminal and the job
/// is long enough to want one.
pub(super) fn with_progress<T: Send>(
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

pub(super) struct RunOpts {
    pub(super) strategy: Option<Strategy>,
    pub(super) shard: Shard,
    pub(super) threads: usize,
    pub(super) json: Option<std::path::PathBuf>,
    pub(super) junit: Option<std::path::PathBuf>,
    /// Shrink an unexpected failure and write it to this corpus directory.
    pub(super) save: Option<std::path::PathBuf>,
}

/// Shrinks an unexpected violation, prints the shrunk schedule and how to replay it, and
/// writes it to the corpus when asked; the error says why the entry could not be written.
pub(super) fn report_new_failure(
    s: &Scenario,
    strategy: Strategy,
    seed: u64,
    tape: &crate::sim::Tape,
    save: Option<&std::path::Path>,
) -> Result<(), String> {
    let Ok(shrunk) = shrink::shrink(s, tape, s.shrink_options()) else {
        return Ok(()); // not a violation (a bound): the recent events above are the report
    };
    let traced = s.run_tape(&shrunk.tape, true);
    println!(
        "       shrunk: {} steps, {} fault(s), {} deviation(s) ({}); the steps the violation depends on:",
        shrunk.report.steps,
        shrunk.report.faults,
        shrunk.report.deviations,
        s.schedule_note(&shrunk.report)
    );
    for line in crate::report::schedule(&traced, 12) {
        println!("         {line}");
    }
    let file = s.source();
    match save {
        Some(root) => {
            let entry = corpus::Entry::record(s, &strategy.to_string(), seed, &shrunk.tape);
            let p = entry.save(root)?;
            println!(
                "       saved; replay with: {}",
                command(format!("replay {}", p.display()))
            );
        }
        None => println!(
            "       replay with: {} (add --save to keep the shrunk schedule)",
            command(format!("replay {file} --seed {seed} --strategy {strategy}"))
        ),
    }
    Ok(())
}

/// JUnit XML: one test case per scenario.
pub(super) fn junit(cases: &[(String, f64, Option<String>)]) -> String {
    // XML 1.0 has no way to write most control characters, not even escaped: they
    // become `?`.
    let esc = |t: &str| {
        t.chars()
            .map(|c| {
                if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                    '?'
                } else {
                    c
                }
            })
            .collect::<String>()
            .replace('&', "&amp;")
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

pub(super) fn merge(files: &[std::path::PathBuf], out: Option<&std::path::Path>) -> ExitCode {
    let mut parts = Vec::new();
    for f in files {
        let parsed = crate::files::read_capped(f)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                crate::files::from_json::<Vec<Summary>>(&t)
                    .map_err(|(line, column, what)| format!("line {line} column {column}: {what}"))
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
            if let Err(e) = crate::files::write_atomic(p, json + "\n") {
                eprintln!("error: {}: {e}", p.display());
                return ExitCode::from(2);
            }
        }
        None => println!("{json}"),
    }
    ExitCode::SUCCESS
}

pub(super) fn run(
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
    // Corpus entries that could not be written: bad output paths, exit code 2.
    let mut unwritten = 0;
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
        if sw.interrupted {
            // Nothing is judged on a partial sweep: its counts go to the JSON, marked.
            println!(
                "INTERRUPTED {:<27} after {} runs; the results written are marked interrupted",
                s.name, sw.runs
            );
            cases.push((
                s.name.clone(),
                started.elapsed().as_secs_f64(),
                Some(format!("interrupted after {} runs", sw.runs)),
            ));
            break;
        }
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
                if let Err(e) =
                    report_new_failure(s, strategy, k.seed, &k.report.tape, opts.save.as_deref())
                {
                    eprintln!("error: writing the corpus entry {e}");
                    unwritten += 1;
                }
                failure = Some(what);
                false
            }
            (Expect::Violation(inv), Some(k), None) => {
                // With --all, how many runs violated it: what --all is asked for.
                let runs = if all {
                    format!("{} of {} runs violate it", sw.found, sw.runs)
                } else {
                    format!("{} runs", sw.runs)
                };
                println!(
                    "ok   {:<34} {inv} violated at seed {} ({runs}, {} steps): {}",
                    s.name,
                    k.seed,
                    k.report.steps,
                    explore::describe(&k.report.outcome)
                );
                if opts.save.is_some()
                    && let Err(e) = report_new_failure(
                        s,
                        strategy,
                        k.seed,
                        &k.report.tape,
                        opts.save.as_deref(),
                    )
                {
                    eprintln!("error: writing the corpus entry {e}");
                    unwritten += 1;
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
        && let Err(e) = crate::files::write_atomic(path, junit(&cases))
    {
        eprintln!("error: {}: {e}", path.display());
        return ExitCode::from(2);
    }
    if let Some(path) = &opts.json {
        let json = serde_json::to_string_pretty(&summaries).expect("summaries serialize");
        if let Err(e) = crate::files::write_atomic(path, json + "\n") {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if explore::interrupted() {
        return ExitCode::from(super::INTERRUPTED_EXIT);
    }
    println!(
        "{} scenarios: {} as expected, {} not",
        scenarios.len(),
        scenarios.len() as u32 - bad,
        bad
    );
    if unwritten > 0 {
        eprintln!("error: {unwritten} corpus entries could not be written (see above)");
        ExitCode::from(2)
    } else if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub(super) fn measure(
    paths: &[std::path::PathBuf],
    bases: u64,
    strategy: Option<Strategy>,
) -> ExitCode {
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
                start..start.saturating_add(s.explore.seeds),
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

/// `fsim run --strategy`: a seeded strategy, or bounded exhaustive search.
#[derive(Clone, Copy, Debug)]
pub(super) enum RunStrategy {
    Seeded(Strategy),
    Exhaustive(u32),
}

impl RunStrategy {
    pub(super) fn seeded(self) -> Strategy {
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
