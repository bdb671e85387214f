//! A repro told as a short story: what a person needs to see of a failing run, in a
//! dozen lines. The stretches where every choice was the default collapse into one line
//! each, every deviation says what it chose instead of the default, every fault is named,
//! the last calls the violation depends on are told as one line each (request and reply),
//! and the violation closes it with what broke. Processes are named by label. The full
//! trace is [`super::schedule`].

use super::{calls, with_labels};
use crate::sim::{
    Action, Choice, Chooser, Decision, Event, Fault, Outcome, Pid, RunReport, StepKind,
};

/// A choice of a run that was not the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// The step it was taken before.
    pub step: u32,
    /// What was chosen, and what the default was.
    pub kind: MarkKind,
}

/// What a non-default choice did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// An action other than the first offered.
    Pick {
        /// Taken.
        chosen: Action,
        /// The default.
        default: Action,
    },
    /// Time moved to the next timer while `default` could still run.
    Jump {
        /// The default.
        default: Action,
    },
    /// A fault.
    Fault(Fault),
    /// A drawn value other than 0.
    Draw(u32),
}

/// A chooser that marks every choice of the one it wraps that is not the default.
pub struct Marking<C> {
    inner: C,
    /// The marks, in order.
    pub marks: Vec<Mark>,
}

impl<C: Chooser> Marking<C> {
    /// Marks the choices of `inner`.
    pub fn new(inner: C) -> Self {
        Marking {
            inner,
            marks: Vec::new(),
        }
    }
}

impl<C: Chooser> Chooser for Marking<C> {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        let c = self.inner.choose(d);
        let default = d.actions.first().copied();
        let kind = match (&c, default) {
            (Choice::Pick(a), Some(def)) if d.actions.contains(a) && *a != def => {
                Some(MarkKind::Pick {
                    chosen: *a,
                    default: def,
                })
            }
            (Choice::Jump, Some(def)) if d.can_jump => Some(MarkKind::Jump { default: def }),
            (Choice::Fault(f), _) if d.faults.contains(f) => Some(MarkKind::Fault(f.clone())),
            (Choice::Draw(v), _) if *v > 0 && *v < d.draw => Some(MarkKind::Draw(*v)),
            _ => None,
        };
        if let Some(kind) = kind {
            self.marks.push(Mark { step: d.step, kind });
        }
        c
    }
}

/// Calls told at most, before the violation.
const CALLS_MAX: usize = 4;

/// The story of a traced failing run whose non-default choices are `marks`.
pub fn story(report: &RunReport, marks: &[Mark]) -> Vec<String> {
    let events = report.trace.as_deref().unwrap_or(&[]);
    let name = |p: Pid| with_labels(&p.to_string(), report);
    let action = |a: &Action| match a {
        Action::Run(p) => format!("{} runs", name(*p)),
        Action::Deliver { from, to } => format!("{} -> {} is delivered", name(*from), name(*to)),
    };
    let mut lines = vec![format!(
        "{} steps, {} fault(s), {} deviation(s) from the default schedule:",
        report.steps, report.faults, report.deviations
    )];
    // The calls the violation depends on, answered after the last mark: one line each.
    let slice = crate::explore::causal_slice(report);
    let in_slice: Vec<u32> = slice.iter().map(|e| e.step).collect();
    let last_mark = marks.last().map_or(0, |m| m.step);
    let calls: Vec<(u32, String)> = calls(events)
        .into_iter()
        .filter(|(step, _)| *step >= last_mark && in_slice.binary_search(step).is_ok())
        .map(|(step, c)| {
            let text = format!(
                "{} calls {}: {} -> {}",
                c.caller, c.server, c.request, c.reply
            );
            (step, with_labels(&text, report))
        })
        .collect();
    let calls = &calls[calls.len().saturating_sub(CALLS_MAX)..];
    let end = events.last().map_or(report.steps, |e| e.step + 1);
    // The marked steps, the told calls and the end, in order; default stretches between.
    let mut at: Vec<(u32, String)> = marks
        .iter()
        .map(|m| {
            let what = match &m.kind {
                MarkKind::Pick { chosen, default } => {
                    format!(
                        "{} instead of the default ({})",
                        action(chosen),
                        action(default)
                    )
                }
                MarkKind::Jump { default } => {
                    format!(
                        "time jumps to the next timer instead of the default ({})",
                        action(default)
                    )
                }
                MarkKind::Fault(Fault::Kill { pid, reason }) => {
                    format!("fault: {} is killed ({reason:?})", name(*pid))
                }
                MarkKind::Fault(Fault::CrashAfterEffect { pid }) => {
                    format!("fault: {} crashes after its next effect", name(*pid))
                }
                MarkKind::Fault(Fault::FailNextInit) => "fault: the next init fails".into(),
                MarkKind::Draw(v) => format!("draws {v} instead of 0"),
            };
            (m.step, what)
        })
        .chain(calls.iter().cloned())
        .collect();
    at.sort_by_key(|(s, _)| *s);
    // The same choice at consecutive steps (one process outrunning another step after
    // step) is one line: `steps a-b: ... (n times)`.
    let mut runs: Vec<(u32, u32, String)> = Vec::new();
    for (step, what) in at {
        match runs.last_mut() {
            Some((_, last, w)) if *last + 1 == step && *w == what => *last = step,
            _ => runs.push((step, step, what)),
        }
    }
    let mut from = 0u32;
    for (first, last, what) in runs {
        if first > from {
            lines.push(stretch(events, from, first, report));
        }
        if first == last {
            lines.push(format!("  step {first}: {what}"));
        } else {
            let n = last - first + 1;
            lines.push(format!("  steps {first}-{last}: {what} ({n} times)"));
        }
        from = last + 1;
    }
    if end > from {
        lines.push(stretch(events, from, end, report));
    }
    lines.push(match &report.outcome {
        Outcome::Violation(v) => format!(
            "  then {} is violated: {}",
            v.invariant,
            with_labels(&v.message, report)
        ),
        other => format!("  end: {other:?}"),
    });
    lines
}

/// One line for the steps `from..to` (none marked): how many, and who ran (by label,
/// each label once).
fn stretch(events: &[Event], from: u32, to: u32, report: &RunReport) -> String {
    let mut who: Vec<String> = Vec::new();
    for e in events.iter().filter(|e| e.step >= from && e.step < to) {
        if let StepKind::Run { pid } = e.kind {
            let name = report.label(pid).map_or(pid.to_string(), str::to_string);
            if !who.contains(&name) {
                who.push(name);
            }
        }
    }
    let more = if who.len() > 4 {
        format!(" and {} more", who.len() - 4)
    } else {
        String::new()
    };
    who.truncate(4);
    let n = to - from;
    let span = if n == 1 {
        format!("step {from}: default schedule (1 step")
    } else {
        format!("steps {from}-{}: default schedule ({n} steps", to - 1)
    };
    format!("  {span}: {}{more})", who.join(", "))
}
