//! The choice tape: every nondeterministic decision of a run, in order.
//!
//! A run is a pure function of (system, scenario, tape). Seeds, strategies, replay and the
//! shrinker are only different producers of tapes. Choices name actions by identity
//! ("run <0.7.0>", "deliver <0.3.0> -> <0.7.0>") so that a tape keeps its meaning when
//! earlier entries are deleted; an entry that is not valid where it is read falls back to
//! the default (the first action offered: the process running on, or the run queue's
//! head) and is counted.
//!
//! Two encodings: a compact binary one (`FSTP`, version 1, varints) and a text one, a line
//! per choice, used in JSON corpus files. Both round-trip (see the property tests).

use super::types::{ExitReason, Pid};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An enabled action, in canonical order: kind first (run < deliver), then the pid that
/// acts (the receiver for a delivery), then the channel's sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Resume process `pid` until its next yield point.
    Run(Pid),
    /// Deliver the head signal of the channel `from -> to`.
    Deliver {
        /// Receiver.
        to: Pid,
        /// Sender.
        from: Pid,
    },
}

impl Action {
    /// The pid this action runs or delivers to.
    pub fn pid(&self) -> Pid {
        match *self {
            Action::Run(p) => p,
            Action::Deliver { to, .. } => to,
        }
    }

    /// Is it a delivery?
    pub fn is_delivery(&self) -> bool {
        matches!(self, Action::Deliver { .. })
    }
}

/// An injected fault (the scenario's fault menu decides which are offered).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Process `pid` terminates now with `reason`, whatever it was doing.
    Kill {
        /// Victim.
        pid: Pid,
        /// Its exit reason.
        reason: ExitReason,
    },
    /// Process `pid` crashes right after its next effect: the effect stays done, anything
    /// the callback would have committed afterwards is lost.
    CrashAfterEffect {
        /// Victim.
        pid: Pid,
    },
    /// The next `init` to run (of any GenServer) fails.
    FailNextInit,
}

/// One tape entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Choice {
    /// Take the default: the first action offered (see `Decision::actions`).
    Default,
    /// Take this action.
    Pick(Action),
    /// Inject this fault.
    Fault(Fault),
    /// Let virtual time pass to the next timer even though other actions are enabled.
    Jump,
    /// The value of a process's `draw(n)`: a workload decision (which operation next),
    /// below `n`; `0` is the default.
    Draw(u32),
}

/// A sequence of choices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tape {
    /// The choices, in the order they were (or will be) read.
    pub choices: Vec<Choice>,
}

