//! Pictures and words of a run: a sequence diagram as self-contained SVG or HTML (no
//! scripts, no network) and as Mermaid text ([`diagram`]), calls paired with their
//! replies, the schedule and the story ([`story`]) of a repro.

pub mod diagram;
pub mod story;

pub use diagram::{Diagram, Row};

use crate::sim::trace::{Effect, SignalKind, StepKind, signal_text};
use crate::sim::{Event, Pid, RunReport};
use std::collections::BTreeMap;

/// A call and its reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Who called.
    pub caller: Pid,
    /// Who answered.
    pub server: Pid,
    /// The request, as the trace shows it.
    pub request: String,
    /// The reply, as the trace shows it.
    pub reply: String,
}

/// Calls and their replies, paired: for each step that delivers a reply, the call it
/// answers. A reply answers the oldest unanswered call its receiver sent to its sender.
pub fn calls(events: &[Event]) -> BTreeMap<u32, Call> {
    paired_calls(events)
        .into_iter()
        .map(|(_, (reply_step, _), call)| (reply_step, call))
        .collect()
}

/// Where a signal reached its receiver: its step, and which of the step's [`arrivals`]
/// it is.
pub(crate) type Arrival = (u32, usize);

/// Every answered call, in the order the replies arrived: where the request arrived,
/// where the reply did, and the call (the pairing [`calls`] describes).
pub(crate) fn paired_calls(events: &[Event]) -> Vec<(Arrival, Arrival, Call)> {
    let mut open: BTreeMap<(Pid, Pid), std::collections::VecDeque<(Arrival, String)>> =
        BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        for (k, (from, to, signal, _)) in arrivals(e).enumerate() {
            let text = signal_text(signal);
            if let Some(req) = text.strip_prefix("call ") {
                open.entry((from, to))
                    .or_default()
                    .push_back(((e.step, k), req.to_string()));
            } else if let Some(value) = text.strip_prefix("reply ")
                && let Some((asked, request)) =
                    open.get_mut(&(to, from)).and_then(|q| q.pop_front())
            {
                let call = Call {
                    caller: to,
                    server: from,
                    request,
                    reply: value.to_string(),
                };
                out.push((asked, (e.step, k), call));
            }
        }
    }
    out
}

/// [`calls`] as text: for each step that delivers a reply, the call and the reply read
/// as one exchange (`reply 20 to call Balance`).
pub fn exchanges(events: &[Event]) -> BTreeMap<u32, String> {
    calls(events)
        .into_iter()
        .map(|(step, c)| (step, format!("reply {} to call {}", c.reply, c.request)))
        .collect()
}

/// The signals that reached their receiver in a step: the delivery of a step between
/// nodes, or the signals handled at once on one node (`from`, `to`, what, dropped).
pub fn arrivals(e: &Event) -> impl Iterator<Item = (Pid, Pid, &SignalKind, bool)> + '_ {
    let delivered = match &e.kind {
        StepKind::Deliver {
            from,
            to,
            signal,
            dropped,
        } => Some((*from, *to, signal, *dropped)),
        _ => None,
    };
    delivered
        .into_iter()
        .chain(e.effects.iter().filter_map(|fx| match fx {
            Effect::Signal {
                from,
                to,
                signal,
                dropped,
            } => Some((*from, *to, signal, *dropped)),
            _ => None,
        }))
}

/// The exchange text of a reply that arrived in `step` ([`exchanges`]), if `signal` is
/// that reply.
fn reply_text<'a>(
    replies: &'a BTreeMap<u32, String>,
    step: u32,
    signal: &SignalKind,
) -> Option<&'a String> {
    replies
        .get(&step)
        .filter(|_| signal_text(signal).starts_with("reply "))
}

fn short(t: &str) -> String {
    t.rsplit("::").next().unwrap_or(t).to_string()
}

