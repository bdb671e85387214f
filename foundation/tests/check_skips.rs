//! The checks' shortcut: a check run after every step is skipped after a step that
//! changed nothing it reads (`World::versions`, `World::version_of`, the observer log's
//! version). Skipping must never change a run: over every scenario in `sim-scenarios/`,
//! flawed and fixed, each run ends the same with the shortcut as with every check run
//! after every step, every check that would have been skipped, run anyway, passes, and
//! every process whose own state a check reads (`World::audit_reads` notes them) is one
//! it noted. And the counters keep their promise: while one is unchanged, what it
//! counts is too.

mod common;
use common::{compare_on_every_seed, scenarios_with_seeds};
use fsim::check::{Invariant, When};
use fsim::sim::{Pid, Versions, World, run_seed};
use fsim_foundation::config::ConfigServer;
use fsim_foundation::degradation::Degradation;
use fsim_foundation::events::EventStore;
use fsim_foundation::telemetry::TelemetryService;
use fsim_foundation::{Foundation, checks};
use std::cell::RefCell;
use std::fmt::Debug;

#[test]
fn skipping_a_check_never_changes_a_run() {
    let mut verified = 0;
    // The comparison covers runs that fail (checked by the helper) and checks that were
    // skipped.
    compare_on_every_seed(60, 15, |s, seed| {
        checks::verify_skips(false);
        let skipping = s.run_seed(seed);
        checks::verify_skips(true);
        let _ = checks::verified_skips();
        let every = s.run_seed(seed);
        let (n, missed) = checks::verified_skips();
        checks::verify_skips(false);
        assert!(
            missed.is_empty(),
            "{} seed {seed}: the shortcut is unsound: {missed:?}",
            s.name
        );
        assert_eq!(
            (&skipping.outcome, skipping.steps, &skipping.tape),
            (&every.outcome, every.steps, &every.tape),
            "{} seed {seed}: the run differs when every check runs",
            s.name
        );
        verified += n;
        skipping
    });
    assert!(
        verified > 100_000,
        "only {verified} skipped checks verified"
    );
}

/// What the world shows of its shared parts (names and tables) and of each process
/// (life, ties, published state), written out.
struct Seen {
    versions: Versions,
    shared: String,
    procs: Vec<(u32, String)>,
    links: Vec<(u32, String)>,
}

/// A service's published state, without its `ctx` (the shared log, which is the
/// observer's to count).
fn state_of<S: Debug + 'static>(w: &World, p: Pid) -> Option<String> {
    let text = w.with_state::<S, _>(p, |s| format!("{s:?}"))?;
    let Some(at) = text.find("ctx: ") else {
        return Some(text);
    };
    let mut depth = 0;
    let end = text[at..]
        .char_indices()
        .find(|(_, c)| match c {
            '{' | '(' | '[' => {
                depth += 1;
                false
            }
            '}' | ')' | ']' => {
                depth -= 1;
                depth == 0
            }
            _ => false,
        })
        .map_or(text.len(), |(i, _)| at + i + 1);
    Some(format!("{}{}", &text[..at], &text[end..]))
}

fn seen(w: &World) -> Seen {
    // Table ids are refs: every id handed out so far is below the pids' and refs' count.
    let tables: Vec<String> = (0..10_000u64)
        .filter_map(|id| {
            let owner = w.table_owner(id)?;
            let rows = w
                .table_read::<String, Pid>(id)
                .map(|m| format!("{m:?}"))
                .unwrap_or_else(|| "(rows of another type)".into());
            Some(format!("{id} owned by {owner:?}: {rows}"))
        })
        .collect();
    let names: Vec<(&str, Pid)> = w.registered().collect();
    let procs = w
        .pids()
        .map(|p| {
            let state = state_of::<ConfigServer>(w, p)
                .or_else(|| state_of::<EventStore>(w, p))
                .or_else(|| state_of::<TelemetryService>(w, p))
                .or_else(|| state_of::<Degradation>(w, p));
            (
                w.version_of(p),
                format!(
                    "alive {} exit {:?} links {:?} monitors {:?} monitored by {:?} state {state:?}",
                    w.is_alive(p),
                    w.exit_reason(p),
                    w.links(p),
                    w.monitors(p),
                    w.monitored_by(p)
                ),
            )
        })
        .collect();
    let links = w
        .pids()
        .map(|p| (w.links_version(p), format!("links {:?}", w.links(p))))
        .collect();
    Seen {
        versions: w.versions(),
        shared: format!("names {names:?} tables {tables:?}"),
        procs,
        links,
    }
}

/// After every step, compares what the world shows with what it showed after the
/// last step: what changed must have changed its counter.
#[derive(Default)]
struct Counted {
    last: RefCell<Option<Seen>>,
    broken: std::rc::Rc<RefCell<Vec<String>>>,
}

impl Invariant for Counted {
    fn name(&self) -> &str {
        "counted"
    }
    fn when(&self) -> When {
        When::Always
    }
    fn check(&self, w: &World) -> Result<(), String> {
        let now = seen(w);
        if let Some(last) = self.last.borrow().as_ref() {
            let mut broken = self.broken.borrow_mut();
            let (v, l) = (now.versions, last.versions);
            if (v.names, v.tables, v.spawned, v.live) == (l.names, l.tables, l.spawned, l.live)
                && now.shared != last.shared
            {
                broken.push(format!(
                    "{v:?} unchanged, yet\n  {}\nbecame\n  {}",
                    last.shared, now.shared
                ));
            }
            // Each process's version, then its links' version.
            for (before, after) in [(&last.procs, &now.procs), (&last.links, &now.links)] {
                for (i, (a, b)) in before.iter().zip(after).enumerate() {
                    if a.0 == b.0 && a.1 != b.1 {
                        broken.push(format!(
                            "<0.{i}.0> at version {} unchanged, yet\n  {}\nbecame\n  {}",
                            a.0, a.1, b.1
                        ));
                    }
                }
            }
        }
        *self.last.borrow_mut() = Some(now);
        Ok(())
    }
}

#[test]
fn what_a_version_counts_changes_only_with_it() {
    let mut steps = 0;
    for (s, seeds) in scenarios_with_seeds(20, 4) {
        let foundation = s
            .system_as::<Foundation>()
            .expect("a Foundation scenario")
            .clone();
        for seed in seeds {
            let counted = Counted::default();
            let broken = counted.broken.clone();
            let report = run_seed(&s.config(), seed, |sim| {
                fsim::system::System::build(&foundation, sim);
                sim.invariant(counted);
            });
            let broken = broken.borrow();
            assert!(
                broken.is_empty(),
                "{} seed {seed}: {} breaks, the first: {}",
                s.name,
                broken.len(),
                broken[0]
            );
            steps += report.steps;
        }
    }
    assert!(steps > 50_000, "only {steps} steps compared");
}