/// Why tape bytes or text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TapeError {
    /// The bytes do not start with `FSTP`.
    #[error("not a tape: the first bytes are not the magic `FSTP`")]
    BadMagic,
    /// A version this build does not know.
    #[error("tape format version {0} is not supported (this build reads version 1)")]
    UnsupportedVersion(u8),
    /// The bytes end in the middle of an entry.
    #[error("tape is truncated at byte {offset} (while reading {what})")]
    Truncated {
        /// Byte offset.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// An unknown entry or reason tag.
    #[error("unknown {what} tag {tag} at byte {offset}")]
    BadTag {
        /// Byte offset.
        offset: usize,
        /// The tag byte.
        tag: u8,
        /// Which tag space.
        what: &'static str,
    },
    /// A number that does not fit.
    #[error("{what} at byte {offset} is out of range")]
    OutOfRange {
        /// Byte offset.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// Bytes after the last entry.
    #[error("{0} unexpected bytes after the last entry")]
    Trailing(usize),
    /// A text entry that does not parse.
    #[error("entry {index}: cannot read {text:?}: {why}")]
    BadText {
        /// Entry index.
        index: usize,
        /// The entry.
        text: String,
        /// What is wrong.
        why: String,
    },
}

const MAGIC: &[u8; 4] = b"FSTP";

/// The first `n` characters of `s`, with `…` when it is longer.
fn cut(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().nth(n).is_some() {
        out.push('…');
    }
    out
}
const VERSION: u8 = 1;

impl Tape {
    /// An empty tape: every choice is the default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.choices.len()
    }

    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.choices.is_empty()
    }

    /// The binary encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.choices.len() * 3);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put_varint(&mut out, self.choices.len() as u64);
        for c in &self.choices {
            match c {
                Choice::Default => out.push(0),
                Choice::Pick(Action::Run(p)) => {
                    out.push(1);
                    put_varint(&mut out, p.0 as u64);
                }
                Choice::Pick(Action::Deliver { to, from }) => {
                    out.push(2);
                    put_varint(&mut out, to.0 as u64);
                    put_varint(&mut out, from.0 as u64);
                }
                Choice::Fault(Fault::Kill { pid, reason }) => {
                    out.push(3);
                    put_varint(&mut out, pid.0 as u64);
                    put_reason(&mut out, reason);
                }
                Choice::Fault(Fault::CrashAfterEffect { pid }) => {
                    out.push(4);
                    put_varint(&mut out, pid.0 as u64);
                }
                Choice::Fault(Fault::FailNextInit) => out.push(5),
                Choice::Jump => out.push(6),
                Choice::Draw(v) => {
                    out.push(7);
                    put_varint(&mut out, *v as u64);
                }
            }
        }
        out
    }

    /// Reads the binary encoding. Never panics, whatever the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tape, TapeError> {
        let mut r = Reader { bytes, at: 0 };
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(TapeError::BadMagic);
        }
        r.at = 4;
        let version = r.byte("version")?;
        if version != VERSION {
            return Err(TapeError::UnsupportedVersion(version));
        }
        let count = r.varint("entry count")?;
        // Each entry is at least one byte: a count beyond the remaining bytes is truncation,
        // and checking it first keeps a hostile count from reserving memory.
        if count > (bytes.len() - r.at) as u64 {
            return Err(TapeError::Truncated {
                offset: bytes.len(),
                what: "entries",
            });
        }
        let mut choices = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let at = r.at;
            let tag = r.byte("entry tag")?;
            let choice = match tag {
                0 => Choice::Default,
                1 => Choice::Pick(Action::Run(r.pid()?)),
                2 => {
                    let to = r.pid()?;
                    let from = r.pid()?;
                    Choice::Pick(Action::Deliver { to, from })
                }
                3 => {
                    let pid = r.pid()?;
                    let reason = r.reason(0)?;
                    Choice::Fault(Fault::Kill { pid, reason })
                }
                4 => Choice::Fault(Fault::CrashAfterEffect { pid: r.pid()? }),
                5 => Choice::Fault(Fault::FailNextInit),
                6 => Choice::Jump,
                7 => Choice::Draw(u32::try_from(r.varint("draw")?).map_err(|_| {
                    TapeError::BadTag {
                        offset: at,
                        tag: 7,
                        what: "draw value",
                    }
                })?),
                tag => {
                    return Err(TapeError::BadTag {
                        offset: at,
                        tag,
                        what: "entry",
                    });
                }
            };
            choices.push(choice);
        }
        if r.at != bytes.len() {
            return Err(TapeError::Trailing(bytes.len() - r.at));
        }
        Ok(Tape { choices })
    }

    /// The text encoding: one choice a line.
    pub fn to_lines(&self) -> Vec<String> {
        self.choices.iter().map(|c| c.to_string()).collect()
    }

    /// Reads the text encoding.
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Result<Tape, TapeError> {
        let mut choices = Vec::with_capacity(lines.len());
        for (index, line) in lines.iter().enumerate() {
            let text = line.as_ref();
            let choice = text.parse().map_err(|why: String| TapeError::BadText {
                index,
                // An entry is short; a huge bad one is shown by its start only.
                text: cut(text, 80),
                why: cut(&why, 200),
            })?;
            choices.push(choice);
        }
        Ok(Tape { choices })
    }
}

