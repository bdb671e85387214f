//! Scenarios: a [`System`] with what to do with it — its fault menu, limits, exploration
//! budget and strategy, the invariants to check, and the outcome to expect — built in code
//! ([`Scenario::new`]) or read from a TOML file ([`Scenario::load`]).
//!
//! A scenario file names its system and gives the system's own parameters at the top
//! level; the rest is the same for every system:
//!
//! ```toml
//! name = "limiter_race"
//! about = "Two clients check, then increment."
//! system = "rate_limiter"          # may be left out when the command line serves one system
//! invariants = ["never_over_limit"] # registered by the system (`fsim list` shows them)
//! expect = "violation"              # or "pass"
//! expect_invariant = "never_over_limit"
//! panics = "fail"                   # or "crash": panics in processes are OTP crashes
//!
//! variant = "flawed"                # the system's parameters
//! clients = 3
//!
//! [faults]
//! budget = 1
//! kill = ["kill"]
//! targets = ["worker"]              # labels; one that matches no process is an error
//!
//! [explore]
//! strategy = "random"               # random | pct | pct:D | pos | swarm | portfolio
//! seeds = 10000
//! ci_seeds = 2000
//! fault_ppm = 20000                 # the defaults of every entry point
//! jump_ppm = 10000
//! same_failure = "signature"        # or "invariant": what a shrunk run must fail with
//!
//! [limits]
//! steps_max = 50000
//!
//! [model]
//! delivery = "local"                # one node (the default) | "distributed"
//! ```
//!
//! A malformed file gets a [`ScenarioError`] naming the file, line and field.

use crate::check::PANIC;
use crate::explore::strategy::{Shape, Strategy};
use crate::sim::{
    Config, Delivery, ExitReason, FaultMenu, Limits, Outcome, Panics, RunReport, Sim, Tape, Targets,
};
use crate::system::{NamedInvariant, ParamError, System, Systems};
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use toml::Spanned;

/// A scenario file that could not be used: where, which field, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// The field, as a dotted path (`faults.kill[1]`), or empty.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the file as a whole (unreadable, or a rule over several tables).
        match self.line {
            0 => write!(f, "{}: ", self.file)?,
            line => write!(f, "{}:{line}:{}: ", self.file, self.column)?,
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// What a scenario is expected to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Every explored schedule passes.
    Pass,
    /// Some schedule violates this invariant.
    Violation(String),
}

/// How seeds are explored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explore {
    /// The strategy that turns seeds into tapes.
    pub strategy: Strategy,
    /// The full seed budget.
    pub seeds: u64,
    /// The budget CI runs (defaults to the full budget).
    pub ci_seeds: u64,
    /// Fault rate for the random strategy (parts per million of decisions).
    pub fault_ppm: u32,
    /// Time-jump rate (parts per million).
    pub jump_ppm: u32,
    /// When a shrunk run fails the same way: the same invariant and message with pids,
    /// refs and numbers abstracted (the default), or the same invariant only (for an invariant
    /// whose message lists what it found, which differs from run to run of one flaw).
    pub same_failure: crate::check::SameFailure,
}

impl Default for Explore {
    /// The defaults of every entry point (files, [`Scenario::new`], [`crate::test()`]):
    /// random, 10,000 seeds, faults at 2% of the decisions that offer one, time jumps at
    /// 1% of the decisions where a timer is pending.
    fn default() -> Self {
        Explore {
            strategy: Strategy::Random,
            seeds: 10_000,
            ci_seeds: 10_000,
            fault_ppm: crate::sim::choice::DEFAULT_FAULT_PPM,
            jump_ppm: crate::sim::choice::DEFAULT_JUMP_PPM,
            same_failure: crate::check::SameFailure::Signature,
        }
    }
}

/// A system with what to do with it: the unit every tool runs.
#[derive(Clone)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// One paragraph on what it shows.
    pub about: String,
    /// Where it was read from.
    pub path: Option<PathBuf>,
    /// Hash of the file's content (the regression corpus records it); for a scenario
    /// built in code, of its name.
    pub content_hash: u64,
    /// The system's name.
    pub system: String,
    /// The named invariants checked (besides those the system adds itself).
    pub invariants: Vec<String>,
    /// The expected outcome.
    pub expect: Expect,
    /// The fault menu.
    pub faults: FaultMenu,
    /// Exploration.
    pub explore: Explore,
    /// Run limits.
    pub limits: Limits,
    /// What a panic in a process means.
    pub panics: Panics,
    /// How signals travel (`[model] delivery`).
    pub delivery: Delivery,
    built: Arc<dyn System>,
    checks: Vec<NamedInvariant>,
    /// Decisions and fault points of the default run (PCT's estimate of a run's length,
    /// where planned faults land), measured once.
    decisions: Arc<OnceLock<(u32, u32)>>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("name", &self.name)
            .field("system", &self.system)
            .field("invariants", &self.invariants)
            .field("expect", &self.expect)
            .field("faults", &self.faults)
            .field("explore", &self.explore)
            .field("limits", &self.limits)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

