//! The invariants REPORT_RACES.md names, over the world and the suite's
//! [`Observer`] log.
//!
//! They find the application's [`ServiceContext`] (and through it the observer log) in the
//! world, where the Foundation's build shares it (`World::get`), so a check written
//! outside this crate can read the same state.

use crate::config::{ConfigServer, Dependency};
use crate::events::EventStore;
use crate::telemetry::{MAX_METRICS, TelemetryService};
use crate::{Observer, Phase, ServiceContext, degradation, label};
use fsim::check::{Invariant, When};
use fsim::sim::{Pid, Versions, World};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Every invariant this module provides: name, when it is checked, what it states.
pub const CATALOGUE: [(&str, When, &str); 13] = [
    (
        "single_owner",
        When::Always,
        "a registered service name maps to a process started by the supervisor that owns its namespace, or to nothing",
    ),
    (
        "no_intensity_exhaustion",
        When::Always,
        "the Foundation supervisor never dies of restart intensity while the application runs",
    ),
    (
        "supervised_ancestry",
        When::Always,
        "a process registered under a service name descends from a supervisor and is linked to no test process",
    ),
    (
        "api_totality",
        When::Always,
        "no client or test process exits abnormally: API calls return values, never exits",
    ),
    (
        "test_isolation",
        When::Always,
        "every test starts from a fresh tree's state",
    ),
    (
        "monitors_match",
        When::Always,
        "the ConfigServer's subscriber table holds exactly the monitors the kernel says it holds",
    ),
    (
        "subscription_durability",
        When::Quiescence,
        "a subscriber that believes it is subscribed is subscribed to the live ConfigServer and has seen every update it committed",
    ),
    (
        "no_orphans",
        When::Always,
        "after each test and after the application stops, nothing it started is left running",
    ),
    ("bounded_tasks", When::Always, "at most one retry task runs"),
    (
        "pending_applied_once",
        When::Quiescence,
        "a deferred update is applied at most once per ConfigServer incarnation, and while one is unapplied something is scheduled to retry it",
    ),
    (
        "dependents_consistent",
        When::Quiescence,
        "the EventStore and TelemetryService are subscribed to the current ConfigServer",
    ),
    (
        "start_order",
        When::Always,
        "services are started by a Foundation supervisor, and dependents never start without the ConfigServer",
    ),
    (
        "bounded_resources",
        When::Always,
        "events, metrics and subscribers stay within their caps",
    ),
];

/// The catalogued invariant called `name`, watching the application whose
/// [`ServiceContext`] the world shares (and the test namespaces the observer records).
///
/// # Panics
/// If `name` is not in [`CATALOGUE`].
pub fn named(name: &str) -> Check {
    let (n, when, _) = CATALOGUE
        .iter()
        .find(|(n, ..)| *n == name)
        .unwrap_or_else(|| panic!("`{name}` is not a catalogued Foundation invariant"));
    Check {
        name: n,
        when: *when,
        run: body(n),
        app: OnceCell::new(),
        passed: Cell::new(0),
        read_procs: Cell::new(false),
        memo: RefCell::new(Memo::sized()),
    }
}

/// What a check runs, over the world, the application it watches, the roles of its
/// processes, and what the check remembers.
type Body = fn(&World, &ServiceContext, &Roles, &mut Memo) -> Result<(), String>;

/// The body of the catalogued invariant `name`.
fn body(name: &str) -> Body {
    match name {
        "single_owner" => |w, app, _, m| single_owner(w, app, m),
        "no_intensity_exhaustion" => |w, app, _, _| no_intensity_exhaustion(w, &app.observer),
        "supervised_ancestry" => supervised_ancestry,
        "api_totality" => |w, app, _, _| api_totality(w, &app.observer),
        "test_isolation" => |_, app, _, _| test_isolation(&app.observer),
        "monitors_match" => |w, _, r, m| monitors_match(w, r, m),
        "subscription_durability" => |w, app, r, m| subscription_durability(w, &app.observer, r, m),
        "no_orphans" => |w, app, _, _| no_orphans(w, &app.observer),
        "bounded_tasks" => |w, _, r, _| bounded_tasks(w, r),
        "pending_applied_once" => |w, app, r, m| pending_applied_once(w, &app.observer, r, m),
        "dependents_consistent" => |w, app, _, m| dependents_consistent(w, app, m),
        "start_order" => |w, _, r, m| start_order(w, r, m),
        "bounded_resources" => |w, _, r, m| bounded_resources(w, r, m),
        _ => unreachable!("only catalogued invariants have a body"),
    }
}

