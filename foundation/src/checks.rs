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
use fsim::sim::{Pid, World};
use std::cell::RefCell;

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
        names: RefCell::new(Vec::new()),
    }
}

/// One of the [`CATALOGUE`]'s invariants.
pub struct Check {
    name: &'static str,
    when: When,
    names: RefCell<Vec<Names>>,
}

impl Invariant for Check {
    fn name(&self) -> &str {
        self.name
    }
    fn when(&self) -> When {
        self.when
    }
    fn check(&self, w: &World) -> Result<(), String> {
        let Some(app) = w.get::<ServiceContext>() else {
            return Err("no Foundation in this world (no ServiceContext shared)".into());
        };
        let o = &app.observer;
        match self.name {
            "single_owner" => single_owner(w, app, &self.names),
            "no_intensity_exhaustion" => no_intensity_exhaustion(w, o),
            "supervised_ancestry" => supervised_ancestry(w, app, &self.names),
            "api_totality" => api_totality(w, o),
            "test_isolation" => test_isolation(o),
            "monitors_match" => monitors_match(w),
            "subscription_durability" => subscription_durability(w, o),
            "no_orphans" => no_orphans(w, o),
            "bounded_tasks" => bounded_tasks(w),
            "pending_applied_once" => pending_applied_once(w, o),
            "dependents_consistent" => dependents_consistent(w, app),
            "start_order" => start_order(w),
            "bounded_resources" => bounded_resources(w),
            _ => unreachable!("named only builds catalogued invariants"),
        }
    }
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

fn live_labelled<'w>(w: &'w World, l: &'w str) -> impl Iterator<Item = Pid> + 'w {
    w.live_pids().filter(move |p| w.label(*p) == Some(l))
}

/// The registered names of one namespace's supervisor and Registry.
struct Names {
    ns: String,
    supervisor: String,
    registry: Option<String>,
}

impl Names {
    fn of(ns: &str, app: &ServiceContext) -> Self {
        Names {
            ns: ns.to_string(),
            supervisor: crate::supervisor_name(ns),
            registry: app.registry().map(|_| crate::registry_name(ns)),
        }
    }
}

/// The namespaces to check, each as `(namespace, its supervisor's pid, its Registry)`:
/// the application's, and (with per-namespace names) each test instance's still up.
/// Names are built once per namespace, not once per step.
fn namespaces(
    w: &World,
    app: &ServiceContext,
    cache: &RefCell<Vec<Names>>,
) -> Vec<(String, Option<Pid>, Option<String>)> {
    {
        let mut c = cache.borrow_mut();
        if c.is_empty() {
            c.push(Names::of(&app.namespace, app));
        }
        if app.registry().is_some() {
            let log = app.observer.log();
            while c.len() < log.namespaces.len() + 1 {
                let ns = log.namespaces[c.len() - 1].clone();
                c.push(Names::of(&ns, app));
            }
        }
    }
    cache
        .borrow()
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let owner = w.whereis(&n.supervisor);
            let registry_up = n
                .registry
                .as_deref()
                .is_some_and(|r| w.table_named(r).is_some());
            (i == 0 || owner.is_some() || registry_up)
                .then(|| (n.ns.clone(), owner, n.registry.clone()))
        })
        .collect()
}

fn holder(w: &World, registry: &Option<String>, svc: &str) -> Option<Pid> {
    match registry {
        None => w.whereis(svc),
        Some(r) => crate::holder_in(w, r, svc),
    }
}

fn single_owner(
    w: &World,
    app: &ServiceContext,
    cache: &RefCell<Vec<Names>>,
) -> Result<(), String> {
    for (ns, owner, registry) in namespaces(w, app, cache) {
        for svc in label::SERVICES {
            let Some(p) = holder(w, &registry, svc) else {
                continue;
            };
            let parent = w.parent(p);
            if parent != owner || owner.is_none() {
                return Err(format!(
                    "{svc} of namespace `{}` is {}, started by {}, not by the namespace's supervisor ({})",
                    ns,
                    who(w, p),
                    parent.map_or("nobody".into(), |q| who(w, q)),
                    owner.map_or("none running".into(), |q| who(w, q)),
                ));
            }
        }
    }
    Ok(())
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
    cache: &RefCell<Vec<Names>>,
) -> Result<(), String> {
    for (_, _, registry) in namespaces(w, app, cache) {
        for svc in label::SERVICES {
            let Some(p) = holder(w, &registry, svc) else {
                continue;
            };
            let supervised = w
                .parent(p)
                .is_some_and(|q| w.label(q).is_some_and(|l| l.ends_with("foundation_sup")));
            if !supervised {
                return Err(format!(
                    "{svc} {} has no supervisor: it was started by {}",
                    who(w, p),
                    w.parent(p).map_or("nobody".into(), |q| who(w, q))
                ));
            }
            if let Some(t) = w.links(p).iter().find(|q| is_test(w, **q)) {
                return Err(format!(
                    "{svc} {} is linked to test process {}",
                    who(w, p),
                    who(w, *t)
                ));
            }
        }
    }
    Ok(())
}

