//! Sequence diagrams of a run: self-contained SVG or HTML (no scripts, no network) and
//! Mermaid text.
//!
//! A lifeline per process, an arrow per delivered signal, one exchange per call whose
//! reply is in the run (the request and, dashed, the reply it got, on one row), a cross
//! where a process exits, a dashed arrow per spawn (marked "restart" when a process takes
//! over a label an earlier one had), an orange box per injected fault. The violation is
//! drawn on the lifeline of the process whose state broke, and the rows the violation
//! needs ([`needed`]) at full strength, the rest faded.

use super::Arrival;
use super::story::Mark;
use crate::sim::trace::{Effect, SignalKind, StepKind, signal_text};
use crate::sim::{Event, Outcome, Pid, RunReport};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What a row of the diagram shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// A signal delivered from one process to another (not a call answered in the run).
    Deliver {
        /// Sender.
        from: Pid,
        /// Receiver.
        to: Pid,
        /// The signal in words.
        text: String,
        /// The receiver was dead.
        dropped: bool,
    },
    /// A call and its reply, one exchange: the request that reached the server in step
    /// `request_step` and the reply that reached the caller in the row's step.
    Call {
        /// Who called.
        caller: Pid,
        /// Who answered.
        server: Pid,
        /// The step the request reached the server.
        request_step: u32,
        /// The request, as the trace shows it (after `call `).
        request: String,
        /// The reply, as the trace shows it (after `reply `).
        reply: String,
        /// The caller was dead when the reply came.
        dropped: bool,
    },
    /// A spawn.
    Spawn {
        /// Parent.
        parent: Pid,
        /// Child.
        child: Pid,
        /// The child takes over a label an earlier process had.
        restart: bool,
    },
    /// A process exited.
    Exit {
        /// Which.
        pid: Pid,
        /// Why, in words.
        reason: String,
    },
    /// A timer fired.
    Timer {
        /// For whom.
        pid: Option<Pid>,
        /// What.
        what: String,
    },
    /// A fault was injected.
    Fault {
        /// Its victim, if one.
        pid: Option<Pid>,
        /// The fault in words.
        text: String,
    },
}

impl Row {
    /// The row's text as the Mermaid and SVG pictures show it (a call as
    /// `call request → reply`).
    pub fn text(&self) -> String {
        match self {
            Row::Deliver { text, dropped, .. } => {
                format!("{text}{}", if *dropped { " (dropped)" } else { "" })
            }
            Row::Call {
                request,
                reply,
                dropped,
                ..
            } => format!(
                "call {request} → {reply}{}",
                if *dropped { " (dropped)" } else { "" }
            ),
            Row::Spawn { restart, .. } => if *restart { "restart" } else { "spawn" }.into(),
            Row::Exit { reason, .. } => format!("exit {reason}"),
            Row::Timer { what, .. } => format!("timer {what}"),
            Row::Fault { text, .. } => format!("FAULT {text}"),
        }
    }
}

/// A run laid out for drawing.
#[derive(Clone, Debug)]
pub struct Diagram {
    /// Title.
    pub title: String,
    /// Lifelines, in order of first appearance: pid and name.
    pub lanes: Vec<(Pid, String)>,
    /// Rows: the step they come from (a call: the step its reply arrived), whether the
    /// violation needs it ([`needed`]; a call: its request or its reply), what.
    pub rows: Vec<(u32, bool, Row)>,
    /// The violation, if the run ended in one: its step and message.
    pub violation: Option<(u32, String)>,
    /// The lifeline the violation is drawn on: the process whose state broke
    /// ([`violation_lane`]).
    pub violation_lane: Option<Pid>,
}

/// Why a step depends on an earlier one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dep {
    /// The acting process's previous step (program order).
    Order,
    /// What the step consumed: the signal it delivered, the message it took, the timer's
    /// setter; or the fault that armed a crash it performs.
    Message,
    /// The step that spawned the acting process (its first step's dependence).
    Spawn,
    /// It read a name, a pid's liveness or a table: the last earlier step that changed
    /// what it read (a death, a name registered or released, a table write).
    Absence,
}

/// The victim of a fault, from its tape text (`kill <0.5.0> (kill)`, `crash <0.5.0> …`).
fn fault_victim(fault: &str) -> Option<Pid> {
    fault
        .split_whitespace()
        .nth(1)
        .and_then(|w| pid_at(w).map(|(p, _)| p))
}

/// The pid written at the start of `text` (`<0.N.0>`), and its length in bytes.
fn pid_at(text: &str) -> Option<(Pid, usize)> {
    let tail = text.strip_prefix("<0.")?;
    let j = tail.find(".0>")?;
    let n = tail[..j].parse::<u32>().ok()?;
    Some((Pid(n), 3 + j + 3))
}

/// The process a step is about: who ran, who received, whose timer, the fault's victim.
fn actor(e: &Event) -> Option<Pid> {
    match &e.kind {
        StepKind::Fault { fault } => fault_victim(fault),
        k => k.pid(),
    }
}