/// One of the [`CATALOGUE`]'s invariants.
pub struct Check {
    name: &'static str,
    when: When,
    run: Body,
    /// The application it watches, once it has run (the one the world shares for the
    /// whole run, `Sim::share`).
    app: OnceCell<Rc<ServiceContext>>,
    /// The [`Stamps`] epoch at which it last ran and passed (epochs start at 1: 0 is
    /// never).
    passed: Cell<u64>,
    /// It read some process's own state or links then (the memo says whose).
    read_procs: Cell<bool>,
    memo: RefCell<Memo>,
}

impl Invariant for Check {
    fn name(&self) -> &str {
        self.name
    }
    fn when(&self) -> When {
        self.when
    }
    fn check(&self, w: &World) -> Result<(), String> {
        // A check reads what it read when it last passed unless something it reads has
        // changed since: the log, the processes spawned and living, names, tables (the
        // epoch), or a process whose own state or links it read. Then it passes again and
        // need not run.
        let mut epoch = None;
        if let Some(app) = self.app.get() {
            let now = app.observer.stamps().epoch(w, &app.observer);
            epoch = Some(now);
            let unchanged = self.passed.get() == now
                && (!self.read_procs.get() || self.memo.borrow().reads_unchanged(w));
            if unchanged {
                if !VERIFY.get() {
                    return Ok(());
                }
                return self.run_in_full(w, now, true);
            }
        }
        let app = match self.app.get() {
            Some(app) => app,
            None => {
                let Some(app) = w.get::<ServiceContext>() else {
                    return Err("no Foundation in this world (no ServiceContext shared)".into());
                };
                self.app.get_or_init(|| Rc::new(app.clone()))
            }
        };
        let epoch = epoch.unwrap_or_else(|| app.observer.stamps().epoch(w, &app.observer));
        self.run_in_full(w, epoch, false)
    }
}

impl Check {
    /// Runs the check's body, and remembers whether it passed and what it read.
    fn run_in_full(&self, w: &World, epoch: u64, unchanged: bool) -> Result<(), String> {
        let app = self.app.get().expect("found before the first run");
        let m = &mut *self.memo.borrow_mut();
        m.read.clear();
        m.links_read.clear();
        let roles = app.observer.stamps().roles(w);
        let verify = VERIFY.get();
        if verify {
            w.audit_reads(true);
        }
        let r = (self.run)(w, app, &roles, m);
        if verify {
            // Every process whose own state the body read is one it noted: otherwise a
            // change to it alone would not make the check run again.
            let noted = |p: Pid, links_only: bool| {
                m.read.iter().any(|(q, _)| *q == p)
                    || (links_only && m.links_read.iter().any(|(q, _)| *q == p))
            };
            let unnoted: Vec<Pid> = w
                .audited_reads()
                .into_iter()
                .filter(|(p, links_only)| !noted(*p, *links_only))
                .map(|(p, _)| p)
                .collect();
            w.audit_reads(false);
            if !unnoted.is_empty() {
                VERIFIED.with_borrow_mut(|v| {
                    v.1.push(format!("{} read {unnoted:?} without noting it", self.name))
                });
            }
        }
        self.passed.set(if r.is_ok() { epoch } else { 0 });
        self.read_procs
            .set(!m.read.is_empty() || !m.links_read.is_empty());
        if unchanged {
            VERIFIED.with_borrow_mut(|v| {
                v.0 += 1;
                if let Err(e) = &r {
                    v.1.push(format!("{}: {e}", self.name));
                }
            });
        }
        r
    }
}

/// What the checks of one world share: one reading per step of the counters they all
/// depend on (the observer log's version and [`World::versions`]), numbered: the
/// epoch changes when the reading does.
#[derive(Default)]
pub(crate) struct Stamps {
    /// The step of the last reading, plus one (0: none yet).
    step: Cell<u64>,
    last: Cell<Option<(u64, Versions)>>,
    epoch: Cell<u64>,
    /// The roles of the world's processes, read once for all the checks.
    roles: RefCell<Roles>,
}

impl std::fmt::Debug for Stamps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stamps {{ epoch: {} }}", self.epoch.get())
    }
}