fn is_test(w: &World, p: Pid) -> bool {
    w.label(p).is_some_and(|l| l.starts_with("test:"))
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

fn monitors_match(w: &World) -> Result<(), String> {
    for c in live_labelled(w, label::CONFIG) {
        let Some(table) = state::<ConfigServer, _>(w, c, |s| s.subscribers.clone()) else {
            continue;
        };
        let held = w.monitors(c);
        // A monitor the kernel holds that the table does not know: leaked.
        if let Some((r, p)) = held.iter().find(|(r, p)| !table.contains(&(*p, *r))) {
            return Err(format!(
                "ConfigServer {} holds monitor {r:?} on {} that its subscriber table ({} entries) does not list",
                who(w, c),
                who(w, *p),
                table.len()
            ));
        }
        // An entry the kernel does not hold is fine only while its DOWN is on the way
        // (the subscriber died); otherwise the server would never hear of its death.
        if let Some((p, r)) = table
            .iter()
            .find(|(p, r)| w.is_alive(*p) && !held.contains(&(*r, *p)))
        {
            return Err(format!(
                "ConfigServer {} lists subscriber {} under {r:?} but holds no such monitor",
                who(w, c),
                who(w, *p)
            ));
        }
    }
    Ok(())
}

fn subscription_durability(w: &World, o: &Observer) -> Result<(), String> {
    let log = o.log();
    if log.phase != Phase::Running {
        return Ok(());
    }
    for (sub, v) in log.subscribers.iter() {
        let (Some(server), false, true) = (v.server, v.resubscribing, w.is_alive(*sub)) else {
            continue;
        };
        if !w.is_alive(server) {
            let now: Vec<String> = live_labelled(w, label::CONFIG).map(|p| who(w, p)).collect();
            return Err(format!(
                "subscriber {} still counts itself subscribed to ConfigServer {}, which died; \
                 the ConfigServer now is [{}] and will never notify it",
                who(w, *sub),
                who(w, server),
                now.join(", ")
            ));
        }
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

fn bounded_tasks(w: &World) -> Result<(), String> {
    let tasks = degradation::retry_tasks(w);
    if tasks.len() > 1 {
        let names: Vec<String> = tasks.iter().map(|p| who(w, *p)).collect();
        return Err(format!(
            "{} retry loops run at once: {}",
            tasks.len(),
            names.join(", ")
        ));
    }
    Ok(())
}

fn pending_applied_once(w: &World, o: &Observer) -> Result<(), String> {
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
    let scheduled = !degradation::retry_tasks(w).is_empty()
        || w.live_pids().any(|p| {
            w.label(p).is_some_and(|l| l.ends_with(label::DEGRADATION))
                // armed, or inside a callback (retrying right now)
                && state::<degradation::Degradation, _>(w, p, |d| d.armed) != Some(false)
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

fn dependents_consistent(w: &World, app: &ServiceContext) -> Result<(), String> {
    if app.observer.log().phase != Phase::Running {
        return Ok(());
    }
    let Some(current) = app.holder(w, label::CONFIG) else {
        return Ok(());
    };
    // Checked after every step: nothing is formatted or allocated unless it fails.
    for svc in [label::EVENTS, label::TELEMETRY] {
        let Some(p) = app.holder(w, svc) else {
            continue;
        };
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

fn start_order(w: &World) -> Result<(), String> {
    // Checked after every step: one pass over the living reads each label once. The
    // failure reported is the first the rule lists: a service started by someone other
    // than a Foundation supervisor, then a dependent on default configuration; within
    // each, services in `SERVICES` order, then the earliest process.
    let earlier = |slot: &Option<(usize, Pid)>, i: usize| slot.is_none_or(|(j, _)| i < j);
    let (mut outsider, mut on_defaults) = (None, None);
    for p in w.live_pids() {
        let Some(i) = w
            .label(p)
            .and_then(|l| label::SERVICES.iter().position(|s| *s == l))
        else {
            continue;
        };
        let by_sup = w
            .parent(p)
            .is_some_and(|q| w.label(q).is_some_and(|l| l.ends_with("foundation_sup")));
        if !by_sup {
            if earlier(&outsider, i) {
                outsider = Some((i, p));
            }
        } else if matches!(label::SERVICES[i], label::EVENTS | label::TELEMETRY)
            && earlier(&on_defaults, i)
            && with_dependency(w, p, |d| d.server.is_none() && !d.waiting) == Some(true)
        {
            on_defaults = Some((i, p));
        }
    }
    if let Some((i, p)) = outsider {
        return Err(format!(
            "{} {} was started by {}, not by a Foundation supervisor",
            label::SERVICES[i],
            who(w, p),
            w.parent(p).map_or("nobody".into(), |q| who(w, q))
        ));
    }
    if let Some((i, p)) = on_defaults {
        return Err(format!(
            "{} {} started before any ConfigServer and runs on default configuration",
            label::SERVICES[i],
            who(w, p)
        ));
    }
    Ok(())
}

fn bounded_resources(w: &World) -> Result<(), String> {
    for e in live_labelled(w, label::EVENTS) {
        if let Some((n, cap)) = state::<EventStore, _>(w, e, |s| (s.events.len(), s.max_events))
            && n > cap
        {
            return Err(format!(
                "event_store {} holds {n} events; its cap is {cap}",
                who(w, e)
            ));
        }
    }
    for t in live_labelled(w, label::TELEMETRY) {
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
    for c in live_labelled(w, label::CONFIG) {
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
