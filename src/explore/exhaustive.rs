//! Bounded exhaustive search with partial-order reduction.
//!
//! Runs are re-executed from their choices (stateless, as CHESS and loom do). Every tape
//! that deviates from the default schedule in at most `bound` places is run once, shallow
//! deviations first: after a run, each later decision's non-default options (other picks,
//! a time jump, each offered fault, other drawn values) start a child search with one
//! deviation fewer to spend. So a race that needs one fault at the right place is found
//! after about as many runs as there are options before that place.
//!
//! Partial-order reduction by sleep sets: deliveries to different receivers commute (each
//! only appends to its own receiver's mailbox, or kills it), so a child that deviates at
//! a decision does not then deviate to the default it skipped while that commutes with
//! what ran since — the other order is already covered, with no more deviations. Everything else (runs, faults, jumps, draws) is treated as dependent, so
//! the reduction never hides an interleaving of runs. States *between* two commuting
//! deliveries are not all visited, so an `always` invariant sees every explored state but
//! not every intermediate state of every equivalent order.

use crate::sim::{Action, Choice, Chooser, Decision, RunReport, Tape};

/// Limits of a search.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    /// Deviations from the default schedule per run (faults count as deviations).
    pub deviations: u32,
    /// Runs at most.
    pub max_runs: u64,
}

/// What a search did.
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// Runs made.
    pub runs: u64,
    /// The first failing run (its tape replays it), if any.
    pub found: Option<(Tape, RunReport)>,
    /// Every tape within the bound was run (or pruned as equivalent): the bound is proven.
    pub complete: bool,
    /// Deviations skipped because a sleep set showed them equivalent.
    pub pruned: u64,
}

/// Follows a prefix of choices, then takes defaults, recording every decision's options.
struct Prefix<'a> {
    prefix: &'a [Choice],
    options: Vec<Vec<Choice>>,
}

impl Chooser for Prefix<'_> {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let mut opts: Vec<Choice> = Vec::new();
        if d.draw > 0 {
            opts.extend((0..d.draw).map(Choice::Draw));
        } else {
            opts.extend(d.actions.iter().map(|a| Choice::Pick(*a)));
            if d.can_jump && !d.actions.is_empty() {
                opts.push(Choice::Jump);
            }
            opts.extend(d.faults.iter().cloned().map(Choice::Fault));
        }
        self.options.push(opts);
        self.prefix.get(d.index).cloned().unwrap_or(Choice::Default)
    }
}

fn commute(a: &Choice, b: &Choice) -> bool {
    matches!(
        (a, b),
        (Choice::Pick(Action::Deliver { to: x, .. }), Choice::Pick(Action::Deliver { to: y, .. })) if x != y
    )
}

/// Searches the tapes within `bound`. `run` executes one world with the chooser it is
/// given; `fails` says whether a run counts as found.
pub fn search(
    mut run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    bound: Bound,
) -> Search {
    let mut s = Search::default();
    let complete = explore(
        &mut run,
        &fails,
        bound,
        &[],
        Vec::new(),
        bound.deviations,
        &mut s,
    );
    s.complete = complete && s.found.is_none();
    s
}

/// Runs `prefix` (then defaults) and every deviation after it; false when cut short.
fn explore(
    run: &mut impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: &impl Fn(&RunReport) -> bool,
    bound: Bound,
    prefix: &[Choice],
    sleep: Vec<Choice>,
    left: u32,
    s: &mut Search,
) -> bool {
    if s.runs >= bound.max_runs {
        return false;
    }
    let mut chooser = Prefix {
        prefix,
        options: Vec::new(),
    };
    let report = run(&mut chooser);
    s.runs += 1;
    if fails(&report) {
        s.found = Some((report.tape.clone(), report));
        return true;
    }
    if left == 0 {
        return true;
    }
    let taken = &report.tape.choices;
    let last = taken.len().min(chooser.options.len());
    // Faults first, at every later decision; then the other deviations. A race that
    // needs one fault at the right place is found after about as many runs as there are
    // faults on offer before that place, however much unrelated work runs alongside.
    for faults_pass in [true, false] {
        let mut asleep = sleep.clone();
        for i in prefix.len()..last {
            let explored = [taken[i].clone()];
            for o in &chooser.options[i] {
                if *o == taken[i] || matches!(o, Choice::Fault(_)) != faults_pass {
                    continue;
                }
                if asleep.contains(o) {
                    s.pruned += 1;
                    continue;
                }
                let mut child: Vec<Choice> = taken[..i].to_vec();
                child.push(o.clone());
                // Only the default is put to sleep in a deviating sibling: `o` then the
                // default is the same trace as the default then `o`, which this run's own
                // deviations reach with no more to spend.
                let child_sleep: Vec<Choice> = asleep
                    .iter()
                    .chain(&explored)
                    .filter(|x| commute(x, o))
                    .cloned()
                    .collect();
                if !explore(run, fails, bound, &child, child_sleep, left - 1, s) {
                    return false;
                }
                if s.found.is_some() {
                    return true;
                }
            }
            // Past decision i along this run, what ran there wakes what it does not
            // commute with.
            asleep.retain(|x| commute(x, &taken[i]));
        }
    }
    true
}