impl Stamps {
    /// The roles, brought up to date with the world.
    fn roles(&self, w: &World) -> std::cell::Ref<'_, Roles> {
        self.roles.borrow_mut().update(w);
        self.roles.borrow()
    }

    /// The epoch after the world's current step.
    fn epoch(&self, w: &World, log: &Observer) -> u64 {
        let step = u64::from(w.step()) + 1;
        if self.step.get() != step {
            self.step.set(step);
            let now = Some((log.version(), w.versions()));
            if self.last.get() != now {
                self.last.set(now);
                self.epoch.set(self.epoch.get() + 1);
            }
        }
        self.epoch.get()
    }
}

thread_local! {
    static VERIFY: Cell<bool> = const { Cell::new(false) };
    static VERIFIED: RefCell<(u64, Vec<String>)> = const { RefCell::new((0, Vec::new())) };
}

/// For the tests of the checks' shortcut: with `on`, a check on this thread runs even
/// after a step that changed nothing it reads ([`verified_skips`] says how it went).
#[doc(hidden)]
pub fn verify_skips(on: bool) {
    VERIFY.set(on);
}

/// Since the last call, on this thread, with [`verify_skips`] on: how many checks ran
/// that would have been skipped, and what is wrong: the failures among them (`name:
/// message`), which skipping would have missed, and any process whose own state a check
/// read without noting it.
#[doc(hidden)]
pub fn verified_skips() -> (u64, Vec<String>) {
    VERIFIED.take()
}

impl Memo {
    /// Room for a run of the Foundation's size, so that its lists are allocated once
    /// rather than grown process by process.
    fn sized() -> Memo {
        Memo {
            names: Vec::new(),
            read: Vec::with_capacity(8),
            links_read: Vec::with_capacity(8),
        }
    }

    /// Every process whose own state or links the check read when it last ran is as it
    /// was then.
    fn reads_unchanged(&self, w: &World) -> bool {
        self.read.iter().all(|(p, v)| w.version_of(*p) == *v)
            && self
                .links_read
                .iter()
                .all(|(p, v)| w.links_version(*p) == *v)
    }
}

/// Records that a check read `p`'s own state (its GenServer state, links or monitors):
/// while [`World::version_of`] gives the same, it reads the same.
fn read(read: &mut Vec<(Pid, u32)>, w: &World, p: Pid) {
    read.push((p, w.version_of(p)));
}

fn who(w: &World, p: Pid) -> String {
    match w.label(p) {
        Some(l) => format!("{p:?} ({l})"),
        None => format!("{p:?}"),
    }
}

/// A GenServer's committed state; `None` while a callback runs.
fn state<S: 'static, R>(w: &World, p: Pid, f: impl FnOnce(&S) -> R) -> Option<R> {
    w.with_state::<S, _>(p, f)
}

/// What a process is to the invariants, read off its label and its parent's label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Role {
    /// Its index in [`label::SERVICES`], for a service.
    service: Option<u8>,
    /// Started by a Foundation supervisor (of any namespace).
    by_sup: bool,
    /// A test process (`test:...`).
    test: bool,
    /// A report-era retry task.
    retry_task: bool,
    /// The fixed design's retry server.
    degradation: bool,
}

impl Role {
    fn of(w: &World, p: Pid) -> Role {
        let l = w.label(p).unwrap_or("");
        Role {
            service: label::SERVICES
                .iter()
                .position(|s| *s == l)
                .map(|i| i as u8),
            by_sup: w
                .parent(p)
                .is_some_and(|q| w.label(q).is_some_and(|l| l.ends_with(label::SUPERVISOR))),
            test: l.starts_with("test:"),
            retry_task: l == label::RETRY_TASK,
            degradation: l.ends_with(label::DEGRADATION),
        }
    }

    fn is(&self, service: u8) -> bool {
        self.service == Some(service)
    }
}

/// Indices in [`label::SERVICES`] (a test holds them to it).
const CONFIG: u8 = 0;
const EVENTS: u8 = 1;
const TELEMETRY: u8 = 2;

/// What one invariant remembers of its run between steps, so that a check after every
/// step compares no strings and allocates nothing while it passes.
struct Memo {
    /// The application's namespace first, then each test instance's, in start order.
    names: Vec<Names>,
    /// The processes whose own state it read then, with their versions
    /// ([`World::version_of`]).
    read: Vec<(Pid, u32)>,
    /// The processes whose links (only) it read then, with [`World::links_version`].
    links_read: Vec<(Pid, u32)>,
}

