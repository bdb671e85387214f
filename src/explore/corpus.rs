//! The regression corpus: `seeds/<scenario>/<id>.json`, one shrunk failure (or a pass)
//! each, replayed by `fsim check` to make sure it still behaves as recorded.

use crate::report::story::Mark;
use crate::scenario::Scenario;
use crate::sim::{Outcome, RunReport, Tape};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format version of corpus entries.
pub const FORMAT_VERSION: u32 = 2;

/// What an entry expects of its replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Expected {
    /// The run violates this invariant.
    Violation {
        /// Its name.
        invariant: String,
    },
    /// The run passes.
    Pass,
}

/// One corpus entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The hash of the scenario file's content when the entry was recorded.
    pub scenario_hash: String,
    /// The scenario's system.
    pub system: String,
    /// The system's configuration, in its own words ([`crate::system::System::describe`]).
    pub configuration: String,
    /// The strategy that found it.
    pub strategy: String,
    /// The seed that found it.
    pub seed: u64,
    /// The shrunk tape, one choice a line.
    pub tape: Tape,
    /// What replaying it must give.
    pub expected: Expected,
    /// The replay's trace hash.
    pub trace_hash: String,
    /// Steps of the replay.
    pub steps: u32,
    /// The replay's events, one a line (to name the first step that differs).
    pub trace: Vec<String>,
}

impl Entry {
    /// The entry for a replay of `tape` on `scenario`.
    pub fn record(scenario: &Scenario, strategy: &str, seed: u64, tape: &Tape) -> Entry {
        let r = scenario.run_tape(tape, true);
        Entry {
            format_version: FORMAT_VERSION,
            scenario: scenario.name.clone(),
            scenario_hash: format!("{:016x}", scenario.content_hash),
            system: scenario.system.clone(),
            configuration: scenario.describe(),
            strategy: strategy.to_string(),
            seed,
            tape: tape.clone(),
            expected: match &r.outcome {
                Outcome::Violation(v) => Expected::Violation {
                    invariant: v.invariant.clone(),
                },
                _ => Expected::Pass,
            },
            trace_hash: format!("{:016x}", r.trace_hash),
            steps: r.steps,
            trace: trace_lines(&r),
        }
    }