/// Each step's dependences on earlier steps, by index, with why.
fn dependences(events: &[Event]) -> Vec<Vec<(usize, Dep)>> {
    let mut spawned: BTreeMap<Pid, usize> = BTreeMap::new();
    let mut last_exit: BTreeMap<Pid, usize> = BTreeMap::new();
    let mut last_exit_any: Option<usize> = None;
    let mut last_name: Option<usize> = None;
    // Processes that registered in a `Registry` and the last death of one: a registry
    // read filters dead holders.
    let mut registrants: BTreeSet<Pid> = BTreeSet::new();
    let mut last_registrant_exit: Option<usize> = None;
    // Processes that created a table and the last death of one (its tables go with it).
    let mut owners: BTreeSet<Pid> = BTreeSet::new();
    let mut last_owner_exit: Option<usize> = None;
    // The last table write of each process, and the last registry row it removed.
    let mut writes: BTreeMap<Pid, usize> = BTreeMap::new();
    let mut removals: BTreeMap<Pid, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let mut deps: Vec<(usize, Dep)> = Vec::new();
        let at = |d: Option<u32>| d.map(|s| s as usize).filter(|s| *s < i);
        let who = actor(e);
        match &e.kind {
            StepKind::Run { pid } => {
                if let Some(p) = at(e.deps[0]) {
                    let why = if spawned.get(pid) == Some(&p) {
                        Dep::Spawn
                    } else if matches!(events[p].kind, StepKind::Fault { .. }) {
                        // A crash armed by a fault happens in the victim's next step.
                        Dep::Message
                    } else {
                        Dep::Order
                    };
                    deps.push((p, why));
                }
                if let Some(c) = at(e.deps[1]) {
                    deps.push((c, Dep::Message));
                }
            }
            StepKind::Deliver { .. } => {
                if let Some(s) = at(e.deps[0]) {
                    deps.push((s, Dep::Message));
                }
                if let Some(p) = at(e.deps[1]) {
                    let why = if who.is_some_and(|w| spawned.get(&w) == Some(&p)) {
                        Dep::Spawn
                    } else {
                        Dep::Order
                    };
                    deps.push((p, why));
                }
            }
            StepKind::Timer { .. } => {
                if let Some(s) = at(e.deps[0]) {
                    deps.push((s, Dep::Message));
                }
            }
            StepKind::Fault { .. } => {
                if let Some(p) = at(e.deps[0]) {
                    deps.push((p, Dep::Order));
                }
            }
        }
        // Reads, against the state before this step.
        let mut read = |d: Option<usize>| {
            if let Some(d) = d {
                deps.push((d, Dep::Absence));
            }
        };
        for (_, to, _, dropped) in super::arrivals(e) {
            if dropped {
                read(last_exit.get(&to).copied());
            }
        }
        for fx in &e.effects {
            let Effect::Global { pid, op } = fx else {
                continue;
            };
            let by_others = |writes: &BTreeMap<Pid, usize>| {
                writes
                    .iter()
                    .filter(|(w, _)| *w != pid)
                    .map(|(_, s)| *s)
                    .max()
            };
            match op.as_ref() {
                "whereis"
                | "send to unregistered name"
                | "monitor unregistered name"
                | "register (refused)" => read(last_name),
                "alive?" | "link to a process that is not alive" => read(last_exit_any),
                "table lookup by name" | "table new (name taken)" => read(last_owner_exit),
                "registry whereis" | "registry register" | "registry lookup" => {
                    // A row gone: its holder died, or someone removed it.
                    read(last_registrant_exit);
                    read(by_others(&removals));
                }
                "registry unregister"
                | "registry cleanup"
                | "register (already named)"
                | "table new"
                | "table rename"
                | "table give_away"
                | "table insert"
                | "table delete" => {}
                _ => {
                    // Any other read of a table (`table lookup`, an operation named by
                    // the code): the last write by someone else, the last owner's death.
                    read(by_others(&writes));
                    read(last_owner_exit);
                }
            }
        }
        // Changes.
        for fx in &e.effects {
            match fx {
                Effect::Spawn { child, .. } => {
                    spawned.insert(*child, i);
                }
                Effect::Exit { pid, .. } => {
                    last_exit.insert(*pid, i);
                    last_exit_any = Some(i);
                    if registrants.contains(pid) {
                        last_registrant_exit = Some(i);
                    }
                    if owners.contains(pid) {
                        last_owner_exit = Some(i);
                    }
                }
                Effect::Name { .. } => last_name = Some(i),
                Effect::Global { pid, op } => {
                    let op = op.as_ref();
                    if op == "registry register" {
                        registrants.insert(*pid);
                    }
                    if op == "table new" {
                        owners.insert(*pid);
                    }
                    if matches!(op, "registry unregister" | "registry cleanup") {
                        removals.insert(*pid, i);
                    }
                    if matches!(op, "table insert" | "table delete")
                        || !(op.starts_with("table ")
                            || op.starts_with("registry ")
                            || op.starts_with("register")
                            || matches!(
                                op,
                                "whereis"
                                    | "alive?"
                                    | "send to unregistered name"
                                    | "monitor unregistered name"
                                    | "link to a process that is not alive"
                            ))
                    {
                        // A table write, or an operation named by the code (`table_now`,
                        // `table`), which may write.
                        writes.insert(*pid, i);
                    }
                }
                _ => {}
            }
        }
        out.push(deps);
    }
    out
}

/// Does step `e` concern `pid`: it ran, received, fired its timer, or it exited there?
fn touches(e: &Event, pid: Pid) -> bool {
    actor(e) == Some(pid)
        || e.effects
            .iter()
            .any(|fx| matches!(fx, Effect::Exit { pid: p, .. } if *p == pid))
}