const COMMON_KEYS: [&str; 11] = [
    "name",
    "about",
    "system",
    "invariants",
    "expect",
    "expect_invariant",
    "panics",
    "faults",
    "explore",
    "limits",
    "model",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Spanned<String>,
    #[serde(default)]
    about: String,
    #[serde(default)]
    system: Option<Spanned<String>>,
    #[serde(default)]
    invariants: Vec<Spanned<String>>,
    expect: Spanned<String>,
    #[serde(default)]
    expect_invariant: Option<Spanned<String>>,
    #[serde(default)]
    panics: Option<Spanned<String>>,
    #[serde(default)]
    faults: RawFaults,
    #[serde(default)]
    explore: RawExplore,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    model: RawModel,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawModel {
    #[serde(default)]
    delivery: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFaults {
    #[serde(default)]
    budget: u32,
    #[serde(default)]
    kill: Vec<Spanned<String>>,
    #[serde(default)]
    crash_after_effect: bool,
    #[serde(default)]
    fail_init: bool,
    #[serde(default)]
    targets: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawExplore {
    strategy: Spanned<String>,
    seeds: u64,
    ci_seeds: Option<u64>,
    fault_ppm: u32,
    jump_ppm: u32,
    same_failure: crate::check::SameFailure,
}

impl Default for RawExplore {
    fn default() -> Self {
        let d = Explore::default();
        RawExplore {
            strategy: Spanned::new(0..0, d.strategy.to_string()),
            seeds: d.seeds,
            ci_seeds: None,
            fault_ppm: d.fault_ppm,
            jump_ppm: d.jump_ppm,
            same_failure: d.same_failure,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    steps_max: u32,
    processes_max: u32,
    mailbox_max: u32,
    time_max_ms: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        let d = Limits::default();
        RawLimits {
            steps_max: d.steps_max,
            processes_max: d.processes_max,
            mailbox_max: d.mailbox_max,
            time_max_ms: d.time_max_ms,
        }
    }
}

impl Scenario {
    /// A scenario of `system` built in code: expected to pass, no faults, the default
    /// limits and exploration (the same defaults a scenario file gets). Set the rest with
    /// the `with_*` methods.
    pub fn new(name: &str, system: impl System + 'static) -> Self {
        Scenario {
            name: name.to_string(),
            about: String::new(),
            path: None,
            content_hash: crate::sim::trace::hash_bytes(name.as_bytes()),
            system: name.to_string(),
            invariants: Vec::new(),
            expect: Expect::Pass,
            faults: FaultMenu::none(),
            explore: Explore::default(),
            limits: Limits::default(),
            panics: Panics::default(),
            delivery: Delivery::default(),
            built: Arc::new(system),
            checks: Vec::new(),
            decisions: Arc::new(OnceLock::new()),
        }
    }

    /// With this fault menu.
    pub fn with_faults(mut self, faults: FaultMenu) -> Self {
        self.faults = faults;
        self.decisions = Arc::new(OnceLock::new());
        self
    }

    /// With these limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self.decisions = Arc::new(OnceLock::new());
        self
    }

    /// With this exploration.
    pub fn with_explore(mut self, explore: Explore) -> Self {
        self.explore = explore;
        self
    }

    /// With this panic policy.
    pub fn with_panics(mut self, panics: Panics) -> Self {
        self.panics = panics;
        self.decisions = Arc::new(OnceLock::new());
        self
    }

    /// With this delivery model.
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self.decisions = Arc::new(OnceLock::new());
        self
    }

    /// Expected to violate `invariant` in some schedule (a planted bug, a known race).
    pub fn expect_violation(mut self, invariant: &str) -> Self {
        self.expect = Expect::Violation(invariant.to_string());
        self
    }

    /// The system.
    pub fn system(&self) -> &Arc<dyn System> {
        &self.built
    }

    /// The system as its own type, when it is a `T` (a test reading the configuration a
    /// file gave, say).
    pub fn system_as<T: System>(&self) -> Option<&T> {
        let any: &dyn std::any::Any = &*self.built;
        any.downcast_ref::<T>()
    }

    /// The same scenario over another system (the same file with a switch flipped, say).
    pub fn with_system(mut self, system: impl System + 'static) -> Self {
        self.built = Arc::new(system);
        self.decisions = Arc::new(OnceLock::new());
        self
    }

    /// Reads and validates a scenario file of one of `systems`.
    pub fn load(path: &Path, systems: &Systems) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = crate::files::read_capped(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let mut s = Self::parse(&file, &text, systems)?;
        s.path = Some(path.to_path_buf());
        Ok(s)
    }

    /// Parses scenario text; `file` names it in errors.
    pub fn parse(file: &str, text: &str, systems: &Systems) -> Result<Scenario, ScenarioError> {
        let err = |span: Option<Range<usize>>, field: &str, message: String| {
            let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
            ScenarioError {
                file: file.to_string(),
                line,
                column,
                field: field.to_string(),
                message,
            }
        };
        let toml_err = |e: toml::de::Error| {
            let mut field = field_of(e.message());
            let mut message = e.message().trim().to_string();
            // toml names no key a duplicate is about; its span covers it.
            if message == "duplicate key"
                && let Some(key) = e
                    .span()
                    .and_then(|s| text.get(s))
                    .and_then(|k| k.split('=').next())
                    .map(|k| k.trim().trim_matches(['"', '\'']))
                    .filter(|k| !k.is_empty())
            {
                message = format!("duplicate key `{key}`");
                field = key.to_string();
            }
            err(e.span(), &field, message)
        };
        // Split the document: the keys of the scenario format, and the system's own.
        let doc = toml::de::DeTable::parse(text).map_err(toml_err)?;
        let span = doc.span();
        let mut common = toml::de::DeTable::new();
        let mut params = toml::de::DeTable::new();
        // Where each of the system's parameters is, for errors its `configure` reports
        // without a position.
        let mut param_spans: Vec<(String, Range<usize>)> = Vec::new();
        for (k, v) in doc.into_inner() {
            if COMMON_KEYS.contains(&k.get_ref().as_ref()) {
                common.insert(k, v);
            } else {
                param_spans.push((k.get_ref().to_string(), v.span()));
                params.insert(k, v);
            }
        }
        let raw: Raw = serde_path_to_error::deserialize(toml::de::Deserializer::from(
            Spanned::new(span.clone(), common),
        ))
        .map_err(|e| {
            let (path, e) = (crate::files::field_path(e.path()), e.into_inner());
            let named = field_of(e.message());
            // The field the message names (a missing one), else the value's own path
            // (a value of the wrong type: `explore.seeds`).
            let field = if named.is_empty() { path } else { named };
            err(e.span(), &field, e.message().trim().to_string())
        })?;
        validate(&raw, text, &err)?;
        let def = match &raw.system {
            Some(sys) => systems.get(sys.get_ref()).ok_or_else(|| {
                err(
                    Some(sys.span()),
                    "system",
                    format!(
                        "unknown system `{}` (known: {})",
                        sys.get_ref(),
                        systems.names().join(", ")
                    ),
                )
            })?,
            None => match systems.names().as_slice() {
                [one] => systems.get(one).expect("listed"),
                names => {
                    return Err(err(
                        None,
                        "system",
                        format!(
                            "missing: name the system (known: {})",
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    ));
                }
            },
        };
        let built = def
            .configure(toml::de::Deserializer::from(Spanned::new(span, params)))
            .map_err(|e: ParamError| {
                let span = e.span.or_else(|| {
                    let key = e.field.split(['.', '[']).next().unwrap_or("");
                    param_spans
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, s)| s.clone())
                });
                // The system's own keys are not all a file may have: say the scenario's too.
                let mut message = e.message;
                if message.starts_with("unknown field") {
                    message += &format!(
                        " (the system's parameters), or a scenario key: {}",
                        COMMON_KEYS.map(|k| format!("`{k}`")).join(", ")
                    );
                }
                err(span, &e.field, message)
            })?;
        let known: Vec<&str> = def.invariants().iter().map(|i| i.name.as_str()).collect();
        let check_inv = |s: &Spanned<String>, field: &str| {
            if known.contains(&s.get_ref().as_str()) {
                Ok(s.get_ref().clone())
            } else {
                Err(err(
                    Some(s.span()),
                    field,
                    format!(
                        "unknown invariant `{}` (known for system `{}`: {})",
                        s.get_ref(),
                        def.name(),
                        if known.is_empty() {
                            "none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ))
            }
        };
        let invariants = raw
            .invariants
            .iter()
            .enumerate()
            .map(|(i, s)| check_inv(s, &format!("invariants[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let expect = match (raw.expect.get_ref().as_str(), &raw.expect_invariant) {
            ("pass", None) => Expect::Pass,
            ("pass", Some(s)) => {
                return Err(err(
                    Some(s.span()),
                    "expect_invariant",
                    "only a `violation` scenario names the invariant it expects to fail".into(),
                ));
            }
            ("violation", Some(s)) if s.get_ref() == PANIC => Expect::Violation(PANIC.into()),
            ("violation", Some(s)) => {
                let name = check_inv(s, "expect_invariant")?;
                if !invariants.contains(&name) {
                    return Err(err(
                        Some(s.span()),
                        "expect_invariant",
                        format!("`{name}` is not among this scenario's invariants"),
                    ));
                }
                Expect::Violation(name)
            }
            ("violation", None) => {
                return Err(err(
                    Some(raw.expect.span()),
                    "expect_invariant",
                    "a `violation` scenario must name the invariant it expects to fail".into(),
                ));
            }
            (other, _) => {
                return Err(err(
                    Some(raw.expect.span()),
                    "expect",
                    format!("`{other}` is neither `pass` nor `violation`"),
                ));
            }
        };
        let panics = match raw
            .panics
            .as_ref()
            .map(|p| (p.get_ref().as_str(), p.span()))
        {
            None | Some(("fail", _)) => Panics::Fail,
            Some(("crash", _)) => Panics::Crash,
            Some((other, span)) => {
                return Err(err(
                    Some(span),
                    "panics",
                    format!("`{other}` is neither `fail` nor `crash`"),
                ));
            }
        };
        let delivery = match raw
            .model
            .delivery
            .as_ref()
            .map(|d| (d.get_ref().as_str(), d.span()))
        {
            None | Some(("local", _)) => Delivery::Local,
            Some(("distributed", _)) => Delivery::Distributed,
            Some((other, span)) => {
                return Err(err(
                    Some(span),
                    "model.delivery",
                    format!("`{other}` is neither `local` nor `distributed`"),
                ));
            }
        };
        let kill_reasons = raw
            .faults
            .kill
            .iter()
            .enumerate()
            .map(|(i, k)| {
                crate::sim::tape::parse_reason(k.get_ref())
                    .map_err(|m| err(Some(k.span()), &format!("faults.kill[{i}]"), m))
            })
            .collect::<Result<Vec<ExitReason>, _>>()?;
        let faults = FaultMenu {
            budget: raw.faults.budget,
            kill_reasons,
            crash_after_effect: raw.faults.crash_after_effect,
            fail_init: raw.faults.fail_init,
            targets: if raw.faults.targets.is_empty() {
                Targets::All
            } else {
                Targets::Labels(
                    raw.faults
                        .targets
                        .iter()
                        .map(|t| t.get_ref().clone())
                        .collect(),
                )
            },
        };
        let strategy = raw
            .explore
            .strategy
            .get_ref()
            .parse::<Strategy>()
            .map_err(|m| err(Some(raw.explore.strategy.span()), "explore.strategy", m))?;
        let explore = Explore {
            strategy,
            seeds: raw.explore.seeds,
            ci_seeds: raw
                .explore
                .ci_seeds
                .unwrap_or(raw.explore.seeds)
                .min(raw.explore.seeds),
            fault_ppm: raw.explore.fault_ppm,
            jump_ppm: raw.explore.jump_ppm,
            same_failure: raw.explore.same_failure,
        };
        let l = &raw.limits;
        let checks = invariants
            .iter()
            .map(|n| {
                def.invariants()
                    .iter()
                    .find(|i| &i.name == n)
                    .expect("checked above")
                    .clone()
            })
            .collect();
        let s = Scenario {
            name: raw.name.get_ref().clone(),
            about: raw.about.trim().to_string(),
            path: None,
            // Over the text with its line endings normalised: a CRLF checkout of the same
            // file is the same scenario.
            content_hash: crate::sim::trace::hash_bytes(text.replace("\r\n", "\n").as_bytes()),
            system: def.name().to_string(),
            invariants,
            expect,
            faults,
            explore,
            limits: Limits {
                steps_max: l.steps_max,
                processes_max: l.processes_max,
                mailbox_max: l.mailbox_max,
                time_max_ms: l.time_max_ms,
                ..Limits::default()
            },
            panics,
            delivery,
            built,
            checks,
            decisions: Arc::new(OnceLock::new()),
        };
        // A fault target must name a process the system has: one that matches no label
        // in the default run is a typo, and would make a flawed scenario silently never
        // fail.
        if let Some((i, message)) = s.unknown_target() {
            let span = raw.faults.targets.get(i).map(|t| t.span());
            return Err(err(span, &format!("faults.targets[{i}]"), message));
        }
        Ok(s)
    }

    /// The first fault target that names no process of the default run: its index, and
    /// what is wrong.
    fn unknown_target(&self) -> Option<(usize, String)> {
        let Targets::Labels(targets) = &self.faults.targets else {
            return None;
        };
        let seen = self.labels_of_default_run();
        let i = targets.iter().position(|t| !seen.contains(t))?;
        Some((
            i,
            format!(
                "no process is labelled `{}` in the default run (labels: {})",
                targets[i],
                seen.join(", ")
            ),
        ))
    }

    /// Checks a scenario made in code as a file is checked when it is loaded: its
    /// numbers within [`caps`], a fault budget with a fault to spend it on, and fault
    /// targets that name processes. `Err` names the field and says what is wrong.
    pub(crate) fn check_settings(&self) -> Result<(), String> {
        let numbers = Numbers {
            budget: self.faults.budget,
            fault_ppm: self.explore.fault_ppm,
            jump_ppm: self.explore.jump_ppm,
            seeds: self.explore.seeds,
            ci_seeds: Some(self.explore.ci_seeds),
            steps_max: self.limits.steps_max,
            processes_max: self.limits.processes_max,
            mailbox_max: self.limits.mailbox_max,
        };
        if let Some((field, message)) = numbers.out_of_range() {
            return Err(format!("{field}: {message}"));
        }
        let f = &self.faults;
        let kinds = !f.kill_reasons.is_empty() || f.crash_after_effect || f.fail_init;
        let targeted = matches!(&f.targets, Targets::Labels(l) if !l.is_empty());
        if let Some(field) = idle_faults(f.budget, targeted, kinds) {
            return Err(format!(
                "faults.{field}: no fault kind is given, so no fault would be injected: give \
                 `kill_reasons`, `crash_after_effect` or `fail_init`"
            ));
        }
        if let Some((i, message)) = self.unknown_target() {
            return Err(format!("faults.targets[{i}]: {message}"));
        }
        Ok(())
    }

    /// The labels of the processes of the default run, sorted, without repeats.
    fn labels_of_default_run(&self) -> Vec<String> {
        let mut sim = Sim::new(self.config());
        self.setup(&mut sim);
        sim.run(&mut crate::sim::DefaultChooser);
        let w = sim.world();
        let mut labels: Vec<String> = w
            .pids()
            .filter_map(|p| w.label(p).map(str::to_string))
            .collect();
        labels.sort();
        labels.dedup();
        labels
    }

    /// The kernel configuration of one run.
    pub fn config(&self) -> Config {
        Config {
            limits: self.limits.clone(),
            faults: self.faults.clone(),
            record_trace: false,
            panics: self.panics,
            delivery: self.delivery,
            skip_trace_hash: false,
        }
    }

    /// Builds the world: the system, then the named invariants it did not add itself (a
    /// system may add its invariants in `build`; a file that names them again does not
    /// check them twice).
    pub fn setup(&self, sim: &mut Sim) {
        self.built.build(sim);
        for c in &self.checks {
            if !sim.has_invariant(&c.name) {
                sim.invariant((c.make)());
            }
        }
    }

    /// A few words on the system's configuration ([`System::describe`]).
    pub fn describe(&self) -> String {
        self.built.describe()
    }

    /// One run from a seed with the scenario's strategy.
    pub fn run_seed(&self, seed: u64) -> RunReport {
        self.run_strategy(self.explore.strategy, seed)
    }

    /// One run from a seed with `strategy`.
    pub fn run_strategy(&self, strategy: Strategy, seed: u64) -> RunReport {
        self.run_strategy_with(&self.config(), strategy, seed)
    }

    /// [`Scenario::run_strategy`] under `config` (a sweep's, which skips the trace hash).
    pub(crate) fn run_strategy_with(
        &self,
        config: &Config,
        strategy: Strategy,
        seed: u64,
    ) -> RunReport {
        // Uniform random needs no estimate of a run's length: no extra default run.
        let shape = match strategy {
            Strategy::Random => Shape {
                decisions: 0,
                ..self.rates()
            },
            _ => self.shape(),
        };
        let mut chooser = strategy.chooser(seed, shape);
        self.run_with(config, &mut *chooser)
    }

    fn rates(&self) -> Shape {
        Shape {
            fault_ppm: self.explore.fault_ppm,
            jump_ppm: self.explore.jump_ppm,
            fault_budget: self.faults.budget,
            decisions: 0,
            fault_points: 0,
        }
    }

    /// What strategies need to know: rates, fault budget, and the length of a run and
    /// its fault points (from one default run, [`Shape::measure`]).
    pub fn shape(&self) -> Shape {
        let (decisions, fault_points) = *self
            .decisions
            .get_or_init(|| Shape::measured(|c| self.run_with(&self.config(), c)));
        Shape {
            decisions,
            fault_points,
            ..self.rates()
        }
    }

    /// One run replaying `tape`.
    pub fn run_tape(&self, tape: &Tape, record_trace: bool) -> RunReport {
        let config = Config {
            record_trace,
            ..self.config()
        };
        self.run_with(&config, &mut crate::sim::ReplayChooser::new(tape.clone()))
    }

    /// One traced replay of `tape`, with its choices that were not the default (for
    /// [`crate::report::story`]).
    pub fn run_tape_marked(&self, tape: &Tape) -> (RunReport, Vec<crate::report::story::Mark>) {
        let config = Config {
            record_trace: true,
            ..self.config()
        };
        let mut marking =
            crate::report::story::Marking::new(crate::sim::ReplayChooser::new(tape.clone()));
        let r = self.run_with(&config, &mut marking);
        (r, marking.marks)
    }

    /// The file it was read from, or its name when it was built in code: how a command
    /// names it.
    pub fn source(&self) -> String {
        self.path
            .as_ref()
            .map_or(self.name.clone(), |p| p.display().to_string())
    }

    /// What kind of failure `r` is, for its report: a deterministic bug when it has no
    /// fault and no deviation from the default schedule; otherwise the default schedule
    /// is run to say whether it passes (a race) or fails as well.
    pub fn schedule_note(&self, r: &RunReport) -> String {
        if let Some(note) = crate::report::deterministic_note(r) {
            return note.to_string();
        }
        let default = self.run_tape(&crate::sim::Tape::default(), false);
        if default.outcome.is_failure() {
            format!(
                "the default schedule fails too: {}",
                crate::explore::describe(&default.outcome)
            )
        } else {
            format!(
                "a race: the default schedule passes, and this schedule fails {} deviation(s) \
                 and {} fault(s) away from it",
                r.deviations, r.faults
            )
        }
    }

    /// The seeded chooser of the scenario's strategy.
    pub fn chooser(&self, seed: u64) -> crate::sim::RandomChooser {
        crate::sim::RandomChooser::new(seed)
            .with_rates(self.explore.fault_ppm, self.explore.jump_ppm)
    }

    /// How the shrinker treats this scenario's failures: its `same_failure`, the
    /// default budgets.
    pub fn shrink_options(&self) -> crate::explore::shrink::Options {
        crate::explore::shrink::Options {
            same: self.explore.same_failure,
            ..Default::default()
        }
    }

    /// One replay of `tape` that stops after `steps_max` steps (the shrinker's early
    /// abort).
    pub fn run_tape_limited(&self, tape: &Tape, steps_max: u32) -> RunReport {
        self.replay_under(self.config(), tape, steps_max)
    }

    /// [`Scenario::run_tape_limited`] without the trace hash (the shrinker's candidates).
    pub(crate) fn run_tape_unhashed(&self, tape: &Tape, steps_max: u32) -> RunReport {
        self.replay_under(self.unhashed_config(), tape, steps_max)
    }

    fn replay_under(&self, mut config: Config, tape: &Tape, steps_max: u32) -> RunReport {
        config.limits.steps_max = config.limits.steps_max.min(steps_max);
        self.run_with(&config, &mut crate::sim::ReplayChooser::new(tape.clone()))
    }

    /// One run driven by `chooser` (exhaustive search, custom strategies).
    pub fn run_chooser(&self, chooser: &mut dyn crate::sim::Chooser) -> RunReport {
        self.run_with(&self.config(), chooser)
    }

    /// [`Scenario::run_chooser`] without the trace hash (`trace_hash` is 0), for a search
    /// that compares none of its runs' hashes.
    pub fn run_unhashed(&self, chooser: &mut dyn crate::sim::Chooser) -> RunReport {
        self.run_with(&self.unhashed_config(), chooser)
    }

    /// [`Scenario::config`] for runs whose hashes nothing compares (sweeps, searches).
    pub(crate) fn unhashed_config(&self) -> Config {
        Config {
            skip_trace_hash: true,
            ..self.config()
        }
    }

    fn run_with(&self, config: &Config, chooser: &mut dyn crate::sim::Chooser) -> RunReport {
        let mut sim = Sim::new(config.clone());
        // A system's `build` is user code too: a panic there fails this run, reported,
        // and never takes a sweep's worker down.
        match crate::sim::exec::catch_quiet(|| self.setup(&mut sim)) {
            Ok(()) => sim.run(chooser),
            Err(payload) => RunReport::build_panicked(&*payload),
        }
    }

    /// Did a run do what the scenario expects of a *single* run? For a `violation`
    /// scenario a run "finds" the race when it violates the expected invariant.
    pub fn judge(&self, outcome: &Outcome) -> Judgement {
        match (&self.expect, outcome) {
            (Expect::Violation(want), Outcome::Violation(v)) if &v.invariant == want => {
                Judgement::Found
            }
            (_, Outcome::Violation(_) | Outcome::BoundHit(_)) => Judgement::Unexpected,
            (_, Outcome::Quiescent | Outcome::TimeLimit) => Judgement::Passed,
        }
    }
}

/// One run measured against a scenario's expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// It violated the invariant a `violation` scenario expects.
    Found,
    /// It passed.
    Passed,
    /// It failed in a way the scenario does not expect (another invariant, a bound).
    Unexpected,
}

/// The documented caps of a scenario file's numbers.
pub mod caps {
    /// A rate in parts per million is at most this.
    pub const PPM_MAX: u32 = 1_000_000;
    /// Faults in one run.
    pub const FAULT_BUDGET_MAX: u32 = 1_000;
    /// A scenario's seed budget (`--bases` starts base k at k * 2^32).
    pub const SEEDS_MAX: u64 = 1 << 32;
    /// Worker threads (`--jobs`, `FSIM_JOBS`): a world per thread, and nothing gains
    /// from more threads than this.
    pub const JOBS_MAX: usize = 1_024;
    /// `limits.steps_max`.
    pub const STEPS_MAX: u32 = 10_000_000;
    /// `limits.processes_max`.
    pub const PROCESSES_MAX: u32 = 100_000;
    /// `limits.mailbox_max`.
    pub const MAILBOX_MAX: u32 = 10_000_000;
    /// A scenario's name (it names a corpus directory): this many characters.
    pub const NAME_LEN_MAX: usize = 128;
}

/// Checks the numbers and the name against [`caps`]: a value out of range is an error
/// naming its field, never a crash or a silently clamped run.
fn validate(
    raw: &Raw,
    text: &str,
    err: &impl Fn(Option<Range<usize>>, &str, String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    let name = raw.name.get_ref();
    let name_ok = !name.is_empty()
        && name.len() <= caps::NAME_LEN_MAX
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !name_ok {
        return Err(err(
            Some(raw.name.span()),
            "name",
            format!(
                "`{name}`: a name is 1 to {} of A-Z a-z 0-9 _ - . and does not start with `.` \
                 (it names the scenario's corpus directory)",
                caps::NAME_LEN_MAX
            ),
        ));
    }
    let numbers = Numbers {
        budget: raw.faults.budget,
        fault_ppm: raw.explore.fault_ppm,
        jump_ppm: raw.explore.jump_ppm,
        seeds: raw.explore.seeds,
        ci_seeds: raw.explore.ci_seeds,
        steps_max: raw.limits.steps_max,
        processes_max: raw.limits.processes_max,
        mailbox_max: raw.limits.mailbox_max,
    };
    if let Some((field, message)) = numbers.out_of_range() {
        let span = field
            .split_once('.')
            .and_then(|(table, key)| key_offset(text, table, key))
            .map(|at| at..at);
        return Err(err(span, field, message));
    }
    // A budget or targets with no kind of fault to inject would silently inject none.
    let f = &raw.faults;
    let kinds = !f.kill.is_empty() || f.crash_after_effect || f.fail_init;
    if let Some(field) = idle_faults(f.budget, !f.targets.is_empty(), kinds) {
        let at = key_offset(text, "faults", field).map(|at| at..at);
        return Err(err(
            at,
            &format!("faults.{field}"),
            "no fault kind is given, so no fault would be injected: add `kill = [\"kill\"]`, \
             `crash_after_effect = true` or `fail_init = true`"
                .into(),
        ));
    }
    Ok(())
}

/// The field of a fault menu that asks for faults when the menu names no kind of fault
/// to inject, so that none would be: `budget`, or `targets` with no budget.
fn idle_faults(budget: u32, targeted: bool, kinds: bool) -> Option<&'static str> {
    match (kinds, budget > 0, targeted) {
        (true, ..) | (false, false, false) => None,
        (false, true, _) => Some("budget"),
        (false, false, true) => Some("targets"),
    }
}

/// A scenario's numbers that have caps, from a file or from code.
struct Numbers {
    budget: u32,
    fault_ppm: u32,
    jump_ppm: u32,
    seeds: u64,
    ci_seeds: Option<u64>,
    steps_max: u32,
    processes_max: u32,
    mailbox_max: u32,
}

impl Numbers {
    /// The first number out of its range ([`caps`]): its field, and what is wrong.
    fn out_of_range(&self) -> Option<(&'static str, String)> {
        let ranges = [
            (
                "faults.budget",
                self.budget as u64,
                0,
                caps::FAULT_BUDGET_MAX as u64,
            ),
            (
                "explore.fault_ppm",
                self.fault_ppm as u64,
                0,
                caps::PPM_MAX as u64,
            ),
            (
                "explore.jump_ppm",
                self.jump_ppm as u64,
                0,
                caps::PPM_MAX as u64,
            ),
            ("explore.seeds", self.seeds, 1, caps::SEEDS_MAX),
            (
                "explore.ci_seeds",
                self.ci_seeds.unwrap_or(1),
                1,
                caps::SEEDS_MAX,
            ),
            (
                "limits.steps_max",
                self.steps_max as u64,
                1,
                caps::STEPS_MAX as u64,
            ),
            (
                "limits.processes_max",
                self.processes_max as u64,
                1,
                caps::PROCESSES_MAX as u64,
            ),
            (
                "limits.mailbox_max",
                self.mailbox_max as u64,
                1,
                caps::MAILBOX_MAX as u64,
            ),
        ];
        ranges
            .into_iter()
            .find(|(_, v, lo, hi)| !(lo..=hi).contains(&v))
            .map(|(field, v, lo, hi)| (field, format!("{v} is out of range {lo}..={hi}")))
    }
}

/// Where `key = ...` is written in the table `[table]` (the top level: `""`), as a byte
/// offset.
fn key_offset(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    let mut inside = table.is_empty();
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            inside = t
                .trim_end()
                .trim_end_matches(']')
                .trim_start_matches('[')
                .trim()
                == table;
        } else if inside
            && let Some(rest) = t.strip_prefix(key)
            && rest.trim_start().starts_with('=')
        {
            return Some(offset + (line.len() - t.len()));
        }
        offset += line.len();
    }
    None
}

/// Every scenario file in `dir`, sorted by file name.
pub fn load_dir(dir: &Path, systems: &Systems) -> Result<Vec<Scenario>, ScenarioError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| ScenarioError {
            file: dir.display().to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read directory: {e}"),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let all = paths
        .iter()
        .map(|p| Scenario::load(p, systems))
        .collect::<Result<Vec<_>, _>>()?;
    unique_names(&all)?;
    Ok(all)
}

/// Checks that no two of `scenarios` share a name: the name names the scenario's corpus
/// directory, and the entries of one would fail against the other as "changed since
/// recorded". The error names the second file, the line of its `name`, and the first.
pub fn unique_names(scenarios: &[Scenario]) -> Result<(), ScenarioError> {
    for (i, later) in scenarios.iter().enumerate() {
        let Some(first) = scenarios[..i].iter().find(|s| s.name == later.name) else {
            continue;
        };
        let (line, column) = later
            .path
            .as_ref()
            .and_then(|p| crate::files::read_capped(p).ok())
            .and_then(|text| key_offset(&text, "", "name").map(|at| line_col(&text, at)))
            .unwrap_or((0, 0));
        let message = if first.path.is_some() && first.path == later.path {
            "this file is given twice".to_string()
        } else {
            format!(
                "`{}` is also the name of {}: each scenario needs its own name (it names the \
                 scenario's corpus directory)",
                later.name,
                first.source()
            )
        };
        return Err(ScenarioError {
            file: later.source(),
            line,
            column,
            field: "name".into(),
            message,
        });
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The field a serde message is about (`missing field `x``, `unknown field `x``).
pub(crate) fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or("")
        .to_string()
}
