//! Scenarios: `sim-scenarios/*.toml` turned into runnable worlds.
//!
//! A scenario names the system and its flaws, the workload (ExUnit tests and client
//! processes with their operations), the fault menu and budget, the invariants, the
//! exploration budget and strategy, and the expected outcome:
//!
//! ```toml
//! name = "alive_check_then_act"
//! flaws = ["alive_check_then_act"]
//! invariants = ["api_totality"]
//! expect = "violation"
//! expect_invariant = "api_totality"
//!
//! [faults]
//! budget = 1
//! kill = ["kill"]
//! targets = ["config_server"]
//!
//! [explore]
//! seeds = 10000
//!
//! [[client]]
//! name = "reader"
//! ops = ["get ai.sampling_rate", "get ai.sampling_rate"]
//! draw = ["get_all", "update dev.debug_mode 1"]   # then 3 operations drawn from the tape
//! draws = 3
//! ```
//!
//! A malformed file gets a [`ScenarioError`] naming the file, line and field.

pub mod ops;
mod suite;

use crate::check::foundation::{self as checks, CATALOGUE};
use crate::explore::strategy::{Shape, Strategy};
use crate::foundation::{Flaw, Flaws, Observer, ServiceContext};
use crate::sim::{Config, ExitReason, FaultMenu, Limits, Outcome, RunReport, Sim, Tape, Targets};
pub use ops::Op;
use serde::Deserialize;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
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
    /// The field, as a dotted path (`client[1].ops[2]`), or empty.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
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
    /// Time-jump rate for the random strategy (parts per million).
    pub jump_ppm: u32,
}

/// One workload process.
#[derive(Clone, Debug)]
pub struct Client {
    /// Its name (its label is `client:<name>`).
    pub name: String,
    /// What it does, `repeat` times over.
    pub ops: Vec<Op>,
    /// How often.
    pub repeat: u32,
    /// Operations to draw from, after the fixed ones: each one a choice on the tape.
    pub draw: Vec<Op>,
    /// How many to draw.
    pub draws: u32,
}

/// One ExUnit test.
#[derive(Clone, Debug)]
pub struct TestSpec {
    /// Its name.
    pub name: String,
    /// Its module (tests of one module run one after another).
    pub module: String,
    /// The module is `async: true`.
    pub async_: bool,
    /// Its setup and body.
    pub ops: Vec<Op>,
}

/// A parsed, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// One paragraph on what it shows.
    pub about: String,
    /// Where it was read from.
    pub path: Option<PathBuf>,
    /// Hash of the file's content (the regression corpus records it).
    pub content_hash: u64,
    /// The flaws switched on.
    pub flaws: Flaws,
    /// The invariants checked.
    pub invariants: Vec<String>,
    /// The expected outcome.
    pub expect: Expect,
    /// The fault menu.
    pub faults: FaultMenu,
    /// Exploration.
    pub explore: Explore,
    /// Run limits.
    pub limits: Limits,
    /// How long the suite lets timers run after the workload, before stopping the app.
    pub settle_ms: u64,
    /// Client processes.
    pub clients: Vec<Client>,
    /// Tests.
    pub tests: Vec<TestSpec>,
    /// Decisions of the default run (PCT's estimate of a run's length), measured once.
    decisions: OnceLock<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Spanned<String>,
    #[serde(default)]
    about: String,
    #[serde(default)]
    system: Option<Spanned<String>>,
    #[serde(default)]
    flaws: Vec<Spanned<String>>,
    #[serde(default)]
    invariants: Vec<Spanned<String>>,
    expect: Spanned<String>,
    #[serde(default)]
    expect_invariant: Option<Spanned<String>>,
    #[serde(default)]
    faults: RawFaults,
    #[serde(default)]
    explore: RawExplore,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    client: Vec<RawClient>,
    #[serde(default)]
    test: Vec<RawTest>,
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
    targets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawExplore {
    strategy: Spanned<String>,
    seeds: u64,
    ci_seeds: Option<u64>,
    fault_ppm: u32,
    jump_ppm: u32,
}

