//! `fsim list`, `fsim explain`, `fsim explore`, `fsim shrink`.

use super::*;

pub(super) fn list(dir: &std::path::Path) -> ExitCode {
    let scenarios = match load_or_report(&[dir.to_path_buf()]) {
        Ok(s) => s,
        Err(code) => return code,
    };
    println!(
        "| scenario | system | configuration | delivery | expect | default schedule | invariants | seeds (CI) | strategy |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for s in &scenarios {
        let expect = match &s.expect {
            Expect::Pass => "pass".to_string(),
            Expect::Violation(inv) => format!("violation of {inv}"),
        };
        let default = if default_schedule_fails(s) {
            "fails (deterministic)"
        } else {
            "passes"
        };
        println!(
            "| {} | {} | {} | {} | {expect} | {default} | {} | {} ({}) | {} |",
            s.name,
            s.system,
            s.describe(),
            s.delivery.name(),
            s.invariants.join(", "),
            s.explore.seeds,
            s.explore.ci_seeds,
            s.explore.strategy
        );
    }
    ExitCode::SUCCESS
}

pub(super) fn explain(
    dir: &std::path::Path,
    bases: u64,
    bound: u32,
    seeds: Option<u64>,
) -> ExitCode {
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

/// `fsim explain seeds/<scenario>/<id>.json`: the repro, replayed as recorded, told as
/// a story, with what kind of bug it is and its certificate (the shrinker run again from
/// it, which also says whether a smaller one exists).
pub(super) fn explain_entry(path: &std::path::Path, scenarios: &std::path::Path) -> ExitCode {
    let (entry, s) = match load_entry(path, scenarios) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (r, marks) = match entry.verify_marked(&s) {
        Ok(x) => x,
        Err(why) => {
            eprintln!("DIVERGED: {}: {why}", path.display());
            return ExitCode::from(1);
        }
    };
    println!(
        "{}: scenario {}, {} steps, {} fault(s), {} deviation(s); replays as recorded \
         (trace hash {})",
        path.display(),
        s.name,
        r.steps,
        r.faults,
        r.deviations,
        entry.trace_hash
    );
    println!(
        "outcome: {}",
        crate::report::with_labels(&explore::describe(&r.outcome), &r)
    );
    if !r.outcome.is_failure() {
        println!("a passing run: nothing to explain");
        return ExitCode::SUCCESS;
    }
    println!("kind: a {}", bug_kind(&s, &r));
    match shrink::shrink(&s, &entry.tape, s.shrink_options()) {
        Ok(better) => {
            println!("certificate: {}", better.certificate.describe());
            let (was, now) = (
                shrink::Rank::of(&r, &entry.tape),
                shrink::Rank::of(&better.report, &better.tape),
            );
            if now < was {
                println!(
                    "a smaller repro exists: {} steps, {} fault(s), {} deviation(s) \
                     (`{}` replaces this entry)",
                    better.report.steps,
                    better.report.faults,
                    better.report.deviations,
                    command(format!(
                        "shrink {} --seed {} --strategy {} --save",
                        s.source(),
                        entry.seed,
                        entry.strategy
                    ))
                );
            }
        }
        Err(e) => println!("certificate: not certified ({e})"),
    }
    println!("the story:");
    for line in crate::report::story::story(&r, &marks) {
        println!("  {line}");
    }
    ExitCode::SUCCESS
}

/// Reproduced: runs to the first violation (median over `bases`) and the shrunk repro.
pub(super) fn explain_flaw(
    s: &Scenario,
    inv: &str,
    bases: u64,
) -> Result<(String, String), String> {
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
        shrink::shrink(s, &k.report.tape, s.shrink_options()).map_err(|e| e.to_string())?;
    let kind = bug_kind(s, &shrunk.report);
    let where_ = reachable_on_one_node(s);
    Ok((
        format!("reproduced: {inv}; {kind}; {where_}"),
        format!(
            "median {} runs to find ({}); shrunk from {} to {} steps, {} fault(s), {} deviation(s), {}; `{}`",
            runs[runs.len() / 2],
            s.explore.strategy,
            k.report.steps,
            shrunk.report.steps,
            shrunk.report.faults,
            shrunk.report.deviations,
            shrunk.certificate.describe(),
            command(format!("shrink {} --seed {}", s.source(), k.seed)),
        ),
    ))
}

/// Whether a finding is reachable on one node: found under `local`, or (for a scenario
/// between nodes) found again when the same seeds run under `local`.
fn reachable_on_one_node(s: &Scenario) -> String {
    if s.delivery == crate::sim::Delivery::Local {
        return "reachable on one node (local delivery)".into();
    }
    let local = s.clone().with_delivery(crate::sim::Delivery::Local);
    let n = s.explore.seeds;
    let sw = explore::sweep(&local, local.explore.strategy, 0..n, StopAt::FirstFailure);
    match sw.first_found {
        Some(k) => format!(
            "reachable on one node too (found under local delivery at seed {})",
            k.seed
        ),
        None => format!("needs distribution (not found under local delivery in {n} seeds)"),
    }
}

/// What kind of bug the failing run `repro` of `s` shows: a deterministic bug (the default
/// schedule fails) or a race, with the deviations and faults the repro needs.
fn bug_kind(s: &Scenario, repro: &crate::sim::RunReport) -> String {
    if default_schedule_fails(s) {
        "deterministic bug (fails on the default schedule, no fault)".to_string()
    } else {
        format!(
            "race (the default schedule passes; the repro has {} deviation(s) and {} fault(s))",
            repro.deviations, repro.faults
        )
    }
}

/// Does the run with every choice at its default (the first action offered, no fault, no
/// early time jump) fail? Then the failure is a deterministic bug, not a race.
pub(super) fn default_schedule_fails(s: &Scenario) -> bool {
    s.run_chooser(&mut crate::sim::DefaultChooser)
        .outcome
        .is_failure()
}

/// Refuted (a report claim that must pass) or fixed: seeds passed and the bound proven.
pub(super) fn explain_pass(
    s: &Scenario,
    bound: u32,
    seeds: Option<u64>,
) -> Result<(String, String), String> {
    let n = seeds.unwrap_or(s.explore.ci_seeds);
    if n == 0 && bound == 0 {
        return Err("nothing searched (0 seeds and no exhaustive bound): no verdict".into());
    }
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
        let ex = dpor::bounded(
            |c| s.run_unhashed(c),
            |r| r.outcome.is_failure(),
            exhaustive::Bound {
                deviations: bound,
                max_runs: 200_000,
            },
        );
        if let Some((_, r)) = ex.search.found {
            return Err(format!("exhaustive: {}", explore::describe(&r.outcome)));
        }
        evidence += &format!("; exhaustive search: {}", ex.claim(bound));
    }
    Ok(("no violation".to_string(), evidence))
}