/// The steps (by index) a violation at the end of `events` needs, given the processes
/// whose state it judged (`state`, the one whose state broke first: see
/// [`violation_processes`]) and the run's non-default choices `marks` (its faults and
/// deviations: what the shrinker kept).
///
/// A step depends on earlier ones: on what it consumed (the signal it delivered, the
/// message it took, the setter of the timer that fired, the fault that armed the crash it
/// performs), on the spawn of its process, on its process's previous step (program
/// order), and on absence or presence: a step that read a name (`whereis`, a send to a
/// name nobody holds), a pid's liveness (`alive?`, a signal dropped because its receiver
/// was dead, a registry read, which skips dead holders) or a table depends on the last
/// earlier step that changed it (a death, a name registered or released, a write by
/// another process). A kill fault's step holds the victim's exit and the signals that
/// death sent (links, monitors), so those are needed with the fault.
///
/// Needed are the violating (last) step, every marked step and every fault step (the
/// trace shows faults even without `marks`), the last step of each process in `state`,
/// and, closing backwards:
/// - what a needed step consumed and the step that produced it, what it read and the
///   step that last changed that, the fault that armed the crash it performs;
/// - the spawn of a needed step's process (a restart shows who restarted it), though not
///   in turn the spawn of that spawn's parent;
/// - program order only within `state`: the previous step of a needed step of the
///   process whose state broke (its state is its history), and of a needed step of
///   another process in `state` after the first kept choice (before it, the run was the
///   default schedule).
///
/// Program order makes no other step needed: a step of another process is needed when a
/// needed step consumed what it sent, read what it changed, or is of a process it
/// spawned. Without marks (a deterministic bug), what is needed is the history of the
/// process whose state broke and what it consumed and read.
pub fn needed(events: &[Event], marks: &[Mark], state: &[Pid]) -> Vec<bool> {
    let n = events.len();
    let mut hot = vec![false; n];
    let Some(last) = n.checked_sub(1) else {
        return hot;
    };
    let deps = dependences(events);
    let mut spawned: BTreeMap<Pid, usize> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        for fx in &e.effects {
            if let Effect::Spawn { child, .. } = fx {
                spawned.insert(*child, i);
            }
        }
    }
    let kept: Vec<usize> = marks
        .iter()
        .map(|m| m.step as usize)
        .chain(
            events
                .iter()
                .enumerate()
                .filter(|(_, e)| matches!(e.kind, StepKind::Fault { .. }))
                .map(|(i, _)| i),
        )
        .filter(|i| *i < n)
        .collect();
    // The history of the process whose state broke counts from the start; that of the
    // others the violation names, from the first kept choice on (before it, the run was
    // the default schedule).
    let first_kept = kept.iter().min().copied().unwrap_or(n);
    let mut stack: Vec<usize> = vec![last];
    stack.extend(&kept);
    for p in state {
        stack.extend(events.iter().rposition(|e| touches(e, *p)));
    }
    let history_from = |p: Pid| {
        if state.first() == Some(&p) {
            Some(0)
        } else if state.contains(&p) {
            Some(first_kept)
        } else {
            None
        }
    };
    // With each step, whether it is needed only as the spawn of a needed step's process
    // (then its own process's spawn is not asked for: no chain of ancestors).
    let mut stack: Vec<(usize, bool)> = stack.into_iter().map(|i| (i, false)).collect();
    let mut full = vec![false; n];
    while let Some((i, as_spawn)) = stack.pop() {
        let again = if as_spawn { hot[i] } else { full[i] };
        if again {
            continue;
        }
        hot[i] = true;
        full[i] |= !as_spawn;
        let who = actor(&events[i]);
        let own = who.and_then(history_from).is_some_and(|from| i > from);
        stack.extend(
            deps[i]
                .iter()
                .filter(|(_, why)| *why != Dep::Order || own)
                .map(|(d, why)| (*d, *why == Dep::Spawn)),
        );
        // A process exists from its spawn on: a restart shows who restarted it. (Not
        // for a fault: it is drawn on its victim's lifeline.)
        let fault = matches!(events[i].kind, StepKind::Fault { .. });
        if !as_spawn
            && !fault
            && let Some(s) = who.and_then(|p| spawned.get(&p))
        {
            stack.push((*s, true));
        }
    }
    hot
}

/// The process whose state broke, whose lifeline the violation is drawn on: for a panic,
/// the process that panicked (named in the message, else the one of the last step that
/// ran); for an invariant, the first process the message names, by pid (`<0.N.0>`) or by
/// label (as a whole word; of the processes with that label, the newest); else the
/// process of the last step that has one. `None` for a run that passed.
pub fn violation_lane(report: &RunReport) -> Option<Pid> {
    violation_processes(report).first().copied()
}