/// Each process's [`Role`], read once when it first appears (a label and a parent are
/// given at spawn, and the Foundation never relabels a process), and the processes of
/// each role the checks look for, living at the last look (pids are never reused, so a
/// dead one is dropped for good).
#[derive(Default)]
struct Roles {
    /// By pid, for every pid spawned so far.
    of: Vec<Role>,
    /// Services, in spawn order.
    services: Vec<Pid>,
    /// Retry tasks and retry servers, in spawn order.
    retries: Vec<Pid>,
    /// The processes spawned and those alive at the last look.
    seen: (usize, u32),
}

impl Roles {
    /// Reads the roles of the processes spawned since the last look, and forgets those
    /// that died.
    fn update(&mut self, w: &World) {
        // Nothing spawned and as many alive: nothing died either.
        let now = (w.pids().len(), w.live_count());
        if now == self.seen {
            return;
        }
        self.seen = now;
        for p in (self.of.len()..now.0).map(|i| Pid(i as u32)) {
            let role = Role::of(w, p);
            self.of.push(role);
            if role.service.is_some() {
                self.services.push(p);
            }
            if role.retry_task || role.degradation {
                self.retries.push(p);
            }
        }
        self.services.retain(|p| w.is_alive(*p));
        self.retries.retain(|p| w.is_alive(*p));
    }

    fn of(&self, p: Pid) -> Role {
        self.of[p.0 as usize]
    }

    /// The live services of `service`'s kind, in spawn order.
    fn live(&self, service: u8) -> impl Iterator<Item = Pid> + '_ {
        self.services
            .iter()
            .copied()
            .filter(move |p| self.of(*p).is(service))
    }

    /// The live report-era retry tasks, in spawn order.
    fn retry_tasks(&self) -> impl Iterator<Item = Pid> + '_ {
        self.retries
            .iter()
            .copied()
            .filter(|p| self.of(*p).retry_task)
    }
}

/// Calls `f` with each namespace to check (the application's, and with per-namespace
/// names each test instance's still up), its supervisor's pid and where its services
/// are registered, stopping at the first error.
fn namespaces(
    names: &mut Vec<Names>,
    w: &World,
    app: &ServiceContext,
    mut f: impl FnMut(&Names, Option<Pid>, Registry<'_>) -> Result<(), String>,
) -> Result<(), String> {
    if names.is_empty() {
        names.push(Names::of(app.namespace(), app));
    }
    if app.has(crate::Flaw::GlobalNames) {
        return f(&names[0], w.whereis(&names[0].supervisor), Registry::Global);
    }
    let log = app.observer.log();
    while names.len() < log.namespaces.len() + 1 {
        let ns = &log.namespaces[names.len() - 1];
        names.push(Names::of(ns, app));
    }
    drop(log);
    for (i, n) in names.iter_mut().enumerate() {
        let owner = w.whereis(&n.supervisor);
        let table = n.table(w);
        if i == 0 || owner.is_some() || table.is_some() {
            f(n, owner, Registry::Table(table))?;
        }
    }
    Ok(())
}

/// Where a namespace's services are registered.
#[derive(Clone, Copy)]
enum Registry<'w> {
    /// Under global names (F1).
    Global,
    /// In the namespace's Registry, when it is up.
    Table(Option<&'w BTreeMap<String, Pid>>),
}

impl Registry<'_> {
    /// The live holder of the service, as `whereis_name` sees it.
    fn holder(&self, w: &World, svc: &str) -> Option<Pid> {
        match self {
            Registry::Global => w.whereis(svc),
            Registry::Table(t) => crate::live_holder(w, (*t)?, svc),
        }
    }
}

/// The registered names of one namespace's supervisor and Registry.
struct Names {
    ns: String,
    supervisor: String,
    registry: Option<String>,
    /// The Registry's table when last found: a table of that name is made only after the
    /// last one is gone, so while it exists it is still the named one.
    table: Option<u64>,
}

impl Names {
    fn of(ns: &str, app: &ServiceContext) -> Self {
        Names {
            ns: ns.to_string(),
            supervisor: crate::supervisor_name(ns),
            registry: app.registry().map(|_| crate::registry_name(ns)),
            table: None,
        }
    }

    fn table<'w>(&mut self, w: &'w World) -> Option<&'w BTreeMap<String, Pid>> {
        let r = self.registry.as_deref()?;
        let id = match self.table.filter(|id| w.table_exists(*id)) {
            Some(id) => id,
            None => {
                self.table = w.table_named(r);
                self.table?
            }
        };
        w.table_read::<String, Pid>(id)
    }
}