/// `text` with every pid that has a label written as `label<0.N.0>`.
pub fn with_labels(text: &str, report: &RunReport) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.find("<0.") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 3..];
        let pid = tail.find(".0>").and_then(|j| {
            let n = tail[..j].parse::<u32>().ok()?;
            Some((Pid(n), j))
        });
        match pid {
            Some((p, j)) => {
                if let Some(l) = report.label(p) {
                    out.push_str(l);
                }
                out.push_str(&rest[i..i + 3 + j + 3]);
                rest = &tail[j + 3..];
            }
            None => {
                out.push_str("<0.");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The steps of a traced run that its last step (the violation) causally depends on, one
/// line each, processes named by label: the schedule a person reads. At most `max`
/// lines: the last ones, after a line saying how many earlier steps are left out.
pub fn schedule(report: &RunReport, max: usize) -> Vec<String> {
    let slice = crate::explore::causal_slice(report);
    let replies = exchanges(report.trace.as_deref().unwrap_or(&[]));
    let mut lines = Vec::new();
    if slice.len() > max {
        lines.push(format!("... {} earlier steps", slice.len() - max));
    }
    for e in slice.iter().skip(slice.len().saturating_sub(max)) {
        let text = event_text(e, &replies, report);
        let mut it = text.lines();
        let mut line = it.next().unwrap_or("").trim_start().to_string();
        // On one node a step's signals are its effects: say them with the step.
        for fx in it.map(str::trim).filter(|l| l.starts_with("signal ")) {
            line.push_str(": ");
            line.push_str(fx.strip_prefix("signal ").unwrap_or(fx));
        }
        lines.push(line);
    }
    lines
}

/// An event as a person reads it: a reply as the answer to its call ([`exchanges`]),
/// processes named by label ([`with_labels`]); its effects on the lines after.
pub fn event_text(e: &Event, replies: &BTreeMap<u32, String>, report: &RunReport) -> String {
    let mut text = e.to_string();
    if let Some((r, signal)) = arrivals(e)
        .filter_map(|(.., s, _)| reply_text(replies, e.step, s).map(|r| (r, s)))
        .last()
    {
        text = text.replacen(&signal_text(signal), r, 1);
    }
    with_labels(&text, report)
}

thread_local! {
    /// The name commands are suggested under ([`command`]).
    static PROGRAM: std::cell::RefCell<String> = std::cell::RefCell::new("fsim".into());
}

/// A command to suggest to the user: `args` after the name they run the command line by.
/// A user's crate's binary is not `fsim`: the command line sets its own name
/// ([`set_program`]) for as long as it runs.
pub fn command(args: impl std::fmt::Display) -> String {
    PROGRAM.with(|p| format!("{} {args}", p.borrow()))
}

/// Suggests commands under `name` from now on (the file name of a command line's first
/// argument); returns the name it replaces.
pub(crate) fn set_program(name: String) -> String {
    PROGRAM.with(|p| p.replace(name))
}

/// How a replayed tape does not fit the run it drove, if it does not: choices that fell
/// back to the default (they named no process, delivery or fault there) and choices the
/// run never read. Such a replay is not the recorded run.
pub fn misfit(tape: &crate::sim::Tape, r: &RunReport) -> Option<String> {
    let unread = tape.len().saturating_sub(r.tape.len());
    (r.fallbacks > 0 || unread > 0).then(|| {
        format!(
            "{} of its {} choice(s) fell back to the default, {unread} were never read",
            r.fallbacks,
            tape.len()
        )
    })
}

/// Said of a failing run with no fault and no deviation from the default schedule.
pub const DETERMINISTIC: &str =
    "it fails on the default schedule, with no fault: a deterministic bug, not a race";

/// [`DETERMINISTIC`], when it applies to `r`.
pub fn deterministic_note(r: &RunReport) -> Option<&'static str> {
    (r.faults == 0 && r.deviations == 0).then_some(DETERMINISTIC)
}
