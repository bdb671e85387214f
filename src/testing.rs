//! The cargo-test entry point: [`test()`] builds a [`Test`] of a world, which runs it over
//! many schedules and fails the test, shrunk and replayable, when one fails.
//!
//! ```
//! use fsim::otp::gen_server::{self, Caller, CallReply, GenServer, Server};
//! use fsim::sim::Cx;
//!
//! struct Counter(u64);
//! impl GenServer for Counter {
//!     type Call = ();
//!     type Reply = u64;
//!     type Cast = ();
//!     async fn handle_call(&mut self, _cx: &Cx, _: (), _from: Caller) -> CallReply<u64> {
//!         self.0 += 1;
//!         CallReply::Reply(self.0)
//!     }
//! }
//!
//! fsim::test(|sim| {
//!     sim.spawn("client", |cx| async move {
//!         let counter = Server::start_link(&cx, Counter(0), Default::default()).await.unwrap();
//!         assert_eq!(counter.call(&cx, ()).await, 1);
//!     });
//! })
//! .runs(200)
//! .check();
//! ```
//!
//! On a failure [`Test::check`] shrinks the failing schedule, writes it to a regression
//! file beside the crate (`fsim-regressions/<test>.json`, proptest's convention: check it
//! in; it is replayed first on every later run, so a fixed bug stays fixed), and panics
//! with the violation, the shrunk schedule in words and the command that replays it:
//! `FSIM_REPLAY=fsim-regressions/<test>.json cargo test <test>`.
//!
//! The environment overrides the code, so a failure seen in CI can be chased locally:
//!
//! | variable | meaning |
//! |---|---|
//! | `FSIM_RUNS` | how many schedules ([`Test::runs`]), 1 to 2^32 |
//! | `FSIM_SEED` | the first seed ([`Test::seed`]); with `FSIM_RUNS=1`, exactly that seed |
//! | `FSIM_STRATEGY` | `random`, `pct`, `pct:D`, `pos`, `swarm`, `portfolio` |
//! | `FSIM_JOBS` | worker threads (default: every core), 1 to 1,024 |
//! | `FSIM_REPLAY` | replay this regression file only, print its trace, fail if it fails (or if it was written for another test, or its schedule does not fit the world) |
//!
//! An invalid value fails the test naming the variable, and so does a setting out of the
//! range a scenario file allows (a fault target no process has, a fault budget with no
//! fault to spend it on, a rate over 1,000,000 ppm).
//!
//! The defaults are those of a scenario file and of `fsim run`: random strategy, faults at
//! 2% of the decisions that offer one, time jumps at 1%, the default [`Limits`], panics
//! fail the run.

use crate::explore::{self, Shard, StopAt, Strategy, corpus, dpor, exhaustive, shrink};
use crate::scenario::{Expect, Explore, Judgement, Scenario, caps};
use crate::sim::{FaultMenu, Limits, Panics, RunReport, Sim, Tape};
use std::path::{Path, PathBuf};

/// How many schedules [`Test::check`] runs unless told otherwise.
pub const DEFAULT_RUNS: u64 = 1_000;

/// A failure's story in its report, at most: a longer one keeps its head and its end.
const STORY_LINES_MAX: usize = 48;

/// A test of a world over many schedules. Built by [`test()`].
#[derive(Clone, Debug)]
pub struct Test {
    scenario: Scenario,
    runs: u64,
    seed: u64,
    jobs: usize,
    regressions: Option<PathBuf>,
    caller: &'static std::panic::Location<'static>,
    /// The name libtest runs this test under (its thread's name), for the replay line.
    libtest: Option<String>,
}

/// A test of the world `build` makes: it spawns the processes and adds the invariants.
/// Run it with [`Test::check`] (seeded schedules), [`Test::check_exhaustive`] (every
/// schedule within a bound), [`Test::check_all_schedules`] (one schedule of each class of
/// equivalent ones, no bound) or [`Test::replay`].
#[track_caller]
pub fn test(build: impl Fn(&mut Sim) + Send + Sync + 'static) -> Test {
    let caller = std::panic::Location::caller();
    Test::of(
        Scenario::new(&test_name(caller), build),
        DEFAULT_RUNS,
        caller,
    )
}