/// How `fsim explore` searches.
#[derive(Clone, Copy, Debug)]
pub(super) enum Reach {
    /// Every tape within this many deviations, no reduction.
    Bound(u32),
    /// Every class of schedules, with partial-order reduction, no bound.
    All,
}

pub(super) fn explore_cmd(paths: &[std::path::PathBuf], reach: Reach, max_runs: u64) -> ExitCode {
    let scenarios = match load_or_report(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut bad = 0;
    for s in &scenarios {
        let started = Instant::now();
        let fails = |r: &crate::sim::RunReport| r.outcome.is_failure();
        let (search, claim) = match reach {
            Reach::Bound(bound) => {
                let b = dpor::bounded(
                    |c| s.run_unhashed(c),
                    fails,
                    exhaustive::Bound {
                        deviations: bound,
                        max_runs,
                    },
                );
                let claim = b.claim(bound);
                (b.search, claim)
            }
            Reach::All => {
                let reduced = dpor::search(|c| s.run_unhashed(c), fails, max_runs);
                // The reduction ratio: the same search without reduction, up to a
                // hundred times the runs (or the cap).
                let cap = max_runs.min(reduced.search.runs.saturating_mul(100)).max(1);
                let plain = exhaustive::search(
                    |c| s.run_unhashed(c),
                    fails,
                    exhaustive::Bound {
                        deviations: u32::MAX,
                        max_runs: cap,
                    },
                );
                let claim = reduced.claim(&plain);
                (reduced.search, claim)
            }
        };
        let secs = started.elapsed().as_secs_f64();
        // A line after the verdict: how to replay a failure, to copy as it is.
        let mut advice = None;
        let verdict = match (&s.expect, &search.found) {
            (Expect::Violation(inv), Some((_, r)))
                if s.judge(&r.outcome) == scenario::Judgement::Found =>
            {
                format!(
                    "ok   found {inv} after {} runs ({} steps)",
                    search.runs, r.steps
                )
            }
            (Expect::Pass, None) if search.complete => format!("ok   {claim}"),
            (_, Some((tape, r))) => {
                bad += 1;
                advice = Some(replay_tape_advice(s, tape));
                format!(
                    "FAIL after {} runs: {}",
                    search.runs,
                    explore::describe(&r.outcome)
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
                format!("FAIL not complete within {max_runs} runs: {claim}")
            }
        };
        println!("{:<34} {verdict} [{secs:.1} s]", s.name);
        if let Some(advice) = advice {
            println!("  {advice}");
        }
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// How to replay a failing tape of `s` found by a search: the tape written to a file, one
/// choice a line (what `replay --tape` reads), and the command that replays it.
fn replay_tape_advice(s: &Scenario, tape: &crate::sim::Tape) -> String {
    let text = tape.to_lines().join("\n") + "\n";
    let file = std::env::temp_dir().join(format!(
        "{}-{:016x}.tape",
        s.name,
        crate::sim::trace::hash_bytes(text.as_bytes())
    ));
    match crate::files::write_atomic(&file, &text) {
        Ok(()) => format!(
            "tape written to {}; replay it with: {}",
            file.display(),
            command(format!("replay {} --tape {}", s.source(), file.display()))
        ),
        Err(e) => format!(
            "the tape could not be written to {} ({e}); save these lines to FILE and replay \
             it with `{}`:\n{text}",
            file.display(),
            command(format!("replay {} --tape FILE", s.source()))
        ),
    }
}

pub(super) fn shrink_cmd(
    paths: &[std::path::PathBuf],
    seed: Option<u64>,
    strategy: Option<Strategy>,
    save: Option<&std::path::Path>,
    budget: u32,
    trace: bool,
) -> ExitCode {
    let scenarios = match load_or_report(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut bad = 0;
    for s in &scenarios {
        if !matches!(s.expect, Expect::Violation(_)) {
            // Said, so that a file given alone does not look shrunk with nothing printed.
            println!(
                "{}: skipped: it expects to pass, so it has no failure to shrink",
                s.name
            );
            continue;
        }
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
        let shrunk = match shrink::shrink(
            s,
            &report.tape,
            shrink::Options {
                budget,
                ..s.shrink_options()
            },
        ) {
            Ok(x) => x,
            Err(e) => {
                println!("{}: seed {seed}: {e}", s.name);
                bad += 1;
                continue;
            }
        };
        let ms = started.elapsed().as_secs_f64() * 1e3;
        // One traced run of the repro, its non-default choices marked, for every line below.
        let (traced, marks) = s.run_tape_marked(&shrunk.tape);
        let slice = explore::causal_slice(&traced);
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
        println!("  {}", shrunk.certificate.describe());
        println!("  ({})", s.schedule_note(&traced));
        for line in crate::report::story::story(&traced, &marks) {
            println!("  {line}");
        }
        if trace {
            println!("  every step the violation depends on:");
            for line in crate::report::schedule(&traced, usize::MAX) {
                println!("    {line}");
            }
        }
        if let Some(root) = save {
            let entry = corpus::Entry::record(s, &strategy.to_string(), seed, &shrunk.tape);
            match entry.save(root) {
                Ok(p) => println!("  saved {}", p.display()),
                Err(e) => {
                    eprintln!("error: writing the corpus entry {e}");
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