fn single_owner(w: &World, app: &ServiceContext, m: &mut Memo) -> Result<(), String> {
    namespaces(&mut m.names, w, app, |n, owner, registry| {
        for svc in label::SERVICES {
            let Some(p) = registry.holder(w, svc) else {
                continue;
            };
            let parent = w.parent(p);
            if parent != owner || owner.is_none() {
                return Err(format!(
                    "{svc} of namespace `{}` is {}, started by {}, not by the namespace's supervisor ({})",
                    n.ns,
                    who(w, p),
                    parent.map_or("nobody".into(), |q| who(w, q)),
                    owner.map_or("none running".into(), |q| who(w, q)),
                ));
            }
        }
        Ok(())
    })
}

fn no_intensity_exhaustion(w: &World, o: &Observer) -> Result<(), String> {
    let log = o.log();
    if log.phase != Phase::Running {
        return Ok(());
    }
    let Some(sup) = log.app_supervisor else {
        return Ok(());
    };
    match w.exit_reason(sup) {
        Some(r) if !w.is_alive(sup) => Err(format!(
            "the Foundation supervisor {} exited ({r:?}) while the application was running: \
             its restart intensity (3 restarts in 5 s) was exhausted",
            who(w, sup)
        )),
        _ => Ok(()),
    }
}

fn supervised_ancestry(
    w: &World,
    app: &ServiceContext,
    roles: &Roles,
    m: &mut Memo,
) -> Result<(), String> {
    let Memo {
        names, links_read, ..
    } = m;
    namespaces(names, w, app, |_, _, registry| {
        for svc in label::SERVICES {
            let Some(p) = registry.holder(w, svc) else {
                continue;
            };
            links_read.push((p, w.links_version(p)));
            if !roles.of(p).by_sup {
                return Err(format!(
                    "{svc} {} has no supervisor: it was started by {}",
                    who(w, p),
                    w.parent(p).map_or("nobody".into(), |q| who(w, q))
                ));
            }
            if let Some(t) = w.links(p).iter().find(|q| roles.of(**q).test) {
                return Err(format!(
                    "{svc} {} is linked to test process {}",
                    who(w, p),
                    who(w, *t)
                ));
            }
        }
        Ok(())
    })
}