    /// Where the entry lives under `root`: `<root>/<scenario>/<id>.json`, the id being
    /// the trace hash.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(&self.scenario)
            .join(format!("{}.json", self.trace_hash))
    }

    /// Writes it (creating the directory); an error names the file or directory.
    pub fn save(&self, root: &Path) -> Result<PathBuf, String> {
        let path = self.path(root);
        fn at(p: &Path) -> impl Fn(std::io::Error) -> String + '_ {
            move |e| format!("{}: {e}", p.display())
        }
        let dir = path.parent().unwrap_or(root);
        std::fs::create_dir_all(dir).map_err(at(dir))?;
        let json = serde_json::to_string_pretty(self).expect("an entry serializes");
        crate::files::write_atomic(&path, json + "\n").map_err(at(&path))?;
        // It replaces the entries of the same scenario and failure recorded against an
        // earlier version of the scenario: those can no longer replay, and would keep
        // `fsim check` failing after the advice it prints was followed.
        for old in std::fs::read_dir(dir)
            .map_err(at(dir))?
            .flatten()
            .map(|e| e.path())
        {
            if old != path
                && let Ok(e) = Entry::load(&old)
                && e.scenario == self.scenario
                && e.expected == self.expected
                && e.scenario_hash != self.scenario_hash
            {
                std::fs::remove_file(&old).map_err(at(&old))?;
            }
        }
        Ok(path)
    }

    /// Reads one; the error names the file and, for JSON errors, line, column and field.
    pub fn load(path: &Path) -> Result<Entry, String> {
        let text =
            crate::files::read_capped(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let e: Entry = crate::files::from_json(&text).map_err(|(line, column, what)| {
            format!("{}:{line}:{column}: {what}", path.display())
        })?;
        if e.format_version != FORMAT_VERSION {
            return Err(format!(
                "{}: format_version {} (this fsim reads {FORMAT_VERSION})",
                path.display(),
                e.format_version
            ));
        }
        Ok(e)
    }

    /// Replays the entry on `scenario` and says how it differs from the record, if at all.
    pub fn verify(&self, scenario: &Scenario) -> Result<RunReport, String> {
        self.verify_marked(scenario).map(|(r, _)| r)
    }

    /// [`Entry::verify`], and the replay's non-default choices (for its story and its
    /// diagram: one run serves the check and the telling).
    pub fn verify_marked(&self, scenario: &Scenario) -> Result<(RunReport, Vec<Mark>), String> {
        let hash = format!("{:016x}", scenario.content_hash);
        if hash != self.scenario_hash {
            return Err(format!(
                "scenario {} changed since this entry was recorded (hash {} now {hash}); \
                 record it again with `{}`",
                self.scenario,
                self.scenario_hash,
                crate::report::command(format!("shrink {} --save", scenario.source()))
            ));
        }
        if (self.system.as_str(), self.configuration.as_str())
            != (scenario.system.as_str(), scenario.describe().as_str())
        {
            return Err(format!(
                "recorded for system {} ({}), but the scenario runs {} ({})",
                self.system,
                self.configuration,
                scenario.system,
                scenario.describe()
            ));
        }
        let (r, marks) = scenario.run_tape_marked(&self.tape);
        let got = format!("{:016x}", r.trace_hash);
        if got != self.trace_hash {
            let now = trace_lines(&r);
            let at = self
                .trace
                .iter()
                .zip(&now)
                .position(|(a, b)| a != b)
                .unwrap_or(self.trace.len().min(now.len()));
            if at == self.trace.len() && at == now.len() {
                return Err(format!(
                    "trace hash {got}, recorded {}; every one of its {at} recorded events reads \
                     the same now: what differs is in what the lines leave out (message \
                     contents, effects), or the recorded hash was edited",
                    self.trace_hash
                ));
            }
            return Err(format!(
                "trace hash {got}, recorded {}; first difference at event {at}:\n  recorded: {}\n  now:      {}",
                self.trace_hash,
                self.trace.get(at).map_or("(end)", String::as_str),
                now.get(at).map_or("(end)", String::as_str),
            ));
        }
        let outcome = match &r.outcome {
            Outcome::Violation(v) => Expected::Violation {
                invariant: v.invariant.clone(),
            },
            _ => Expected::Pass,
        };
        if outcome != self.expected {
            return Err(format!("outcome {outcome:?}, recorded {:?}", self.expected));
        }
        if r.steps != self.steps {
            return Err(format!(
                "the replay takes {} steps, the entry says {}",
                r.steps, self.steps
            ));
        }
        // The seed it says found the failure must find it, with the strategy it names.
        if let Ok(strategy) = self.strategy.parse::<crate::explore::Strategy>()
            && let Expected::Violation { invariant } = &self.expected
        {
            let found = scenario.run_strategy(strategy, self.seed);
            if !matches!(&found.outcome, Outcome::Violation(v) if &v.invariant == invariant) {
                return Err(format!(
                    "seed {} with strategy {} does not violate {invariant}, as the entry says",
                    self.seed, self.strategy
                ));
            }
        }
        Ok((r, marks))
    }
}

fn trace_lines(r: &RunReport) -> Vec<String> {
    r.trace
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|e| e.to_string().lines().next().unwrap_or("").to_string())
        .collect()
}

/// The `.json` files directly under `root`, sorted: misplaced, since an entry sits in its
/// scenario's directory ([`Entry::path`]), and [`entries`] never finds them.
pub fn misplaced(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
}

/// Every entry file under `root` (`<root>/*/*.json`), sorted.
pub fn entries(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root) else {
        return out;
    };
    for d in dirs.flatten() {
        if let Ok(files) = std::fs::read_dir(d.path()) {
            out.extend(
                files
                    .flatten()
                    .map(|f| f.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json")),
            );
        }
    }
    out.sort();
    out
}