impl Default for RawExplore {
    fn default() -> Self {
        RawExplore {
            strategy: Spanned::new(0..0, "random".into()),
            seeds: 10_000,
            ci_seeds: None,
            fault_ppm: 20_000,
            jump_ppm: 0,
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
    settle_ms: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            steps_max: 50_000,
            processes_max: 1_000,
            mailbox_max: 1_000,
            time_max_ms: 600_000,
            settle_ms: 1_000,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    #[serde(default)]
    ops: Vec<Spanned<String>>,
    #[serde(default = "one")]
    repeat: u32,
    #[serde(default)]
    draw: Vec<Spanned<String>>,
    #[serde(default)]
    draws: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: String,
    #[serde(default)]
    module: Option<String>,
    #[serde(default, rename = "async")]
    async_: bool,
    ops: Vec<Spanned<String>>,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        let mut s = Self::parse(&file, &text)?;
        s.path = Some(path.to_path_buf());
        Ok(s)
    }

    /// Parses scenario text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
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
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let field = field_of(e.message());
            err(e.span(), &field, e.message().trim().to_string())
        })?;
        if let Some(sys) = &raw.system
            && sys.get_ref() != "foundation"
        {
            return Err(err(
                Some(sys.span()),
                "system",
                format!("unknown system `{}` (known: foundation)", sys.get_ref()),
            ));
        }
        let flaws = raw
            .flaws
            .iter()
            .enumerate()
            .map(|(i, f)| {
                f.get_ref()
                    .parse::<Flaw>()
                    .map_err(|m| err(Some(f.span()), &format!("flaws[{i}]"), m))
            })
            .collect::<Result<Flaws, _>>()?;
        let known: Vec<&str> = CATALOGUE.iter().map(|(n, ..)| *n).collect();
        let check_inv = |s: &Spanned<String>, field: &str| {
            if known.contains(&s.get_ref().as_str()) {
                Ok(s.get_ref().clone())
            } else {
                Err(err(
                    Some(s.span()),
                    field,
                    format!(
                        "unknown invariant `{}` (known: {})",
                        s.get_ref(),
                        known.join(", ")
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
                Targets::Labels(raw.faults.targets.clone())
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
        };
        let parse_ops = |ops: &[Spanned<String>], field: &str, in_test: bool| {
            ops.iter()
                .enumerate()
                .map(|(i, o)| {
                    let op = o
                        .get_ref()
                        .parse::<Op>()
                        .map_err(|m| err(Some(o.span()), &format!("{field}[{i}]"), m))?;
                    if op == Op::Setup && !in_test {
                        return Err(err(
                            Some(o.span()),
                            &format!("{field}[{i}]"),
                            "`setup` is only valid in a test".into(),
                        ));
                    }
                    Ok(op)
                })
                .collect::<Result<Vec<Op>, _>>()
        };
        let clients = raw
            .client
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let field = format!("client[{i}]");
                let draw = parse_ops(&c.draw, &format!("{field}.draw"), false)?;
                if c.draws > 0 && draw.is_empty() {
                    return Err(err(
                        None,
                        &format!("{field}.draws"),
                        "`draws` needs a non-empty `draw` list".into(),
                    ));
                }
                Ok(Client {
                    name: c.name.clone(),
                    ops: parse_ops(&c.ops, &format!("{field}.ops"), false)?,
                    repeat: c.repeat,
                    draw,
                    draws: c.draws,
                })
            })
            .collect::<Result<Vec<_>, ScenarioError>>()?;
        let tests = raw
            .test
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Ok(TestSpec {
                    name: t.name.clone(),
                    module: t
                        .module
                        .clone()
                        .unwrap_or_else(|| format!("{}Test", t.name)),
                    async_: t.async_,
                    ops: parse_ops(&t.ops, &format!("test[{i}].ops"), true)?,
                })
            })
            .collect::<Result<Vec<_>, ScenarioError>>()?;
        if clients.is_empty() && tests.is_empty() {
            return Err(err(
                None,
                "client",
                "a scenario needs at least one [[client]] or [[test]]".into(),
            ));
        }
        let l = &raw.limits;
        Ok(Scenario {
            name: raw.name.get_ref().clone(),
            about: raw.about.trim().to_string(),
            path: None,
            content_hash: crate::sim::trace::hash_bytes(text.as_bytes()),
            flaws,
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
            settle_ms: l.settle_ms,
            clients,
            tests,
            decisions: OnceLock::new(),
        })
    }

    /// The kernel configuration of one run.
    pub fn config(&self) -> Config {
        Config {
            limits: self.limits.clone(),
            faults: self.faults.clone(),
            record_trace: false,
            panics: crate::sim::Panics::Fail,
        }
    }

    /// Builds the world: the suite runner (which starts the application, the clients and
    /// the tests, then stops the application) and the invariants. Add your own invariant
    /// to a scenario's world with a closure over the [`World`](crate::sim::World):
    ///
    /// ```
    /// use fsim::check::{invariant, When};
    /// use fsim::foundation::label;
    /// use fsim::scenario::Scenario;
    /// use fsim::sim::{RandomChooser, Sim};
    ///
    /// let s = Scenario::parse("mine.toml", r#"
    ///     name = "mine"
    ///     expect = "pass"
    ///     [[client]]
    ///     name = "writer"
    ///     ops = ["update ai.sampling_rate 5", "get ai.sampling_rate"]
    /// "#).unwrap();
    /// let mut sim = Sim::new(s.config());
    /// s.setup(&mut sim);
    /// sim.invariant(invariant("one_config_server", When::Always, |w| {
    ///     let n = w.live_pids().filter(|p| w.label(*p) == Some(label::CONFIG)).count();
    ///     if n <= 1 { Ok(()) } else { Err(format!("{n} ConfigServers alive")) }
    /// }));
    /// let report = sim.run(&mut RandomChooser::new(7));
    /// assert!(!report.outcome.is_failure(), "{:?}", report.outcome);
    /// ```
    pub fn setup(&self, sim: &mut Sim) {
        let observer = Observer::new();
        let app = ServiceContext::new("app", self.flaws.clone(), observer);
        for name in &self.invariants {
            sim.invariant(checks::by_name(name, &app).expect("validated at parse"));
        }
        let plan = suite::Plan::new(self, app);
        sim.spawn("ex_unit", move |cx| suite::run(cx, plan));
    }

    /// One run from a seed with the scenario's strategy.
    pub fn run_seed(&self, seed: u64) -> RunReport {
        self.run_strategy(self.explore.strategy, seed)
    }

    /// One run from a seed with `strategy`.
    pub fn run_strategy(&self, strategy: Strategy, seed: u64) -> RunReport {
        let mut chooser = strategy.chooser(seed, self.shape());
        self.run_with(&self.config(), &mut *chooser)
    }

    /// What strategies need to know: rates, fault budget, and the length of a run.
    pub fn shape(&self) -> Shape {
        let decisions = *self.decisions.get_or_init(|| {
            self.run_with(&self.config(), &mut crate::sim::DefaultChooser)
                .tape
                .len() as u32
        });
        Shape {
            fault_ppm: self.explore.fault_ppm,
            jump_ppm: self.explore.jump_ppm,
            fault_budget: self.faults.budget,
            decisions,
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

    /// The seeded chooser of the scenario's strategy.
    pub fn chooser(&self, seed: u64) -> crate::sim::RandomChooser {
        crate::sim::RandomChooser::new(seed)
            .with_rates(self.explore.fault_ppm, self.explore.jump_ppm)
    }

    /// One replay of `tape` that stops after `steps_max` steps (the shrinker's early
    /// abort).
    pub fn run_tape_limited(&self, tape: &Tape, steps_max: u32) -> RunReport {
        let mut config = self.config();
        config.limits.steps_max = config.limits.steps_max.min(steps_max);
        self.run_with(&config, &mut crate::sim::ReplayChooser::new(tape.clone()))
    }

    /// One run driven by `chooser` (exhaustive search, custom strategies).
    pub fn run_chooser(&self, chooser: &mut dyn crate::sim::Chooser) -> RunReport {
        self.run_with(&self.config(), chooser)
    }

    fn run_with(&self, config: &Config, chooser: &mut dyn crate::sim::Chooser) -> RunReport {
        let mut sim = Sim::new(config.clone());
        self.setup(&mut sim);
        sim.run(chooser)
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

/// Every scenario file in `dir`, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
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
    paths.iter().map(|p| Scenario::load(p)).collect()
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// The field a serde message is about (`missing field `x``, `unknown field `x``).
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or("")
        .to_string()
}