/// A test of a scenario (one loaded from a file with
/// [`Scenario::load`], or built with [`Scenario::new`]): its faults, limits, strategy and
/// expected outcome; its seed budget unless [`Test::runs`] says otherwise.
#[track_caller]
pub fn test_scenario(scenario: Scenario) -> Test {
    let runs = scenario.explore.seeds;
    Test::of(scenario, runs, std::panic::Location::caller())
}

fn libtest_name() -> Option<String> {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_string)
}

/// The running test's name: libtest names each test's thread after it.
fn test_name(caller: &std::panic::Location<'_>) -> String {
    match std::thread::current().name() {
        Some(n) if n != "main" => n.to_string(),
        _ => format!(
            "{}_{}",
            Path::new(caller.file())
                .file_stem()
                .map_or("test".into(), |s| s.to_string_lossy()),
            caller.line()
        ),
    }
}

/// What a passing [`Test::check`] saw.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Schedules run.
    pub runs: u64,
    /// Steps over all of them.
    pub steps: u64,
    /// For a test that expects a violation: the 1-based run that found it, its seed, and
    /// the shrunk failing run.
    pub found: Option<Found>,
}

/// The expected violation, found.
#[derive(Clone, Debug)]
pub struct Found {
    /// Runs until it was found (1 = the first).
    pub runs: u64,
    /// The seed.
    pub seed: u64,
    /// The shrunk schedule's run (traced).
    pub shrunk: RunReport,
}

impl Test {
    fn of(scenario: Scenario, runs: u64, caller: &'static std::panic::Location<'static>) -> Test {
        Test {
            scenario,
            runs,
            seed: 0,
            jobs: explore::threads().min(caps::JOBS_MAX),
            regressions: None,
            caller,
            libtest: libtest_name(),
        }
    }

    /// Names the test (its regression file is `<name>.json`); by default the name cargo
    /// test gives it.
    pub fn name(mut self, name: &str) -> Self {
        self.scenario.name = name.to_string();
        self
    }

    /// Runs this many schedules, 1 to 2^32 (default [`DEFAULT_RUNS`]; `FSIM_RUNS`
    /// overrides).
    pub fn runs(mut self, runs: u64) -> Self {
        self.runs = runs;
        self
    }