impl Serialize for Tape {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_lines().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Tape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let lines = Vec::<String>::deserialize(d)?;
        Tape::from_lines(&lines).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Default => write!(f, "default"),
            Choice::Pick(Action::Run(p)) => write!(f, "run {}", p.0),
            Choice::Pick(Action::Deliver { to, from }) => write!(f, "deliver {}>{}", from.0, to.0),
            Choice::Fault(Fault::Kill { pid, reason }) => {
                write!(f, "kill {} {}", pid.0, reason_text(reason))
            }
            Choice::Fault(Fault::CrashAfterEffect { pid }) => write!(f, "crash {}", pid.0),
            Choice::Fault(Fault::FailNextInit) => write!(f, "fail_init"),
            Choice::Jump => write!(f, "jump"),
            Choice::Draw(v) => write!(f, "draw {v}"),
        }
    }
}

impl FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut words = s.splitn(3, ' ');
        let head = words.next().unwrap_or("");
        let pid = |w: Option<&str>| -> Result<Pid, String> {
            let w = w.ok_or("missing pid")?;
            w.parse::<u32>()
                .map(Pid)
                .map_err(|_| format!("bad pid {w:?}"))
        };
        match head {
            "default" => Ok(Choice::Default),
            "jump" => Ok(Choice::Jump),
            "draw" => {
                let w = words.next().ok_or("missing value")?;
                w.parse::<u32>()
                    .map(Choice::Draw)
                    .map_err(|_| format!("bad draw value {w:?}"))
            }
            "fail_init" => Ok(Choice::Fault(Fault::FailNextInit)),
            "run" => Ok(Choice::Pick(Action::Run(pid(words.next())?))),
            "crash" => Ok(Choice::Fault(Fault::CrashAfterEffect {
                pid: pid(words.next())?,
            })),
            "deliver" => {
                let w = words.next().ok_or("missing channel")?;
                let (from, to) = w.split_once('>').ok_or("channel must be FROM>TO")?;
                Ok(Choice::Pick(Action::Deliver {
                    to: pid(Some(to))?,
                    from: pid(Some(from))?,
                }))
            }
            "kill" => {
                let p = pid(words.next())?;
                let reason = parse_reason(words.next().ok_or("missing reason")?)?;
                Ok(Choice::Fault(Fault::Kill { pid: p, reason }))
            }
            other => Err(format!("unknown choice {other:?}")),
        }
    }
}

/// The text form of a reason in tapes: `normal`, `shutdown`, `shutdown:TERM`, `kill`,
/// `killed`, `noproc`, `timeout`, `call:REASON`, `stop:REASON`, `custom:TERM`.
pub fn reason_text(r: &ExitReason) -> String {
    match r {
        ExitReason::Normal => "normal".into(),
        ExitReason::Shutdown => "shutdown".into(),
        ExitReason::ShutdownWith(t) => format!("shutdown:{t}"),
        ExitReason::Kill => "kill".into(),
        ExitReason::Killed => "killed".into(),
        ExitReason::NoProc => "noproc".into(),
        ExitReason::Timeout => "timeout".into(),
        ExitReason::CallFailed(inner) => format!("call:{}", reason_text(inner)),
        ExitReason::StopFailed(inner) => format!("stop:{}", reason_text(inner)),
        ExitReason::Custom(t) => format!("custom:{t}"),
    }
}

/// Reads [`reason_text`]'s form.
pub fn parse_reason(s: &str) -> Result<ExitReason, String> {
    // `call:` and `stop:` nest; a reason nested beyond the cap is refused (a deeper one
    // is no reason any OTP process exits with, and would overflow the stack to build and
    // drop).
    let mut wraps: Vec<fn(Box<ExitReason>) -> ExitReason> = Vec::new();
    let mut rest = s;
    loop {
        let (t, wrap): (&str, fn(Box<ExitReason>) -> ExitReason) =
            if let Some(t) = rest.strip_prefix("call:") {
                (t, ExitReason::CallFailed)
            } else if let Some(t) = rest.strip_prefix("stop:") {
                (t, ExitReason::StopFailed)
            } else {
                break;
            };
        wraps.push(wrap);
        if wraps.len() > REASON_DEPTH_MAX {
            return Err(format!(
                "exit reason nested deeper than {REASON_DEPTH_MAX} `call:`/`stop:`s"
            ));
        }
        rest = t;
    }
    let mut reason = parse_flat_reason(rest, s)?;
    for wrap in wraps.into_iter().rev() {
        reason = wrap(Box::new(reason));
    }
    Ok(reason)
}