fn api_totality(w: &World, o: &Observer) -> Result<(), String> {
    let log = o.log();
    if let Some(t) = log.tests.iter().find(|t| t.failure.is_some()) {
        return Err(format!(
            "test {} {:?} failed with {:?}: an API call exited the caller instead of returning an error",
            t.name,
            t.pid,
            t.failure.as_ref().expect("found a failure")
        ));
    }
    for (p, name) in log.workers.iter() {
        if w.is_alive(*p) {
            continue;
        }
        match w.exit_reason(*p) {
            Some(r) if !r.is_normal_termination() => {
                return Err(format!(
                    "{name} {p:?} exited with {r:?}: an API call exited the caller instead of returning an error"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn test_isolation(o: &Observer) -> Result<(), String> {
    match o.log().freshness.iter().find(|(_, m)| !m.is_empty()) {
        Some((test, m)) => Err(format!(
            "test {test} did not start from a fresh tree: {}",
            m.join("; ")
        )),
        None => Ok(()),
    }
}

fn monitors_match(w: &World, roles: &Roles, m: &mut Memo) -> Result<(), String> {
    for c in roles.live(CONFIG) {
        read(&mut m.read, w, c);
        let held = w.monitors(c);
        // A monitor the kernel holds that the table does not know: leaked. An entry the
        // kernel does not hold is fine only while its DOWN is on the way (the subscriber
        // died); otherwise the server would never hear of its death.
        let found = state::<ConfigServer, _>(w, c, |s| {
            let table = &s.subscribers;
            let leaked = held
                .iter()
                .find(|(r, p)| !table.contains(&(*p, *r)))
                .map(|(r, p)| (*r, *p, table.len()));
            let unheld = table
                .iter()
                .find(|(p, r)| w.is_alive(*p) && !held.contains(&(*r, *p)))
                .copied();
            (leaked, unheld)
        });
        let Some((leaked, unheld)) = found else {
            continue;
        };
        if let Some((r, p, entries)) = leaked {
            return Err(format!(
                "ConfigServer {} holds monitor {r:?} on {} that its subscriber table ({entries} entries) does not list",
                who(w, c),
                who(w, p),
            ));
        }
        if let Some((p, r)) = unheld {
            return Err(format!(
                "ConfigServer {} lists subscriber {} under {r:?} but holds no such monitor",
                who(w, c),
                who(w, p)
            ));
        }
    }
    Ok(())
}

fn subscription_durability(
    w: &World,
    o: &Observer,
    roles: &Roles,
    m: &mut Memo,
) -> Result<(), String> {
    let log = o.log();
    if log.phase != Phase::Running {
        return Ok(());
    }
    for (sub, v) in log.subscribers.iter() {
        let (Some(server), false, true) = (v.server, v.resubscribing, w.is_alive(*sub)) else {
            continue;
        };
        if !w.is_alive(server) {
            let now: Vec<String> = roles.live(CONFIG).map(|p| who(w, p)).collect();
            return Err(format!(
                "subscriber {} still counts itself subscribed to ConfigServer {}, which died; \
                 the ConfigServer now is [{}] and will never notify it",
                who(w, *sub),
                who(w, server),
                now.join(", ")
            ));
        }
        read(&mut m.read, w, server);
        if let Some(config) = state::<ConfigServer, _>(w, server, |s| s.config.clone())
            && config != v.view
        {
            return Err(format!(
                "subscriber {} sees {:?} but ConfigServer {} holds {:?}: it missed an update",
                who(w, *sub),
                v.view,
                who(w, server),
                config
            ));
        }
    }
    Ok(())
}

fn no_orphans(w: &World, o: &Observer) -> Result<(), String> {
    let log = o.log();
    if let Some(t) = log.tests.iter().find(|t| !t.orphans.is_empty()) {
        let names: Vec<String> = t.orphans.iter().map(|p| who(w, *p)).collect();
        return Err(format!(
            "after test {} and its on_exit, these processes it started still run: {}",
            t.name,
            names.join(", ")
        ));
    }
    if !log.orphans_at_stop.is_empty() {
        let names: Vec<String> = log.orphans_at_stop.iter().map(|p| who(w, *p)).collect();
        return Err(format!(
            "after the application stopped, these processes still run outside any supervisor: {}",
            names.join(", ")
        ));
    }
    Ok(())
}

fn bounded_tasks(w: &World, roles: &Roles) -> Result<(), String> {
    if roles.retry_tasks().nth(1).is_some() {
        let tasks: Vec<String> = roles.retry_tasks().map(|p| who(w, p)).collect();
        return Err(format!(
            "{} retry loops run at once: {}",
            tasks.len(),
            tasks.join(", ")
        ));
    }
    Ok(())
}

fn pending_applied_once(
    w: &World,
    o: &Observer,
    roles: &Roles,
    m: &mut Memo,
) -> Result<(), String> {
    let log = o.log();
    if let Some(((id, server), n)) = log.pending_applied.iter().find(|(_, n)| **n > 1) {
        let (path, value) = &log.pending[id];
        return Err(format!(
            "deferred update #{id} ({path} = {value}) was applied {n} times by ConfigServer {server:?}"
        ));
    }
    // Eventually (under fairness): at quiescence only timers can move, so an update not
    // yet applied must have a retry scheduled — a live retry loop, or the retry server
    // with its timer armed — or it never will be.
    if log.phase != Phase::Running {
        return Ok(());
    }
    let scheduled = roles.retry_tasks().next().is_some()
        || roles.retries.iter().any(|p| {
            // armed, or inside a callback (retrying right now)
            roles.of(*p).degradation && {
                read(&mut m.read, w, *p);
                state::<degradation::Degradation, _>(w, *p, |d| d.armed) != Some(false)
            }
        });
    for (id, (path, value)) in log.pending.iter() {
        if !log.pending_applied.keys().any(|(i, _)| i == id) && !scheduled {
            return Err(format!(
                "deferred update #{id} ({path} = {value}) is not applied and nothing is left to retry it"
            ));
        }
    }
    Ok(())
}

fn dependents_consistent(w: &World, app: &ServiceContext, m: &mut Memo) -> Result<(), String> {
    if app.observer.log().phase != Phase::Running {
        return Ok(());
    }
    // The application's namespace: the first one visited (checked at quiescence only,
    // so visiting the others too costs little).
    let mut first = None;
    namespaces(&mut m.names, w, app, |_, _, registry| {
        first.get_or_insert_with(|| {
            [label::CONFIG, label::EVENTS, label::TELEMETRY].map(|svc| registry.holder(w, svc))
        });
        Ok(())
    })?;
    let Some([Some(current), events, telemetry]) = first else {
        return Ok(());
    };
    // Checked after every step: nothing is formatted or allocated unless it fails.
    for p in [events, telemetry].into_iter().flatten() {
        read(&mut m.read, w, p);
        let Some(dep) = with_dependency(w, p, |d| (!d.waiting).then_some(d.server)).flatten()
        else {
            continue;
        };
        if dep != Some(current) {
            return Err(format!(
                "{} holds configuration from ConfigServer {}, but the current one is {}",
                who(w, p),
                dep.map_or("none (defaults)".into(), |p| who(w, p)),
                who(w, current)
            ));
        }
    }
    Ok(())
}

/// Reads the dependency a dependent (EventStore or TelemetryService) holds, between
/// callbacks; `None` for any other process, one inside a callback, or one not yet set up.
fn with_dependency<R>(w: &World, p: Pid, f: impl Fn(&Dependency) -> R) -> Option<R> {
    state::<EventStore, _>(w, p, |s| s.dependency.as_ref().map(&f))
        .or_else(|| state::<TelemetryService, _>(w, p, |s| s.dependency.as_ref().map(&f)))
        .flatten()
}

fn start_order(w: &World, roles: &Roles, m: &mut Memo) -> Result<(), String> {
    // Checked after every step: one pass over the living reads each role once. The
    // failure reported is the first the rule lists: a service started by someone other
    // than a Foundation supervisor, then a dependent on default configuration; within
    // each, services in `SERVICES` order, then the earliest process.
    let earlier = |slot: &Option<(u8, Pid)>, i: u8| slot.is_none_or(|(j, _)| i < j);
    let (mut outsider, mut on_defaults) = (None, None);
    for &p in &roles.services {
        let role = roles.of(p);
        let Some(i) = role.service else {
            continue;
        };
        if !role.by_sup {
            if earlier(&outsider, i) {
                outsider = Some((i, p));
            }
        } else if i == EVENTS || i == TELEMETRY {
            read(&mut m.read, w, p);
            if earlier(&on_defaults, i)
                && with_dependency(w, p, |d| d.server.is_none() && !d.waiting) == Some(true)
            {
                on_defaults = Some((i, p));
            }
        }
    }
    if let Some((i, p)) = outsider {
        return Err(format!(
            "{} {} was started by {}, not by a Foundation supervisor",
            label::SERVICES[i as usize],
            who(w, p),
            w.parent(p).map_or("nobody".into(), |q| who(w, q))
        ));
    }
    if let Some((i, p)) = on_defaults {
        return Err(format!(
            "{} {} started before any ConfigServer and runs on default configuration",
            label::SERVICES[i as usize],
            who(w, p)
        ));
    }
    Ok(())
}

fn bounded_resources(w: &World, roles: &Roles, m: &mut Memo) -> Result<(), String> {
    for e in roles.live(EVENTS) {
        read(&mut m.read, w, e);
        if let Some((n, cap)) = state::<EventStore, _>(w, e, |s| (s.events.len(), s.max_events))
            && n > cap
        {
            return Err(format!(
                "event_store {} holds {n} events; its cap is {cap}",
                who(w, e)
            ));
        }
    }
    for t in roles.live(TELEMETRY) {
        read(&mut m.read, w, t);
        if let Some(n) = state::<TelemetryService, _>(w, t, |s| s.metrics.len())
            && n > MAX_METRICS
        {
            return Err(format!(
                "telemetry_service {} holds {n} metrics; its cap is {MAX_METRICS}",
                who(w, t)
            ));
        }
    }
    let live = w.live_count() as usize;
    for c in roles.live(CONFIG) {
        read(&mut m.read, w, c);
        if let Some(n) = state::<ConfigServer, _>(w, c, |s| s.subscribers.len())
            && n > live
        {
            return Err(format!(
                "ConfigServer {} lists {n} subscribers; only {live} processes live",
                who(w, c)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_indices_name_their_labels() {
        for (i, l) in [
            (CONFIG, label::CONFIG),
            (EVENTS, label::EVENTS),
            (TELEMETRY, label::TELEMETRY),
        ] {
            assert_eq!(label::SERVICES[i as usize], l);
        }
    }
}