    /// Starts at this seed (default 0; `FSIM_SEED` overrides).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drives the schedules with this strategy (default random; `FSIM_STRATEGY`
    /// overrides).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.scenario.explore.strategy = strategy;
        self
    }

    /// How signals travel: on one node (the default) or between nodes.
    pub fn delivery(mut self, delivery: crate::sim::Delivery) -> Self {
        self.scenario = self.scenario.with_delivery(delivery);
        self
    }

    /// Injects faults from this menu.
    pub fn faults(mut self, faults: FaultMenu) -> Self {
        self.scenario = self.scenario.with_faults(faults);
        self
    }

    /// Fault and time-jump rates of the random strategies, in parts per million.
    pub fn rates(mut self, fault_ppm: u32, jump_ppm: u32) -> Self {
        let explore = Explore {
            fault_ppm,
            jump_ppm,
            ..self.scenario.explore.clone()
        };
        self.scenario = self.scenario.with_explore(explore);
        self
    }

    /// When a shrunk run fails the same way ([`SameFailure`](crate::check::SameFailure):
    /// by default the same invariant and message, pids, refs and numbers abstracted).
    pub fn same_failure(mut self, how: crate::check::SameFailure) -> Self {
        let explore = Explore {
            same_failure: how,
            ..self.scenario.explore.clone()
        };
        self.scenario = self.scenario.with_explore(explore);
        self
    }

    /// Limits on every run.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.scenario = self.scenario.with_limits(limits);
        self
    }

    /// What a panic in a process means (default: the run fails).
    pub fn panics(mut self, panics: Panics) -> Self {
        self.scenario = self.scenario.with_panics(panics);
        self
    }

    /// Worker threads, at most 1,024 (default: every core; 0 is 1; `FSIM_JOBS`
    /// overrides). The result does not depend on it.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Where regression files go (default: `fsim-regressions/` in the crate's directory).
    pub fn regressions(mut self, dir: impl Into<PathBuf>) -> Self {
        self.regressions = Some(dir.into());
        self
    }

    /// Expects some schedule to violate `invariant` (use [`crate::check::PANIC`] for a
    /// panic): the test then fails if none of its runs does, and passes when one does
    /// (a test that a checker catches a planted bug). Nothing is written.
    pub fn expect_violation(mut self, invariant: &str) -> Self {
        self.scenario.expect = Expect::Violation(invariant.to_string());
        self
    }

    /// The scenario under test.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    fn regression_file(&self) -> PathBuf {
        let dir = self.regressions.clone().unwrap_or_else(|| {
            std::env::var_os("CARGO_MANIFEST_DIR")
                .map(PathBuf::from)
                .unwrap_or_default()
                .join("fsim-regressions")
        });
        let file: String = self
            .scenario
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        dir.join(format!("{file}.json"))
    }

    /// Applies `FSIM_RUNS`, `FSIM_SEED`, `FSIM_STRATEGY`, `FSIM_JOBS`, then checks the
    /// settings as a scenario file's are checked: one out of range panics naming it,
    /// before anything runs.
    fn settled(mut self) -> Self {
        fn var<T: std::str::FromStr>(name: &str) -> Option<T>
        where
            T::Err: std::fmt::Display,
        {
            let v = std::env::var(name).ok()?;
            Some(
                v.parse()
                    .unwrap_or_else(|e| panic!("fsim: {name}={v:?} is not valid: {e}")),
            )
        }
        fn within(what: &str, v: u64, lo: u64, hi: u64) {
            if !(lo..=hi).contains(&v) {
                panic!("fsim: {what}: {v} is out of range {lo}..={hi}");
            }
        }
        if let Some(n) = var("FSIM_RUNS") {
            within("FSIM_RUNS", n, 1, caps::SEEDS_MAX);
            self.runs = n;
        }
        if let Some(s) = var("FSIM_SEED") {
            self.seed = s;
        }
        if let Some(s) = var::<Strategy>("FSIM_STRATEGY") {
            self.scenario.explore.strategy = s;
        }
        if let Some(j) = var::<usize>("FSIM_JOBS") {
            within("FSIM_JOBS", j as u64, 1, caps::JOBS_MAX as u64);
            self.jobs = j;
        }
        let name = &self.scenario.name;
        within(&format!("{name}: runs"), self.runs, 1, caps::SEEDS_MAX);
        within(
            &format!("{name}: jobs"),
            self.jobs as u64,
            1,
            caps::JOBS_MAX as u64,
        );
        if let Err(e) = self.scenario.check_settings() {
            panic!("fsim: {name}: {e}");
        }
        self
    }

    /// Replays `FSIM_REPLAY`'s file when it is set (`true`), instead of the search. A
    /// file written for another test fails this one: the replay line names the test to
    /// run alone.
    fn replay_requested(&self) -> bool {
        let Some(file) = std::env::var_os("FSIM_REPLAY") else {
            return false;
        };
        if file.is_empty() {
            panic!("fsim: FSIM_REPLAY is set but empty: give it a regression file");
        }
        let file = Path::new(&file);
        let entry = corpus::Entry::load(file).unwrap_or_else(|e| panic!("fsim: FSIM_REPLAY: {e}"));
        if entry.scenario != self.scenario.name {
            panic!(
                "fsim: FSIM_REPLAY={} is the regression file of `{}`, not of `{}`: run that \
                 test alone (`cargo test -- --exact {}`)",
                file.display(),
                entry.scenario,
                self.scenario.name,
                entry.scenario
            );
        }
        self.replay_entry(file, &entry, true);
        true
    }

    /// The regression file, replayed first by every search unless the test expects a
    /// violation (a failure that was found before must stay fixed).
    fn replay_regression_first(&self) {
        let file = self.regression_file();
        if !matches!(self.scenario.expect, Expect::Violation(_)) && file.exists() {
            self.replay_regression(&file);
        }
    }

    /// Runs the schedules: first the regression file, if there is one (a failure that
    /// was found before must stay fixed), then `runs` seeded schedules. Panics on a
    /// failure with the shrunk schedule, after writing it to the regression file; for a
    /// test that [expects a violation](Test::expect_violation), panics if none is found.
    pub fn check(self) -> Checked {
        let t = self.settled();
        if t.replay_requested() {
            return Checked {
                runs: 1,
                steps: 0,
                found: None,
            };
        }
        t.replay_regression_first();
        let s = &t.scenario;
        let strategy = s.explore.strategy;
        let seeds = t.seed..t.seed.saturating_add(t.runs);
        let sweep = explore::sweep_with(
            s,
            strategy,
            seeds,
            Shard::ALL,
            t.jobs,
            StopAt::FirstFailure,
            None,
        );
        if let Some(k) = &sweep.first_unexpected {
            t.fail_with(
                &strategy.to_string(),
                Some(k.seed),
                &k.report.tape,
                &k.report,
                k.seed - t.seed + 1,
            );
        }
        match (&s.expect, sweep.first_found) {
            (Expect::Violation(inv), None) => panic!(
                "fsim: {}: no schedule violated `{inv}` in {} runs (seeds {}..{}, {strategy})",
                s.name,
                sweep.runs,
                t.seed,
                t.seed.saturating_add(t.runs)
            ),
            (_, Some(k)) => {
                let shrunk = shrink::shrink(s, &k.report.tape, s.shrink_options())
                    .map(|sh| s.run_tape(&sh.tape, true))
                    .unwrap_or_else(|_| s.run_tape(&k.report.tape, true));
                Checked {
                    runs: sweep.runs,
                    steps: sweep.steps,
                    found: Some(Found {
                        runs: k.seed - t.seed + 1,
                        seed: k.seed,
                        shrunk,
                    }),
                }
            }
            (Expect::Pass, None) => Checked {
                runs: sweep.runs,
                steps: sweep.steps,
                found: None,
            },
        }
    }

    /// Runs every schedule within `bound` deviations from the default one (faults
    /// count as deviations), up to 200,000 runs; fails like [`Test::check`] on a
    /// failing schedule. Returns the number of runs and whether the search was
    /// complete. The reduced search runs first and holds where none of its runs goes
    /// over the bound; otherwise every tape within the bound runs, with no reduction
    /// (`explore::dpor::bounded`).
    pub fn check_exhaustive(self, bound: u32) -> (u64, bool) {
        let t = self.settled();
        if t.replay_requested() {
            return (1, false);
        }
        t.replay_regression_first();
        let s = &t.scenario;
        let b = dpor::bounded(
            |c| s.run_unhashed(c),
            |r| r.outcome.is_failure(),
            exhaustive::Bound {
                deviations: bound,
                max_runs: 200_000,
            },
        );
        t.judge_search(
            b.search,
            &format!("within {bound} deviation(s)"),
            &format!("exhaustive:{bound}"),
        )
    }

    /// Runs one schedule of every class of equivalent schedules (dynamic partial-order
    /// reduction, `explore::dpor`), with no bound, up to 200,000 runs; fails like
    /// [`Test::check`] on a failing schedule. Returns the runs and whether every class
    /// was searched. That is strong evidence, not a proof (`explore::dpor` says which of
    /// the reduction's rules are argued rather than proven); [`Test::check_exhaustive`]
    /// proves a bound. The reduction
    /// counts on processes that affect each other only through their `Cx`, and reduces
    /// nothing in a world whose invariants are checked between steps or that shares
    /// values with them.
    pub fn check_all_schedules(self) -> (u64, bool) {
        let t = self.settled();
        if t.replay_requested() {
            return (1, false);
        }
        t.replay_regression_first();
        let s = &t.scenario;
        let reduced = dpor::search(|c| s.run_unhashed(c), |r| r.outcome.is_failure(), 200_000);
        t.judge_search(reduced.search, "in any schedule", "exhaustive:all")
    }

    /// The verdict of an exhaustive search (`what`: which schedules it covered).
    fn judge_search(&self, search: exhaustive::Search, what: &str, name: &str) -> (u64, bool) {
        let s = &self.scenario;
        let expected = |r: &RunReport| s.judge(&r.outcome) == Judgement::Found;
        match (&s.expect, search.found) {
            (Expect::Violation(_), Some((_, r))) if expected(&r) => (search.runs, search.complete),
            (Expect::Violation(inv), None) => panic!(
                "fsim: {}: no schedule {what} violated `{inv}` ({} schedules{})",
                s.name,
                search.runs,
                if search.complete {
                    ", complete"
                } else {
                    ", search incomplete"
                }
            ),
            (_, Some((tape, r))) => self.fail_with(name, None, &tape, &r, search.runs),
            (Expect::Pass, None) => (search.runs, search.complete),
        }
    }

    /// Replays a regression file: prints its trace, processes named, and panics if the
    /// run fails (the bug is still there). A schedule that does not fit this world
    /// (choices that name no process or fault here, or more choices than the run made)
    /// is said in the output: it is expected where the world changed, say a fix that
    /// makes one call where there were two, and then the pass means the bug is gone.
    /// Under `FSIM_REPLAY` it fails the test instead: a person asked to see that run.
    pub fn replay(&self, file: &Path) {
        let entry = corpus::Entry::load(file).unwrap_or_else(|e| panic!("fsim: {e}"));
        self.replay_entry(file, &entry, false);
    }

    /// [`Test::replay`]; `strict`: a schedule that does not fit fails the test.
    fn replay_entry(&self, file: &Path, entry: &corpus::Entry, strict: bool) {
        let r = self.scenario.run_tape(&entry.tape, true);
        let trace = r.trace.as_deref().unwrap_or(&[]);
        let replies = crate::report::exchanges(trace);
        for e in trace {
            println!("{}", crate::report::event_text(e, &replies, &r));
        }
        println!("fsim: {}", explore::describe(&r.outcome));
        let misfit = crate::report::misfit(&entry.tape, &r).map(|m| {
            format!(
                "{} does not fit this world: {m}, so this run is not the recorded one (the \
                 file is damaged, or the world changed since)",
                file.display()
            )
        });
        if r.outcome.is_failure() {
            panic!(
                "fsim: {}: {} replays to a failure: {}{}",
                self.scenario.name,
                file.display(),
                explore::describe(&r.outcome),
                misfit.map(|m| format!("\n(but {m})")).unwrap_or_default()
            );
        }
        if let Some(m) = misfit {
            let text = format!("fsim: {}: the run passed, but {m}", self.scenario.name);
            if strict {
                panic!("{text}");
            }
            println!("{text}");
        }
    }

    /// The regression file, replayed before anything else: a failure is reported as it
    /// was recorded; a pass means the bug is fixed, and the file stays as its guard.
    fn replay_regression(&self, file: &Path) {
        let entry = match corpus::Entry::load(file) {
            Ok(e) => e,
            Err(e) => panic!("fsim: unreadable regression file: {e}"),
        };
        let (r, marks) = self.scenario.run_tape_marked(&entry.tape);
        if r.outcome.is_failure() {
            panic!(
                "{}",
                self.failure_text(&entry.strategy, Some(entry.seed), &r, &marks, file, None)
            );
        }
    }

    /// Shrinks a failing schedule, writes the regression file, panics with the report.
    fn fail_with(
        &self,
        strategy: &str,
        seed: Option<u64>,
        tape: &Tape,
        original: &RunReport,
        runs: u64,
    ) -> ! {
        let s = &self.scenario;
        let (tape, certificate) = match shrink::shrink(s, tape, s.shrink_options()) {
            Ok(sh) => (sh.tape, Some(sh.certificate.describe())),
            // A bound hit, not a violation: the shrinker keeps it whole. Where the default
            // schedule hits the same bound, that is the shortest story of it.
            Err(_) => {
                let default = Tape::default();
                if s.run_tape(&default, false).outcome == original.outcome {
                    (default, None)
                } else {
                    (tape.clone(), None)
                }
            }
        };
        let whole = certificate.is_none();
        // Traced, with its non-default choices marked (the diagram singles out what the
        // violation needs by them).
        let (r, marks) = s.run_tape_marked(&tape);
        let (r, marks) = if r.outcome.is_failure() {
            (r, marks)
        } else {
            (original.clone(), s.run_tape_marked(&original.tape).1)
        };
        let file = self.regression_file();
        let entry = corpus::Entry::record(s, strategy, seed.unwrap_or(0), &tape);
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                let json = serde_json::to_string_pretty(&entry).expect("an entry serializes");
                crate::files::write_atomic(&file, json + "\n")
            });
        let mut text = self.failure_text(strategy, seed, &r, &marks, &file, Some((runs, whole)));
        if let Some(c) = certificate {
            text += &format!("\n  shrunk: {c}");
        }
        if let Err(e) = written {
            text += &format!("\n(could not write the regression file: {e})");
        }
        // The sequence diagram, outside the source tree.
        let html = std::env::temp_dir().join(format!(
            "fsim-{}.html",
            file.file_stem()
                .map_or("run".into(), |s| s.to_string_lossy())
        ));
        let diagram = crate::report::Diagram::of_marked(&s.name, &r, &marks).html();
        if crate::files::write_atomic(&html, diagram).is_ok() {
            text += &format!("\n  sequence diagram: {}", html.display());
        }
        panic!("{text}");
    }

    /// The failure's report. `found` is `None` when the recorded regression failed
    /// again; otherwise the runs it took, and whether the schedule was kept whole (not
    /// shrunk: a bound hit).
    fn failure_text(
        &self,
        strategy: &str,
        seed: Option<u64>,
        r: &RunReport,
        marks: &[crate::report::story::Mark],
        file: &Path,
        found: Option<(u64, bool)>,
    ) -> String {
        let s = &self.scenario;
        let mut t = match found {
            None => format!(
                "fsim: {} still fails its recorded regression {}\n",
                s.name,
                file.display()
            ),
            Some((runs, _)) => format!(
                "fsim: {} failed after {runs} run(s) ({strategy}{})\n",
                s.name,
                seed.map(|x| format!(", seed {x}")).unwrap_or_default()
            ),
        };
        t += &format!(
            "  {}\n",
            crate::report::with_labels(&explore::describe(&r.outcome), r)
        );
        t += &format!("  ({})\n", s.schedule_note(r));
        // The repro as a story (the replay below prints every step). A schedule kept
        // whole can be long: its head and its end, where the bound was hit.
        let mut story = crate::report::story::story(r, marks);
        if story.len() > STORY_LINES_MAX {
            let left_out = story.len() - STORY_LINES_MAX;
            story.drain(STORY_LINES_MAX / 3..STORY_LINES_MAX / 3 + left_out);
            story.insert(
                STORY_LINES_MAX / 3,
                format!("... {left_out} line(s) left out: the replay prints every step"),
            );
        }
        let mut story = story.into_iter();
        if let Some(head) = story.next() {
            let what = match found {
                None => "recorded schedule",
                Some((_, true)) => "schedule (not shrunk: the shrinker works on violations)",
                Some((_, false)) => "shrunk schedule",
            };
            t += &format!("  {what}: {head}\n");
        }
        for line in story {
            t += &format!("  {line}\n");
        }
        if matches!(r.outcome, crate::sim::Outcome::BoundHit(_)) {
            t += "  last events:\n";
            for e in &r.recent {
                t += &format!("    {}\n", crate::report::with_labels(&e.to_string(), r));
            }
        }
        let package = std::env::var("CARGO_PKG_NAME")
            .map(|p| format!(" -p {p}"))
            .unwrap_or_default();
        let filter = match &self.libtest {
            Some(n) => format!(" -- --exact {n}"),
            None => format!(" {}", s.name),
        };
        t += &format!(
            "  regression file: {}{}\n  replay: FSIM_REPLAY={} cargo test{package}{filter}\n",
            file.display(),
            if found.is_some() {
                " (written; check it in)"
            } else {
                ""
            },
            file.display()
        );
        t += &format!("  defined at {}", self.caller);
        t
    }
}