/// How deeply `call:` reasons may nest in a tape, a scenario or a corpus entry.
pub const REASON_DEPTH_MAX: usize = 8;

fn parse_flat_reason(s: &str, whole: &str) -> Result<ExitReason, String> {
    Ok(match s {
        "normal" => ExitReason::Normal,
        "shutdown" => ExitReason::Shutdown,
        "kill" => ExitReason::Kill,
        "killed" => ExitReason::Killed,
        "noproc" => ExitReason::NoProc,
        "timeout" => ExitReason::Timeout,
        _ => {
            if let Some(t) = s.strip_prefix("shutdown:") {
                ExitReason::ShutdownWith(t.into())
            } else if let Some(t) = s.strip_prefix("custom:") {
                ExitReason::Custom(t.into())
            } else {
                let shown: String = whole.chars().take(80).collect();
                return Err(format!("unknown exit reason {shown:?}"));
            }
        }
    })
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_reason(out: &mut Vec<u8>, r: &ExitReason) {
    let put_str = |out: &mut Vec<u8>, tag: u8, s: &str| {
        out.push(tag);
        put_varint(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    };
    match r {
        ExitReason::Normal => out.push(0),
        ExitReason::Shutdown => out.push(1),
        ExitReason::ShutdownWith(t) => put_str(out, 2, t),
        ExitReason::Kill => out.push(3),
        ExitReason::Killed => out.push(4),
        ExitReason::NoProc => out.push(5),
        ExitReason::Timeout => out.push(6),
        ExitReason::Custom(t) => put_str(out, 7, t),
        ExitReason::CallFailed(inner) => {
            out.push(8);
            put_reason(out, inner)
        }
        ExitReason::StopFailed(inner) => {
            out.push(9);
            put_reason(out, inner)
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self, what: &'static str) -> Result<u8, TapeError> {
        let b = *self.bytes.get(self.at).ok_or(TapeError::Truncated {
            offset: self.at,
            what,
        })?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self, what: &'static str) -> Result<u64, TapeError> {
        let start = self.at;
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte(what)?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(TapeError::OutOfRange {
            offset: start,
            what,
        })
    }

    fn pid(&mut self) -> Result<Pid, TapeError> {
        let at = self.at;
        let v = self.varint("pid")?;
        u32::try_from(v)
            .map(Pid)
            .map_err(|_| TapeError::OutOfRange {
                offset: at,
                what: "pid",
            })
    }

    fn string(&mut self) -> Result<String, TapeError> {
        let at = self.at;
        let len = self.varint("string length")?;
        if len > (self.bytes.len() - self.at) as u64 {
            return Err(TapeError::Truncated {
                offset: self.bytes.len(),
                what: "string",
            });
        }
        let s = &self.bytes[self.at..self.at + len as usize];
        self.at += len as usize;
        String::from_utf8(s.to_vec()).map_err(|_| TapeError::OutOfRange {
            offset: at,
            what: "utf-8 string",
        })
    }

    fn reason(&mut self, depth: u32) -> Result<ExitReason, TapeError> {
        let at = self.at;
        let tag = self.byte("exit reason")?;
        Ok(match tag {
            0 => ExitReason::Normal,
            1 => ExitReason::Shutdown,
            2 => ExitReason::ShutdownWith(self.string()?),
            3 => ExitReason::Kill,
            4 => ExitReason::Killed,
            5 => ExitReason::NoProc,
            6 => ExitReason::Timeout,
            7 => ExitReason::Custom(self.string()?),
            8 if (depth as usize) < REASON_DEPTH_MAX => {
                ExitReason::CallFailed(Box::new(self.reason(depth + 1)?))
            }
            9 if (depth as usize) < REASON_DEPTH_MAX => {
                ExitReason::StopFailed(Box::new(self.reason(depth + 1)?))
            }
            tag => {
                return Err(TapeError::BadTag {
                    offset: at,
                    tag,
                    what: "exit reason",
                });
            }
        })
    }
}