/// The processes whose state a failing run's violation judged: the one whose state broke
/// ([`violation_lane`]) first, then the others the message names (by pid, by label, or
/// by a label written in camel case: `EventStore` for `event_store`).
pub fn violation_processes(report: &RunReport) -> Vec<Pid> {
    let events: &[Event] = report.trace.as_deref().unwrap_or(&[]);
    let last_actor = || events.iter().rev().find_map(actor);
    let v = match &report.outcome {
        Outcome::Violation(v) => v,
        Outcome::BoundHit(_) => return last_actor().into_iter().collect(),
        _ => return Vec::new(),
    };
    let named = named_processes(&v.message, report, events);
    let strict = named
        .iter()
        .find(|(_, _, exact)| *exact)
        .map(|(_, p, _)| *p);
    let lane = if v.invariant == crate::check::PANIC {
        strict.or_else(|| {
            events.iter().rev().find_map(|e| match e.kind {
                StepKind::Run { pid } => Some(pid),
                _ => None,
            })
        })
    } else {
        strict.or_else(last_actor)
    };
    let mut out: Vec<Pid> = lane.into_iter().collect();
    for (_, p, _) in named {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The processes `text` names, in order of mention: where, which, and whether by pid or
/// by label as written (rather than a label in camel case).
fn named_processes(text: &str, report: &RunReport, events: &[Event]) -> Vec<(usize, Pid, bool)> {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | ':' | '-');
    let squash = |t: &str| {
        t.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let mut out: Vec<(usize, Pid, bool)> = Vec::new();
    let mut rest = 0;
    while let Some(i) = text[rest..].find("<0.") {
        let at = rest + i;
        if let Some((p, len)) = pid_at(&text[at..]) {
            out.push((at, p, true));
            rest = at + len;
        } else {
            rest = at + 3;
        }
    }
    // Labels of the run's processes, and those the trace gave at spawn: the newest
    // process with each.
    let mut labels: BTreeMap<String, Pid> = BTreeMap::new();
    let spawned = events
        .iter()
        .flat_map(|e| &e.effects)
        .filter_map(|fx| match fx {
            Effect::Spawn {
                child,
                label: Some(l),
                ..
            } => Some((*child, l.clone())),
            _ => None,
        });
    for (p, l) in report.labels.iter().cloned().chain(spawned) {
        let e = labels.entry(l).or_insert(p);
        *e = (*e).max(p);
    }
    for (label, pid) in &labels {
        if label.is_empty() {
            continue;
        }
        let whole = text.match_indices(label.as_str()).find(|(i, _)| {
            !text[..*i].chars().next_back().is_some_and(word)
                && !text[i + label.len()..].chars().next().is_some_and(word)
        });
        if let Some((i, _)) = whole {
            out.push((i, *pid, true));
        }
    }
    // Labels in camel case (`EventStore`): a word of the text equal to a label, ignoring
    // case and what is not a letter or digit.
    let mut at = 0;
    for w in text.split(|c: char| !word(c)) {
        let here = at;
        at += w.len() + 1;
        if w.chars().any(|c| c.is_uppercase())
            && let Some(pid) = labels
                .iter()
                .find(|(l, _)| squash(l) == squash(w) && !squash(w).is_empty())
                .map(|(_, p)| *p)
        {
            out.push((here, pid, false));
        }
    }
    out.sort_by_key(|(i, _, exact)| (*i, !*exact));
    out
}

/// Calls paired with their replies ([`super::paired_calls`]): for each reply's arrival,
/// the request's arrival and text.
fn answered_calls(events: &[Event]) -> BTreeMap<Arrival, (Arrival, String)> {
    super::paired_calls(events)
        .into_iter()
        .map(|(asked, answered, call)| (answered, (asked, call.request)))
        .collect()
}

impl Diagram {
    /// Lays out a run recorded with its full trace, with no marks: the faults the trace
    /// shows count as kept choices, deviations from the default schedule are not known
    /// ([`Diagram::of_marked`] knows them).
    pub fn of(title: &str, report: &RunReport) -> Diagram {
        Diagram::of_marked(title, report, &[])
    }

    /// Lays out a run recorded with its full trace whose non-default choices (faults and
    /// deviations, what the shrinker kept) are `marks`
    /// ([`crate::scenario::Scenario::run_tape_marked`]).
    pub fn of_marked(title: &str, report: &RunReport, marks: &[Mark]) -> Diagram {
        let events: &[Event] = report.trace.as_deref().unwrap_or(&[]);
        let state = violation_processes(report);
        let violation_lane = state.first().copied();
        let hot = if report.outcome.is_failure() {
            needed(events, marks, &state)
        } else {
            // A run that passed: nothing to single out.
            vec![true; events.len()]
        };
        let hot_at = |s: u32| hot.get(s as usize).copied().unwrap_or(false);
        let answered = answered_calls(events);
        let requests: BTreeSet<Arrival> = answered.values().map(|(a, _)| *a).collect();
        let mut names: BTreeMap<Pid, String> = BTreeMap::new();
        let mut order: Vec<Pid> = Vec::new();
        let mut labels_seen: BTreeMap<String, Pid> = BTreeMap::new();
        let see = |p: Pid, order: &mut Vec<Pid>| {
            if !order.contains(&p) {
                order.push(p);
            }
        };
        let mut rows = Vec::new();
        for e in events {
            let hot = hot_at(e.step);
            // The signals that reached their receiver, in `arrivals` order: a call's
            // request is drawn with its reply, the reply as the exchange.
            let mut k = 0;
            let mut arrival = |from: Pid,
                               to: Pid,
                               signal: &SignalKind,
                               dropped: bool,
                               rows: &mut Vec<(u32, bool, Row)>,
                               order: &mut Vec<Pid>| {
                let at = (e.step, k);
                k += 1;
                see(from, order);
                see(to, order);
                if requests.contains(&at) {
                    return;
                }
                let text = signal_text(signal);
                match (answered.get(&at), text.strip_prefix("reply ")) {
                    (Some(((req_step, _), request)), Some(reply)) => rows.push((
                        e.step,
                        hot || hot_at(*req_step),
                        Row::Call {
                            caller: to,
                            server: from,
                            request_step: *req_step,
                            request: request.clone(),
                            reply: reply.to_string(),
                            dropped,
                        },
                    )),
                    _ => rows.push((
                        e.step,
                        hot,
                        Row::Deliver {
                            from,
                            to,
                            text,
                            dropped,
                        },
                    )),
                }
            };
            match &e.kind {
                StepKind::Deliver {
                    from,
                    to,
                    signal,
                    dropped,
                } => arrival(*from, *to, signal, *dropped, &mut rows, &mut order),
                StepKind::Timer { pid, what } => {
                    if let Some(p) = pid {
                        see(*p, &mut order);
                    }
                    rows.push((
                        e.step,
                        hot,
                        Row::Timer {
                            pid: *pid,
                            what: super::short(what),
                        },
                    ));
                }
                StepKind::Fault { fault } => {
                    rows.push((
                        e.step,
                        hot,
                        Row::Fault {
                            pid: fault_victim(fault),
                            text: fault.clone(),
                        },
                    ));
                }
                StepKind::Run { pid } => see(*pid, &mut order),
            }
            for fx in &e.effects {
                match fx {
                    Effect::Spawn {
                        parent,
                        child,
                        label,
                        ..
                    } => {
                        see(*parent, &mut order);
                        see(*child, &mut order);
                        let restart = label.as_ref().is_some_and(|l| labels_seen.contains_key(l));
                        if let Some(l) = label {
                            names.insert(*child, l.clone());
                            labels_seen.insert(l.clone(), *child);
                        }
                        rows.push((
                            e.step,
                            hot,
                            Row::Spawn {
                                parent: *parent,
                                child: *child,
                                restart,
                            },
                        ));
                    }
                    Effect::Exit { pid, reason } => {
                        see(*pid, &mut order);
                        rows.push((
                            e.step,
                            hot,
                            Row::Exit {
                                pid: *pid,
                                reason: format!("{reason:?}"),
                            },
                        ));
                    }
                    Effect::Signal {
                        from,
                        to,
                        signal,
                        dropped,
                    } => arrival(*from, *to, signal, *dropped, &mut rows, &mut order),
                    _ => {}
                }
            }
        }
        if let Some(p) = violation_lane {
            see(p, &mut order);
        }
        let lanes = order
            .into_iter()
            .map(|p| {
                let name = match names.get(&p).map(String::as_str).or(report.label(p)) {
                    Some(l) => format!("{l} {p:?}"),
                    None => format!("{p:?}"),
                };
                (p, name)
            })
            .collect();
        let violation = match &report.outcome {
            Outcome::Violation(v) => Some((v.step, v.to_string())),
            // After the last step, as a violation is.
            Outcome::BoundHit(b) => {
                Some((report.steps.saturating_sub(1), format!("bound hit: {b}")))
            }
            _ => None,
        };
        Diagram {
            title: title.to_string(),
            lanes,
            rows,
            violation,
            violation_lane,
        }
    }

    fn lane(&self, p: Pid) -> usize {
        self.lanes.iter().position(|(q, _)| *q == p).unwrap_or(0)
    }

    /// The lane index the violation is drawn on.
    fn violation_index(&self) -> usize {
        self.violation_lane.map_or(0, |p| self.lane(p))
    }

    /// Mermaid `sequenceDiagram` text. The rows the violation needs are in `rect` blocks
    /// (shaded), a call is its request (`->>`) followed by its reply (`-->>`), and the
    /// violation is a note over the lifeline of the process whose state broke.
    pub fn mermaid(&self) -> String {
        let id = |p: Pid| format!("P{}", p.0);
        let clean = |t: &str| t.replace([';', '#', '\n'], " ");
        let mut m = String::from("sequenceDiagram\n");
        m.push_str("    %% shaded (rect): the steps the violation needs; the rest it does not\n");
        for (p, name) in &self.lanes {
            let _ = writeln!(m, "    participant {} as {}", id(*p), clean(name));
        }
        let first = self.lanes.first().map(|(p, _)| *p).unwrap_or(Pid(0));
        let mut open = false;
        for (step, hot, row) in &self.rows {
            if *hot && !open {
                m.push_str("    rect rgb(255, 236, 204)\n");
            } else if !*hot && open {
                m.push_str("    end\n");
            }
            open = *hot;
            let _ = match row {
                Row::Deliver {
                    from,
                    to,
                    text,
                    dropped,
                } => writeln!(
                    m,
                    "    {}{}{}: {step} {}{}",
                    id(*from),
                    if *dropped { "-x" } else { "->>" },
                    id(*to),
                    clean(text),
                    if *dropped { " (dropped)" } else { "" }
                ),
                Row::Call {
                    caller,
                    server,
                    request_step,
                    request,
                    reply,
                    dropped,
                } => writeln!(
                    m,
                    "    {}->>{}: {request_step} call {}\n    {}{}{}: {step} {}{}",
                    id(*caller),
                    id(*server),
                    clean(request),
                    id(*server),
                    if *dropped { "--x" } else { "-->>" },
                    id(*caller),
                    clean(reply),
                    if *dropped { " (dropped)" } else { "" }
                ),
                Row::Spawn {
                    parent,
                    child,
                    restart,
                } => writeln!(
                    m,
                    "    {}-->>{}: {step} {}",
                    id(*parent),
                    id(*child),
                    if *restart { "restart" } else { "spawn" }
                ),
                Row::Exit { pid, reason } => writeln!(
                    m,
                    "    Note over {}: {step} exit {}",
                    id(*pid),
                    clean(reason)
                ),
                Row::Timer { pid, what } => writeln!(
                    m,
                    "    Note over {}: {step} timer {}",
                    id(pid.unwrap_or(first)),
                    clean(what)
                ),
                Row::Fault { pid, text } => writeln!(
                    m,
                    "    Note over {}: {step} FAULT {}",
                    id(pid.unwrap_or(first)),
                    clean(text)
                ),
            };
        }
        if let Some((step, v)) = &self.violation
            && let Some((p, _)) = self.lanes.get(self.violation_index())
        {
            // The violation is what the run needs most: in the shaded block.
            if !open {
                m.push_str("    rect rgb(255, 236, 204)\n");
            }
            let _ = writeln!(m, "    Note over {}: {step} VIOLATION {}", id(*p), clean(v));
            open = true;
        }
        if open {
            m.push_str("    end\n");
        }
        m
    }

    /// A self-contained SVG.
    pub fn svg(&self) -> String {
        const LANE: usize = 150;
        const ROW: usize = 24;
        const TOP: usize = 70;
        let x = |i: usize| 90 + i * LANE;
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let vx = x(self.violation_index());
        let vtext = self
            .violation
            .as_ref()
            .map(|(step, v)| format!("VIOLATION at step {step}: {v}"));
        // The violation's box starts at its lane, or further left when its text would
        // not fit before the last lane's end.
        let lanes_end = x(self.lanes.len().max(1)) + 40;
        let vwidth = vtext.as_ref().map_or(0, |t| 7 * t.chars().count() + 16);
        let bx = (vx - 6).min(lanes_end.saturating_sub(vwidth)).max(4);
        let width = lanes_end.max(bx + vwidth + 4);
        let height = TOP + (self.rows.len() + 3) * ROW;
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"11\">\n\
             <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#333\"/></marker></defs>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
            esc(&self.title)
        );
        for (i, (pid, name)) in self.lanes.iter().enumerate() {
            // The name (shortened to fit a lane) over the pid.
            let label = name.rsplit_once(' ').map_or(name.as_str(), |(l, _)| l);
            let label: String = if label.chars().count() > 20 {
                let tail: Vec<char> = label.chars().rev().take(19).collect();
                tail.into_iter().rev().collect::<String>() + ""
            } else {
                label.to_string()
            };
            let label = if label == format!("{pid:?}") {
                String::new()
            } else {
                label
            };
            let _ = writeln!(
                s,
                "<g class=\"lane\"><title>{}</title><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text><text x=\"{1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">{}</text><line x1=\"{1}\" y1=\"{}\" x2=\"{1}\" y2=\"{}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/></g>",
                esc(name),
                x(i),
                TOP - 32,
                esc(&label),
                TOP - 19,
                esc(&format!("{pid:?}")),
                TOP - 12,
                height - ROW
            );
        }
        for (r, (step, hot, row)) in self.rows.iter().enumerate() {
            let y = TOP + r * ROW;
            let opacity = if *hot { "1" } else { "0.35" };
            let _ = write!(
                s,
                "<g class=\"row {}\" opacity=\"{opacity}\">",
                if *hot { "needed" } else { "other" }
            );
            let number = match row {
                Row::Call { request_step, .. } => format!("{request_step}→{step}"),
                _ => step.to_string(),
            };
            let _ = write!(
                s,
                "<text x=\"8\" y=\"{}\" fill=\"#888\">{number}</text>",
                y + 4
            );
            match row {
                Row::Deliver {
                    from,
                    to,
                    text,
                    dropped,
                } => {
                    let (a, b) = (x(self.lane(*from)), x(self.lane(*to)));
                    let colour = if text.starts_with("exit") || text.starts_with("DOWN") {
                        "#b00"
                    } else {
                        "#333"
                    };
                    if a == b {
                        let _ = write!(
                            s,
                            "<path class=\"signal\" d=\"M {a} {} c 40 0 40 12 0 12\" fill=\"none\" stroke=\"{colour}\" marker-end=\"url(#arrow)\"/>",
                            y - 6
                        );
                    } else {
                        let _ = write!(
                            s,
                            "<line class=\"signal\" x1=\"{a}\" y1=\"{y}\" x2=\"{b}\" y2=\"{y}\" stroke=\"{colour}\" marker-end=\"url(#arrow)\"{}/>",
                            if *dropped {
                                " stroke-dasharray=\"2 2\""
                            } else {
                                ""
                            }
                        );
                    }
                    let _ = write!(
                        s,
                        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{colour}\">{}</text>",
                        (a + b) / 2 + if a == b { 60 } else { 0 },
                        y - 3,
                        esc(&row.text())
                    );
                }
                Row::Call { caller, server, .. } => {
                    // The request, solid, just above the row's line; the reply, dashed,
                    // just below it, back to the caller: one exchange.
                    let (a, b) = (x(self.lane(*caller)), x(self.lane(*server)));
                    let _ = write!(s, "<g class=\"exchange\">");
                    if a == b {
                        let _ = write!(
                            s,
                            "<path class=\"call\" d=\"M {a} {} c 40 0 40 8 0 8\" fill=\"none\" stroke=\"#333\" marker-end=\"url(#arrow)\"/><path class=\"reply\" d=\"M {a} {} c 30 0 30 6 0 6\" fill=\"none\" stroke=\"#333\" stroke-dasharray=\"6 3\" marker-end=\"url(#arrow)\"/>",
                            y - 6,
                            y + 2
                        );
                    } else {
                        let _ = write!(
                            s,
                            "<line class=\"call\" x1=\"{a}\" y1=\"{}\" x2=\"{b}\" y2=\"{0}\" stroke=\"#333\" marker-end=\"url(#arrow)\"/><line class=\"reply\" x1=\"{b}\" y1=\"{}\" x2=\"{a}\" y2=\"{1}\" stroke=\"#333\" stroke-dasharray=\"6 3\" marker-end=\"url(#arrow)\"/>",
                            y - 2,
                            y + 5
                        );
                    }
                    let _ = write!(
                        s,
                        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#333\">{}</text></g>",
                        (a + b) / 2 + if a == b { 60 } else { 0 },
                        y - 5,
                        esc(&row.text())
                    );
                }
                Row::Spawn {
                    parent,
                    child,
                    restart,
                } => {
                    let (a, b) = (x(self.lane(*parent)), x(self.lane(*child)));
                    let _ = write!(
                        s,
                        "<line class=\"spawn\" x1=\"{a}\" y1=\"{y}\" x2=\"{b}\" y2=\"{y}\" stroke=\"#070\" stroke-dasharray=\"6 3\" marker-end=\"url(#arrow)\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#070\">{}</text>",
                        (a + b) / 2,
                        y - 3,
                        if *restart { "restart" } else { "spawn" }
                    );
                }
                Row::Exit { pid, reason } => {
                    let a = x(self.lane(*pid));
                    let _ = write!(
                        s,
                        "<g class=\"exit\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#b00\" stroke-width=\"2\"/><line x1=\"{0}\" y1=\"{3}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#b00\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\" fill=\"#b00\">exit {}</text></g>",
                        a - 6,
                        y - 6,
                        a + 6,
                        y + 6,
                        a + 10,
                        y + 4,
                        esc(reason)
                    );
                }
                Row::Timer { pid, what } => {
                    let a = x(pid.map_or(0, |p| self.lane(p)));
                    let _ = write!(
                        s,
                        "<circle cx=\"{a}\" cy=\"{y}\" r=\"5\" fill=\"none\" stroke=\"#06c\"/><text x=\"{}\" y=\"{}\" fill=\"#06c\">timer {}</text>",
                        a + 9,
                        y + 4,
                        esc(what)
                    );
                }
                Row::Fault { pid, text } => {
                    let a = x(pid.map_or(0, |p| self.lane(p)));
                    let _ = write!(
                        s,
                        "<g class=\"fault\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" fill=\"#fb3\" stroke=\"#c60\"/><text x=\"{}\" y=\"{}\">FAULT {}</text></g>",
                        a - 4,
                        y - 10,
                        60 + 7 * text.len(),
                        a,
                        y + 2,
                        esc(text)
                    );
                }
            }
            s.push_str("</g>\n");
        }
        if let Some(text) = &vtext {
            // On the lifeline of the process whose state broke: a dot on the line, the
            // box under it.
            let y = TOP + self.rows.len() * ROW;
            let lane = self
                .lanes
                .get(self.violation_index())
                .map_or(String::new(), |(_, name)| name.clone());
            let _ = writeln!(
                s,
                "<g class=\"violation\"><title>{}</title><circle cx=\"{vx}\" cy=\"{}\" r=\"7\" fill=\"#b00\"/><line x1=\"{vx}\" y1=\"{1}\" x2=\"{vx}\" y2=\"{}\" stroke=\"#b00\" stroke-width=\"2\"/><rect x=\"{bx}\" y=\"{2}\" width=\"{vwidth}\" height=\"{}\" fill=\"#fdd\" stroke=\"#b00\"/><text x=\"{}\" y=\"{}\" fill=\"#b00\" font-weight=\"bold\">{}</text></g>",
                esc(&lane),
                y - 14,
                y - 4,
                ROW + 4,
                bx + 8,
                y + 14,
                esc(text)
            );
        }
        s + "</svg>\n"
    }

    /// A self-contained HTML page around the SVG (no scripts, no external resources).
    pub fn html(&self) -> String {
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let verdict = match &self.violation {
            Some((step, v)) => format!(
                "<p class=\"violation\" id=\"verdict\">Violation at step {step}{}: {}</p>",
                self.lanes
                    .get(self.violation_index())
                    .map(|(_, name)| format!(", in {}", esc(name)))
                    .unwrap_or_default(),
                esc(v)
            ),
            None => "<p id=\"verdict\">The run passed.</p>".to_string(),
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n\
             <style>body{{font-family:sans-serif;margin:1em}} .violation{{color:#b00;font-weight:bold}} .legend span{{margin-right:1.5em}}</style></head>\n\
             <body><h1>{}</h1>{verdict}\n\
             <p class=\"legend\"><span>&#8594; signal delivered</span><span>&#8594; &#8672; call and its reply</span><span style=\"color:#b00\">&#10005; exit</span><span style=\"color:#070\">- - spawn / restart</span><span style=\"background:#fb3\">FAULT</span><span style=\"color:#b00\">&#9679; the violation, on the process whose state broke</span><span>faded: not needed by the violation</span></p>\n\
             {}</body></html>\n",
            esc(&self.title),
            esc(&self.title),
            self.svg()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Violation;
    use crate::sim::trace::SignalKind;
    use std::borrow::Cow;

    fn run(step: u32, pid: u32, deps: [Option<u32>; 2], effects: Vec<Effect>) -> Event {
        Event {
            step,
            time_ms: 0,
            kind: StepKind::Run { pid: Pid(pid) },
            deps,
            effects,
        }
    }

    fn signal(from: u32, to: u32, text: &str, dropped: bool) -> Effect {
        Effect::Signal {
            from: Pid(from),
            to: Pid(to),
            signal: SignalKind::Message(Cow::Owned(text.to_string())),
            dropped,
        }
    }

    fn report(events: Vec<Event>, message: &str, labels: &[(u32, &str)]) -> RunReport {
        let steps = events.len() as u32;
        RunReport {
            steps,
            trace: Some(events),
            labels: labels
                .iter()
                .map(|(p, l)| (Pid(*p), l.to_string()))
                .collect(),
            ..RunReport::of_outcome(Outcome::Violation(Violation::new(
                "inv",
                steps,
                message.to_string(),
            )))
        }
    }

    fn steps(hot: &[bool]) -> Vec<usize> {
        (0..hot.len()).filter(|i| hot[*i]).collect()
    }

    #[test]
    fn report_program_order_alone_makes_no_step_needed() {
        // <0.1.0> runs on by itself; <0.2.0> takes the message <0.1.0> sent in step 2.
        let events = vec![
            run(0, 1, [None, None], vec![]),
            run(1, 1, [Some(0), None], vec![signal(1, 3, "noise", false)]),
            run(2, 1, [Some(1), None], vec![signal(1, 2, "hello", false)]),
            run(3, 1, [Some(2), None], vec![]),
            run(4, 2, [None, Some(2)], vec![]),
        ];
        let hot = needed(&events, &[], &[Pid(2)]);
        assert_eq!(
            steps(&hot),
            vec![2, 4],
            "the send, not <0.1.0>'s other steps"
        );
        // The history of the process whose state broke is needed.
        let hot = needed(&events, &[], &[Pid(1)]);
        assert_eq!(steps(&hot), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn report_reads_of_absence_need_the_death_or_release_they_saw() {
        let events = vec![
            run(
                0,
                1,
                [None, None],
                vec![
                    Effect::Exit {
                        pid: Pid(1),
                        reason: crate::sim::ExitReason::Normal,
                    },
                    Effect::Name {
                        name: "db".into(),
                        pid: None,
                    },
                ],
            ),
            run(1, 4, [None, None], vec![]),
            run(
                2,
                2,
                [None, None],
                vec![Effect::Global {
                    pid: Pid(2),
                    op: Cow::Borrowed("whereis"),
                }],
            ),
            run(3, 3, [None, None], vec![signal(3, 1, "ping", true)]),
            run(4, 4, [Some(1), None], vec![]),
        ];
        // A lookup of a name needs the release it saw; a signal dropped at a dead
        // receiver needs the death.
        assert_eq!(steps(&needed(&events, &[], &[Pid(2)])), vec![0, 2, 4]);
        assert_eq!(steps(&needed(&events, &[], &[Pid(3)])), vec![0, 3, 4]);
        assert_eq!(steps(&needed(&events, &[], &[Pid(4)])), vec![1, 4]);
    }

    #[test]
    fn report_a_kept_fault_is_needed_and_a_call_is_one_row() {
        let events = vec![
            run(0, 1, [None, None], vec![signal(1, 2, "call Get", false)]),
            run(1, 2, [None, Some(0)], vec![signal(2, 1, "reply 7", false)]),
            Event {
                step: 2,
                time_ms: 0,
                kind: StepKind::Fault {
                    fault: "kill <0.3.0> (kill)".into(),
                },
                deps: [None, None],
                effects: vec![Effect::Exit {
                    pid: Pid(3),
                    reason: crate::sim::ExitReason::Killed,
                }],
            },
            run(3, 1, [Some(0), Some(1)], vec![]),
        ];
        let r = report(events, "the cache <0.1.0> is stale", &[(1, "cache")]);
        let d = Diagram::of("t", &r);
        assert_eq!(d.violation_lane, Some(Pid(1)));
        let calls: Vec<_> = d
            .rows
            .iter()
            .filter(|(_, _, r)| matches!(r, Row::Call { .. }))
            .collect();
        assert_eq!(d.rows.len(), 3, "{:?}", d.rows);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].2.text(), "call Get → 7");
        assert!(d.rows.iter().all(|(_, hot, _)| *hot));
        let m = d.mermaid();
        assert!(
            m.contains("    P1->>P2: 0 call Get\n    P2-->>P1: 1 7\n"),
            "{m}"
        );
        assert!(m.contains("Note over P1: 4 VIOLATION"), "{m}");
        assert!(m.contains("FAULT kill <0.3.0>"), "{m}");
    }

    #[test]
    fn report_the_violation_lane_is_the_process_the_message_names() {
        let events = vec![
            run(0, 1, [None, None], vec![]),
            run(1, 2, [None, None], vec![]),
            run(2, 3, [None, None], vec![]),
        ];
        let lane = |msg: &str| {
            violation_lane(&report(
                events.clone(),
                msg,
                &[(1, "store"), (2, "writer_b"), (3, "writer")],
            ))
        };
        assert_eq!(lane("writer_b saw 1 event in the store"), Some(Pid(2)));
        assert_eq!(lane("the store <0.1.0> holds 1 event"), Some(Pid(1)));
        assert_eq!(lane("<0.2.0> then store"), Some(Pid(2)));
        assert_eq!(lane("nothing named"), Some(Pid(3)), "the last step's");
        assert_eq!(
            lane("the Store holds one"),
            Some(Pid(3)),
            "not by camel case"
        );
        let r = report(events.clone(), "the Store holds one", &[(1, "store")]);
        assert_eq!(violation_processes(&r), vec![Pid(3), Pid(1)]);
    }
}
