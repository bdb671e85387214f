//! Bounded exhaustive search.
//!
//! Runs are re-executed from their choices (stateless, as CHESS and loom do). Every tape
//! that deviates from the default schedule in at most `bound` places is run once: after a
//! run, each later decision's non-default options (other picks, a time jump, each offered
//! fault, other drawn values) start a child search with one deviation fewer to spend.
//! Interruptions go first — a fault on, or a delivery to, the process whose step was the
//! decision before — then the other faults, then everything else, each shallowest first.
//! So a race that needs one crash (or one exit signal) between two steps of a process is
//! found after about as many runs as that process has steps before the window, however
//! much unrelated work runs alongside. The order changes only which tape is found first:
//! every tape within the bound is still run.
//!
//! No partial-order reduction: every tape within the bound runs, so a complete search is
//! a proof at its bound. (Sleep sets over deliveries to different receivers were used
//! here before. They pruned nothing within one deviation, and above one they were unsound
//! combined with the bound (Coons, Musuvathi, McKinley, "Bounded partial-order
//! reduction", OOPSLA 2013): a kill spreading through links could be missed at bound 2.
//! So they were removed.) With a bound, the search with dynamic partial-order reduction
//! (`dpor::bounded`) runs first and this one where the reduction needs a run over the
//! bound.

use crate::sim::{Action, Choice, Chooser, Decision, Fault, RunReport, Tape};

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
    /// Every tape within the bound was run: the bound is proven.
    pub complete: bool,
}

impl Search {
    /// What a search that found nothing shows, in words with its numbers. "Proven" only
    /// for a complete search: every tape within the bound ran.
    pub fn claim(&self, bound: u32) -> String {
        if self.complete {
            format!(
                "proven: all {} schedules within {bound} deviation(s) pass (every tape \
                 within the bound ran: no reduction)",
                self.runs
            )
        } else {
            format!(
                "{} schedules within {bound} deviation(s) pass (search incomplete)",
                self.runs
            )
        }
    }
}

/// Follows a prefix of choices, then takes defaults, recording every decision's options
/// (one flat list, and where each decision's options end in it).
struct Prefix<'a> {
    prefix: &'a [Choice],
    options: Vec<Choice>,
    ends: Vec<usize>,
}

impl Prefix<'_> {
    /// The options of decision `i`.
    fn at(&self, i: usize) -> &[Choice] {
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        &self.options[start..self.ends[i]]
    }
}

impl Chooser for Prefix<'_> {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let opts = &mut self.options;
        if d.draw > 0 {
            opts.extend((0..d.draw).map(Choice::Draw));
        } else {
            opts.extend(d.actions.iter().map(|a| Choice::Pick(*a)));
            if d.can_jump && !d.actions.is_empty() {
                opts.push(Choice::Jump);
            }
            opts.extend(d.faults.iter().cloned().map(Choice::Fault));
        }
        self.ends.push(opts.len());
        self.prefix.get(d.index).cloned().unwrap_or(Choice::Default)
    }
}

/// Searches the tapes within `bound`. `run` executes one world with the chooser it is
/// given; `fails` says whether a run counts as found.
pub fn search(
    run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    bound: Bound,
) -> Search {
    search_only(run, fails, bound, &|_| true)
}

/// [`search`] over the deviations `only` admits; every other option is left untried.
/// Complete means every such tape ran: a proof about those deviations only.
pub fn search_only(
    mut run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    bound: Bound,
    only: &dyn Fn(&Choice) -> bool,
) -> Search {
    let mut at = At {
        bound,
        only,
        s: Search::default(),
    };
    let complete = explore(&mut run, &fails, &mut at, &[], bound.deviations);
    at.s.complete = complete && at.s.found.is_none();
    at.s
}

/// Where a search stands: its limits, and what it has done.
struct At<'a> {
    bound: Bound,
    only: &'a dyn Fn(&Choice) -> bool,
    s: Search,
}

/// The order in which a run's deviations are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pass {
    /// Interrupting the process whose step was the previous decision: a fault on it, or a
    /// delivery to it (a signal landing between two of its steps).
    Interrupt,
    /// Any other fault.
    OtherFaults,
    /// Other picks, jumps and draws.
    Rest,
}

impl Pass {
    fn of(option: &Choice, previous: Option<&Choice>) -> Pass {
        let stepped = match previous {
            Some(Choice::Pick(Action::Run(pid) | Action::Deliver { to: pid, .. })) => Some(*pid),
            _ => None,
        };
        let (target, otherwise) = match option {
            Choice::Fault(Fault::Kill { pid, .. } | Fault::CrashAfterEffect { pid }) => {
                (Some(*pid), Pass::OtherFaults)
            }
            Choice::Fault(Fault::FailNextInit) => (None, Pass::OtherFaults),
            Choice::Pick(Action::Deliver { to, .. }) => (Some(*to), Pass::Rest),
            _ => (None, Pass::Rest),
        };
        if target.is_some() && target == stepped {
            Pass::Interrupt
        } else {
            otherwise
        }
    }
}

/// Iterative deepening: searches with bound 0, 1, ... up to `max_deviations` until a run
/// fails, at most `max_runs` runs in all. Returns the runs made over all bounds tried and
/// the search that ended it (its `found` is the failing tape, if any).
pub fn deepening(
    mut run: impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: impl Fn(&RunReport) -> bool,
    max_deviations: u32,
    max_runs: u64,
) -> (u64, Search) {
    let mut runs = 0;
    let mut last = Search::default();
    for deviations in 0..=max_deviations {
        last = search(
            &mut run,
            &fails,
            Bound {
                deviations,
                max_runs: max_runs - runs,
            },
        );
        runs += last.runs;
        if last.found.is_some() || runs >= max_runs {
            break;
        }
    }
    (runs, last)
}

/// Runs `prefix` (then defaults) and every deviation after it; false when cut short.
fn explore(
    run: &mut impl FnMut(&mut dyn Chooser) -> RunReport,
    fails: &impl Fn(&RunReport) -> bool,
    at: &mut At<'_>,
    prefix: &[Choice],
    left: u32,
) -> bool {
    let s = &mut at.s;
    if s.runs >= at.bound.max_runs {
        return false;
    }
    let mut chooser = Prefix {
        prefix,
        options: Vec::new(),
        ends: Vec::new(),
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
    // Every recorded decision, including a last one that offered only faults and ended
    // the run by taking none (it has no tape entry: every option there is a deviation).
    let last = chooser.ends.len();
    // Interruptions first: a fault on, or a delivery to, the process that just stepped. A
    // crash or a signal matters relative to what its target has done; a later position
    // differs only in what other processes did meanwhile. So a race that needs a crash
    // (or an exit signal) between two steps of one process is found after about as many
    // runs as that process has steps before the window, however much unrelated work runs
    // alongside. Then the other faults, then everything else.
    for pass in [Pass::Interrupt, Pass::OtherFaults, Pass::Rest] {
        for i in prefix.len()..last {
            let here = taken.get(i);
            let previous = i.checked_sub(1).and_then(|j| taken.get(j));
            for o in chooser.at(i) {
                if Some(o) == here || pass != Pass::of(o, previous) || !(at.only)(o) {
                    continue;
                }
                let mut child: Vec<Choice> = taken[..i].to_vec();
                child.push(o.clone());
                if !explore(run, fails, at, &child, left - 1) {
                    return false;
                }
                if at.s.found.is_some() {
                    return true;
                }
            }
        }
    }
    true
}
