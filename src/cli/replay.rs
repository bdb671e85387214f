//! `fsim replay` and the corpus check of `fsim check`.

use super::*;
use crate::report::story::Mark;

/// Where `fsim replay` draws the run.
pub(super) struct Pictures {
    pub(super) svg: Option<std::path::PathBuf>,
    pub(super) html: Option<std::path::PathBuf>,
    pub(super) mermaid: Option<std::path::PathBuf>,
}

impl Pictures {
    /// Draws `r`, whose faults and deviations (what the shrinker kept) are `marks`: they
    /// single out what the violation needs.
    fn draw(&self, s: &Scenario, r: &crate::sim::RunReport, marks: &[Mark]) -> Result<(), String> {
        if self.svg.is_none() && self.html.is_none() && self.mermaid.is_none() {
            return Ok(());
        }
        let d = crate::report::Diagram::of_marked(&s.name, r, marks);
        for (path, text) in [
            (&self.svg, d.svg()),
            (&self.html, d.html()),
            (&self.mermaid, d.mermaid()),
        ] {
            if let Some(p) = path {
                crate::files::write_atomic(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
                println!("drew {}", p.display());
            }
        }
        Ok(())
    }
}

pub(super) fn replay(
    path: &std::path::Path,
    seed: Option<u64>,
    tape: Option<&std::path::Path>,
    strategy: Option<Strategy>,
    last: Option<usize>,
    pictures: &Pictures,
) -> ExitCode {
    let s = match load_file(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // A seeded run's hash, to check that its tape replays to the same run.
    let mut seeded = None;
    let tape = match (seed, tape) {
        (Some(seed), _) => {
            let r = s.run_strategy(strategy.unwrap_or(s.explore.strategy), seed);
            seeded = Some((seed, r.trace_hash));
            r.tape
        }
        (None, Some(t)) => {
            let text = match crate::files::read_capped(t) {
                Ok(x) => x,
                Err(e) => {
                    eprintln!("error: {}: {e}", t.display());
                    return ExitCode::from(2);
                }
            };
            // Blank lines are no entries: each entry keeps its line number for errors.
            let (numbers, lines): (Vec<usize>, Vec<&str>) = text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| (i + 1, l))
                .unzip();
            match crate::sim::Tape::from_lines(&lines) {
                Ok(t) => t,
                Err(e) => {
                    let line = match &e {
                        crate::sim::tape::TapeError::BadText { index, .. } => {
                            format!(":{}", numbers[*index])
                        }
                        _ => String::new(),
                    };
                    eprintln!("error: {}{line}: {e}", t.display());
                    return ExitCode::from(2);
                }
            }
        }
        (None, None) => {
            eprintln!("error: give --seed N or --tape FILE");
            return ExitCode::from(2);
        }
    };
    let (r, marks) = s.run_tape_marked(&tape);
    print_run(&s, &r, last);
    print_story(&r, &marks);
    if let Err(e) = pictures.draw(&s, &r, &marks) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // The seeded run and the replay of its tape must be the same run.
    if let Some((seed, hash)) = seeded
        && hash != r.trace_hash
    {
        eprintln!(
            "DIVERGED: seed {seed} ran with trace hash {hash:016x}, its tape replays to {:016x}",
            r.trace_hash
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The run `r`, with its non-default choices `marks`, told as a story (`report::story`),
/// after its summary.
fn print_story(r: &crate::sim::RunReport, marks: &[Mark]) {
    println!("the story:");
    for line in crate::report::story::story(r, marks) {
        println!("  {line}");
    }
}

/// The run's summary, after its last `last` steps (all of them: `usize::MAX`; none:
/// `None`).
pub(super) fn print_run(s: &Scenario, r: &crate::sim::RunReport, last: Option<usize>) {
    let trace = r.trace.as_deref().unwrap_or(&[]);
    if let Some(n) = last {
        let replies = crate::report::exchanges(trace);
        for e in &trace[trace.len().saturating_sub(n)..] {
            println!("{}", crate::report::event_text(e, &replies, r));
        }
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
    println!(
        "{}",
        crate::report::with_labels(&explore::describe(&r.outcome), r)
    );
}

/// `fsim replay seeds/<scenario>/<id>.json`: the recorded run, asserted.
pub(super) fn replay_entry(
    path: &std::path::Path,
    scenarios: &std::path::Path,
    last: Option<usize>,
    pictures: &Pictures,
) -> ExitCode {
    let (entry, s) = match load_entry(path, scenarios) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match entry.verify_marked(&s) {
        Ok((r, marks)) => {
            print_run(&s, &r, last);
            print_story(&r, &marks);
            println!("replays as recorded (trace hash {})", entry.trace_hash);
            match pictures.draw(&s, &r, &marks) {
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
pub(super) fn check_corpus(root: &std::path::Path, scenarios: &std::path::Path) -> ExitCode {
    let all = match load_dir(scenarios) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // A new crate has no corpus yet: nothing to replay, and said so. (One that is no
    // directory is refused before `check` starts.)
    if !root.exists() {
        println!(
            "corpus: 0 entries ({} does not exist yet; `{}` records one)",
            root.display(),
            command("shrink SCENARIO --save")
        );
        return ExitCode::SUCCESS;
    }
    let paths = corpus::entries(root);
    let mut bad = 0;
    let mut malformed = 0;
    // An entry directly under the root is never replayed: entries sit in a directory
    // named after their scenario.
    let misplaced = corpus::misplaced(root);
    for p in &misplaced {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        let scenario = corpus::Entry::load(p).map_or("<scenario>".into(), |e| e.scenario);
        eprintln!(
            "error: {}: a corpus entry directly under the corpus is never replayed; \
             move it to {}",
            p.display(),
            root.join(scenario).join(&*name).display()
        );
    }
    for p in &paths {
        // An entry that does not read (truncated, unknown fields, wrong version) is bad
        // input: exit 2, as a malformed scenario is.
        let entry = match corpus::Entry::load(p) {
            Ok(e) => e,
            Err(why) => {
                malformed += 1;
                eprintln!("error: {why}");
                continue;
            }
        };
        // An entry in another scenario's directory, or of a scenario there is none of,
        // is a corpus out of order (a scenario renamed, an entry moved): bad input, as
        // `replay` has it, not a replay that "diverged".
        let dir = p
            .parent()
            .and_then(|d| d.file_name())
            .map(|d| d.to_string_lossy());
        if dir.as_deref() != Some(entry.scenario.as_str()) {
            malformed += 1;
            eprintln!(
                "error: {}: it records scenario `{}` but sits in the directory of `{}`; move \
                 it to {}",
                p.display(),
                entry.scenario,
                dir.unwrap_or_default(),
                root.join(&entry.scenario).display()
            );
            continue;
        }
        let Some(s) = all.iter().find(|s| s.name == entry.scenario) else {
            malformed += 1;
            eprintln!(
                "error: {}: no scenario named `{}` in {}",
                p.display(),
                entry.scenario,
                scenarios.display()
            );
            continue;
        };
        let verdict = entry.verify(s).map(|r| (entry, r));
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
        "corpus: {} entries, {} replay as recorded, {bad} do not, {malformed} unreadable{}",
        paths.len(),
        paths.len() - bad - malformed,
        match misplaced.len() {
            0 => String::new(),
            n => format!(", {n} misplaced (not replayed)"),
        }
    );
    if malformed > 0 || !misplaced.is_empty() {
        ExitCode::from(2)
    } else if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
