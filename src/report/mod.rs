//! Pictures of a run: a sequence diagram as self-contained SVG or HTML (no scripts, no
//! network) and as Mermaid text.
//!
//! A lifeline per process, an arrow per delivered signal, a cross where a process exits,
//! a dashed arrow per spawn (marked "restart" when a process takes over a label an earlier
//! one had), an orange box per injected fault. The violating step is highlighted and the
//! steps the violation causally depends on are drawn at full strength, the rest faded.

pub mod story;

use crate::sim::trace::{Effect, SignalKind, StepKind, signal_text};
use crate::sim::{Event, Outcome, Pid, RunReport};
use std::collections::BTreeMap;
use std::fmt::Write;

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
    let mut open: BTreeMap<(Pid, Pid), std::collections::VecDeque<String>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for e in events {
        for (from, to, signal, _) in arrivals(e) {
            let text = signal_text(signal);
            if let Some(req) = text.strip_prefix("call ") {
                open.entry((from, to))
                    .or_default()
                    .push_back(req.to_string());
            } else if let Some(value) = text.strip_prefix("reply ")
                && let Some(request) = open.get_mut(&(to, from)).and_then(|q| q.pop_front())
            {
                let call = Call {
                    caller: to,
                    server: from,
                    request,
                    reply: value.to_string(),
                };
                out.insert(e.step, call);
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

/// The diagram row of a signal that reached its receiver, a reply drawn as the answer to
/// its call.
fn deliver_row(
    replies: &BTreeMap<u32, String>,
    step: u32,
    (from, to, signal, dropped): (Pid, Pid, &SignalKind, bool),
) -> Row {
    let reply = reply_text(replies, step, signal);
    Row::Deliver {
        from,
        to,
        text: reply.cloned().unwrap_or_else(|| signal_text(signal)),
        dropped,
        reply: reply.is_some(),
    }
}

/// What a row of the diagram shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// A signal delivered from one process to another.
    Deliver {
        /// Sender.
        from: Pid,
        /// Receiver.
        to: Pid,
        /// The signal in words.
        text: String,
        /// The receiver was dead.
        dropped: bool,
        /// A call's reply (drawn dashed, as the second half of one exchange).
        reply: bool,
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

/// A run laid out for drawing.
#[derive(Clone, Debug)]
pub struct Diagram {
    /// Title.
    pub title: String,
    /// Lifelines, in order of first appearance: pid and name.
    pub lanes: Vec<(Pid, String)>,
    /// Rows: the step they come from, whether it is in the violation's causal past, what.
    pub rows: Vec<(u32, bool, Row)>,
    /// The violation, if the run ended in one: its step and message.
    pub violation: Option<(u32, String)>,
}

impl Diagram {
    /// Lays out a run recorded with its full trace.
    pub fn of(title: &str, report: &RunReport) -> Diagram {
        let events: &[Event] = report.trace.as_deref().unwrap_or(&[]);
        let causal = crate::explore::causal_past(events);
        let replies = exchanges(events);
        let mut names: BTreeMap<Pid, String> = BTreeMap::new();
        let mut order: Vec<Pid> = Vec::new();
        let mut labels_seen: BTreeMap<String, Pid> = BTreeMap::new();
        let see = |p: Pid, order: &mut Vec<Pid>| {
            if !order.contains(&p) {
                order.push(p);
            }
        };
        let mut rows = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let hot = causal.get(i).copied().unwrap_or(false);
            match &e.kind {
                StepKind::Deliver {
                    from,
                    to,
                    signal,
                    dropped,
                } => {
                    see(*from, &mut order);
                    see(*to, &mut order);
                    let row = deliver_row(&replies, e.step, (*from, *to, signal, *dropped));
                    rows.push((e.step, hot, row));
                }
                StepKind::Timer { pid, what } => {
                    if let Some(p) = pid {
                        see(*p, &mut order);
                    }
                    rows.push((
                        e.step,
                        hot,
                        Row::Timer {
                            pid: *pid,
                            what: short(what),
                        },
                    ));
                }
                StepKind::Fault { fault } => {
                    // "kill <0.5.0> (kill)", "crash <0.5.0>": the victim's pid.
                    let pid = fault
                        .split_whitespace()
                        .nth(1)
                        .and_then(|w| {
                            w.strip_prefix("<0.")?
                                .strip_suffix(".0>")?
                                .parse::<u32>()
                                .ok()
                        })
                        .map(Pid);
                    rows.push((
                        e.step,
                        hot,
                        Row::Fault {
                            pid,
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
                    } => {
                        see(*from, &mut order);
                        see(*to, &mut order);
                        let row = deliver_row(&replies, e.step, (*from, *to, signal, *dropped));
                        rows.push((e.step, hot, row));
                    }
                    _ => {}
                }
            }
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
            Outcome::BoundHit(b) => Some((report.steps, format!("bound hit: {b}"))),
            _ => None,
        };
        Diagram {
            title: title.to_string(),
            lanes,
            rows,
            violation,
        }
    }

    fn lane(&self, p: Pid) -> usize {
        self.lanes.iter().position(|(q, _)| *q == p).unwrap_or(0)
    }

    /// Mermaid `sequenceDiagram` text.
    pub fn mermaid(&self) -> String {
        let id = |p: Pid| format!("P{}", p.0);
        let clean = |t: &str| t.replace([';', '#', '\n'], " ");
        let mut m = String::from("sequenceDiagram\n");
        for (p, name) in &self.lanes {
            let _ = writeln!(m, "    participant {} as {}", id(*p), clean(name));
        }
        for (step, _, row) in &self.rows {
            let _ = match row {
                Row::Deliver {
                    from,
                    to,
                    text,
                    dropped,
                    reply,
                } => writeln!(
                    m,
                    "    {}{}{}: {step} {}{}",
                    id(*from),
                    if *dropped {
                        "-x"
                    } else if *reply {
                        "-->>"
                    } else {
                        "->>"
                    },
                    id(*to),
                    clean(text),
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
                Row::Timer { pid: Some(p), what } => {
                    writeln!(m, "    Note over {}: {step} timer {}", id(*p), clean(what))
                }
                Row::Timer { pid: None, what } => writeln!(
                    m,
                    "    Note over {}: {step} timer {}",
                    id(self.lanes[0].0),
                    clean(what)
                ),
                Row::Fault { pid, text } => writeln!(
                    m,
                    "    Note over {}: {step} FAULT {}",
                    id(pid.unwrap_or(self.lanes[0].0)),
                    clean(text)
                ),
            };
        }
        if let Some((step, v)) = &self.violation
            && let Some((p, _)) = self.lanes.first()
        {
            let _ = writeln!(m, "    Note over {}: {step} VIOLATION {}", id(*p), clean(v));
        }
        m
    }

    /// A self-contained SVG.
    pub fn svg(&self) -> String {
        const LANE: usize = 150;
        const ROW: usize = 24;
        const TOP: usize = 70;
        let x = |i: usize| 90 + i * LANE;
        let width = x(self.lanes.len().max(1)) + 40;
        let height = TOP + (self.rows.len() + 3) * ROW;
        let esc = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
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
                label
                    .chars()
                    .rev()
                    .take(19)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<String>()
                    + ""
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
                if *hot { "causal" } else { "other" }
            );
            let _ = write!(
                s,
                "<text x=\"8\" y=\"{}\" fill=\"#888\">{step}</text>",
                y + 4
            );
            match row {
                Row::Deliver {
                    from,
                    to,
                    text,
                    dropped,
                    reply,
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
                            } else if *reply {
                                " stroke-dasharray=\"6 3\""
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
                        esc(text)
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
        if let Some((step, v)) = &self.violation {
            let y = TOP + self.rows.len() * ROW;
            let _ = writeln!(
                s,
                "<g class=\"violation\"><rect x=\"0\" y=\"{}\" width=\"{width}\" height=\"{}\" fill=\"#fdd\" stroke=\"#b00\"/><text x=\"8\" y=\"{}\" fill=\"#b00\" font-weight=\"bold\">step {step}: {}</text></g>",
                y - 8,
                ROW + 4,
                y + 10,
                esc(v)
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
                "<p class=\"violation\" id=\"verdict\">Violation at step {step}: {}</p>",
                esc(v)
            ),
            None => "<p id=\"verdict\">The run passed.</p>".to_string(),
        };
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n\
             <style>body{{font-family:sans-serif;margin:1em}} .violation{{color:#b00;font-weight:bold}} .legend span{{margin-right:1.5em}}</style></head>\n\
             <body><h1>{}</h1>{verdict}\n\
             <p class=\"legend\"><span>&#8594; signal delivered</span><span style=\"color:#b00\">&#10005; exit</span><span style=\"color:#070\">- - spawn / restart</span><span style=\"background:#fb3\">FAULT</span><span>faded: not in the violation's causal past</span></p>\n\
             {}</body></html>\n",
            esc(&self.title),
            esc(&self.title),
            self.svg()
        )
    }
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

/// Said of a failing run with no fault and no deviation from the default schedule.
pub const DETERMINISTIC: &str =
    "it fails on the default schedule, with no fault: a deterministic bug, not a race";

/// [`DETERMINISTIC`], when it applies to `r`.
pub fn deterministic_note(r: &RunReport) -> Option<&'static str> {
    (r.faults == 0 && r.deviations == 0).then_some(DETERMINISTIC)
}
