//! Planted bugs for `fsim bench --shrink`: tiny actor systems, each hiding one race or
//! one fault bug, each with the best repro derived by hand.
//!
//! A bug here passes on the default schedule with no fault: it needs a schedule other
//! than the default (a preemption, a delivery out of the default order, a time jump
//! while something could still run) or an injected fault. Its [`Optimum`] is the least
//! faults, then the least deviations, then the least steps over every failing run, as
//! the kernel counts them ([`crate::sim::RunReport`]); the shrinker is measured against
//! it. `tests/planted_bugs.rs` recomputes every optimum by exhaustive search.
//!
//! The derivations count steps as the kernel does: a process's first step runs it to its
//! first effect or receive; then each effect it performs (a send, a spawn, a monitor, a
//! name or table operation, an alive check) and each receive it resumes from (a sleep
//! included, and a receive whose message was already there) starts one more. A timer
//! that fires, a fault injected and, between nodes, a signal delivered are a step each.
//! A deviation is a decision taken otherwise than by default: another process run, a
//! signal delivered out of the (receiver, sender) order, or a time jump while something
//! could run; faults are counted apart.
//!
//! The invariants are checked at the end of a run ([`When::End`]) and nothing is shared
//! with them through [`crate::sim::Sim::share`], so these worlds also get partial-order
//! reduction: what an invariant reads is a table, or the state a live process published
//! ([`Cx::publish_state`]), which only that process writes.
//!
//! The file is also compiled into `tests/planted_bugs.rs` (by `#[path]`), so it names
//! fsim only as `crate::sim`, `crate::check` and `crate::scenario`.

use crate::check::{When, invariant};
use crate::scenario::Scenario;
use crate::sim::{
    Cx, Delivery, ExitReason, FaultMenu, Matcher, Payload, Pid, Sim, SpawnOpts, Table, Targets,
    World,
};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;

/// The best repro of a planted bug, derived by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Optimum {
    /// Faults injected.
    pub faults: u32,
    /// Deviations from the default schedule (faults not counted).
    pub deviations: u32,
    /// Steps of the run.
    pub steps: u32,
}

/// One planted bug.
pub struct Bug {
    /// Its name (snake_case, unique).
    pub name: &'static str,
    /// What kind of bug it is: `lost_update`, `lease_expiry`, `crash_between_steps`,
    /// `stale_name`, `restart_loses_state`, `cross_sender_order`,
    /// `timer_next_incarnation`, `check_then_act` or `monitor_window`.
    pub kind: &'static str,
    /// The invariant its failure violates.
    pub invariant: &'static str,
    /// The scenario: the world, its fault menu and delivery model, and the expected
    /// violation.
    pub scenario: fn() -> Scenario,
    /// The best repro.
    pub optimum: Optimum,
    /// The hand derivation of the optimum, in two to four sentences: which deviations
    /// and faults are necessary and why none fewer can fail, and how the step count
    /// comes about.
    pub derivation: &'static str,
}

// ---- helpers ------------------------------------------------------------------------

/// Waits forever: a server between requests, or a process that keeps what it published
/// for the invariants (a process's published state goes when it exits).
async fn park(cx: &Cx) {
    cx.recv_match(Matcher::Nothing).await;
}

/// State a process shows the invariants ([`World::with_state`]); only it writes it.
type Shown<S> = Rc<RefCell<Option<S>>>;

/// Publishes `init` as this process's state and returns the cell to update it through.
fn show<S: 'static>(cx: &Cx, init: S) -> Shown<S> {
    let cell: Shown<S> = Rc::new(RefCell::new(Some(init)));
    cx.publish_state(cell.clone());
    cell
}

/// Updates a shown state.
fn update<S>(cell: &Shown<S>, f: impl FnOnce(&mut S)) {
    if let Some(s) = cell.borrow_mut().as_mut() {
        f(s);
    }
}

/// Reads the state shown by the newest live process labelled `label`.
fn shown<S: 'static, R>(w: &World, label: &str, f: impl FnOnce(&S) -> R) -> Option<R> {
    let pid = w
        .live_pids()
        .filter(|p| w.label(*p) == Some(label))
        .last()?;
    w.with_state(pid, f)
}

/// The value of `key` in the table named `table`, if both exist.
fn row<V: Clone + 'static>(w: &World, table: &str, key: &'static str) -> Option<V> {
    let id = w.table_named(table)?;
    w.table_read::<&'static str, V>(id)?.get(key).cloned()
}

/// Kill faults, at most one, on the processes labelled `labels`.
fn one_kill(labels: &[&str]) -> FaultMenu {
    FaultMenu {
        budget: 1,
        kill_reasons: vec![ExitReason::Kill],
        targets: Targets::Labels(labels.iter().map(|l| l.to_string()).collect()),
        ..FaultMenu::none()
    }
}

/// At most one "crash right after its next effect" fault, on the processes labelled
/// `labels`.
fn one_crash_after_effect(labels: &[&str]) -> FaultMenu {
    FaultMenu {
        budget: 1,
        crash_after_effect: true,
        targets: Targets::Labels(labels.iter().map(|l| l.to_string()).collect()),
        ..FaultMenu::none()
    }
}

/// A supervisor-like parent: traps exits, starts `child` linked, labelled and registered
/// as `name`, and starts a fresh one whenever the last one exits.
async fn supervise<F, Fut>(cx: Cx, name: &'static str, child: F)
where
    F: Fn(Cx) -> Fut + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    cx.trap_exit(true);
    loop {
        let pid = cx
            .spawn_opts(SpawnOpts::labelled(name).linked(), child.clone())
            .await;
        // Refused only if it is dead already: its EXIT is on its way.
        let _ = cx.register_pid(pid, name).await;
        cx.recv_match(Matcher::when(|e| e.exit_reason().is_some()))
            .await;
    }
}

/// A call to the server registered as `name`, as `GenServer.call` makes it: looks the
/// name up, monitors the server, sends `req(me)` and waits for the reply or the DOWN.
/// A client that knows servers restart tries three times (1 ms apart when the name is
/// not registered or the server died), then gives up.
async fn call_named<M: Payload, R: Payload>(
    cx: &Cx,
    name: &str,
    req: impl Fn(Pid) -> M,
) -> Option<R> {
    for _ in 0..3 {
        if let Some(server) = cx.whereis(name).await {
            let mref = cx.monitor(server).await;
            cx.send(server, req(cx.me())).await;
            let env = cx
                .recv_match(Matcher::when(move |e| {
                    e.is::<R>() || e.down().is_some_and(|(r, ..)| r == mref)
                }))
                .await;
            cx.demonitor(mref, true).await;
            if let Ok(reply) = env.downcast::<R>() {
                return Some(reply);
            }
        }
        cx.sleep(1).await;
    }
    None
}

/// A scenario of `build` that expects `invariant` to fail.
fn scenario(name: &str, invariant: &str, build: fn(&mut Sim)) -> Scenario {
    Scenario::new(name, build).expect_violation(invariant)
}

// ---- lost_update --------------------------------------------------------------------

/// The invariant: both increments are in the row.
const HITS_COUNTED: &str = "hits_counted";

/// Two clients add one to a table row by a lookup, then an insert: an increment is lost.
fn table_counter(sim: &mut Sim) {
    sim.spawn("owner", |cx| async move {
        let t: Table<&'static str, u32> = cx.table_new_named("hits").await.expect("fresh");
        for label in ["client_a", "client_b"] {
            cx.spawn_opts(SpawnOpts::labelled(label), move |cx| async move {
                let n = cx.table_get(t, &"page").await.expect("owner alive");
                cx.table_insert(t, "page", n.unwrap_or(0) + 1)
                    .await
                    .expect("owner alive");
            })
            .await;
        }
        park(&cx).await;
    });
    sim.invariant(invariant(HITS_COUNTED, When::End, |w| {
        match row::<u32>(w, "hits", "page") {
            Some(2) => Ok(()),
            n => Err(format!("two increments, the row holds {n:?}")),
        }
    }));
}

/// A request to the counter server.
#[derive(Debug)]
enum CounterReq {
    Get(Pid),
    Put(Pid, u32),
}

/// The counter server's answers.
#[derive(Debug)]
enum CounterReply {
    Value(u32),
    Stored,
}

/// The invariant: the counter holds both clients' increments.
const COUNT_MATCHES_CLIENTS: &str = "count_matches_clients";

/// A counter with `Get` and `Put`; it shows its count.
async fn counter_server(cx: Cx) {
    let count = show(&cx, 0u32);
    loop {
        let (_, req) = cx.recv_type::<CounterReq>().await;
        match req {
            CounterReq::Get(from) => {
                let n = count.borrow().unwrap_or(0);
                cx.send(from, CounterReply::Value(n)).await;
            }
            CounterReq::Put(from, n) => {
                update(&count, |c| *c = n);
                cx.send(from, CounterReply::Stored).await;
            }
        }
    }
}

/// Two clients add one by a counter's `Get`, then `Put`, 1 ms apart: an increment is lost.
fn counter_get_put(sim: &mut Sim) {
    let server = sim.spawn("counter", counter_server);
    for (label, arrives_ms) in [("client_a", 0), ("client_b", 1)] {
        sim.spawn(label, move |cx| async move {
            if arrives_ms > 0 {
                cx.sleep(arrives_ms).await;
            }
            cx.send(server, CounterReq::Get(cx.me())).await;
            let (_, CounterReply::Value(n)) = cx.recv_type::<CounterReply>().await else {
                return;
            };
            cx.send(server, CounterReq::Put(cx.me(), n + 1)).await;
            cx.recv_type::<CounterReply>().await;
        });
    }
    sim.invariant(invariant(
        COUNT_MATCHES_CLIENTS,
        When::End,
        |w| match shown::<u32, _>(w, "counter", |c| *c) {
            Some(2) => Ok(()),
            n => Err(format!(
                "two clients added one each, the counter holds {n:?}"
            )),
        },
    ));
}

/// The invariant: the row holds one increment per client that took the lock.
const LOCKED_HITS_COUNTED: &str = "locked_hits_counted";

/// A lock row taken by a lookup, then an insert: both clients take it, and one count is lost.
fn broken_table_lock(sim: &mut Sim) {
    sim.spawn("owner", |cx| async move {
        let t: Table<&'static str, u32> = cx.table_new_named("hits").await.expect("fresh");
        for label in ["client_a", "client_b"] {
            cx.spawn_opts(SpawnOpts::labelled(label), move |cx| async move {
                let added = show(&cx, false);
                let gone = "owner alive";
                if cx.table_get(t, &"lock").await.expect(gone).is_none() {
                    cx.table_insert(t, "lock", 1).await.expect(gone);
                    let n = cx.table_get(t, &"page").await.expect(gone);
                    cx.table_insert(t, "page", n.unwrap_or(0) + 1)
                        .await
                        .expect(gone);
                    update(&added, |a| *a = true);
                    cx.table_remove(t, &"lock").await.expect(gone);
                }
                park(&cx).await;
            })
            .await;
        }
        park(&cx).await;
    });
    sim.invariant(invariant(LOCKED_HITS_COUNTED, When::End, |w| {
        let added = ["client_a", "client_b"]
            .iter()
            .filter(|c| shown::<bool, _>(w, c, |a| *a) == Some(true))
            .count() as u32;
        match row::<u32>(w, "hits", "page").unwrap_or(0) {
            n if n == added => Ok(()),
            n => Err(format!(
                "{added} client(s) added one under the lock, the row holds {n}"
            )),
        }
    }));
}

// ---- lease_expiry -------------------------------------------------------------------

/// Requests to the lock server.
#[derive(Debug)]
enum LockReq {
    Acquire(Pid),
    Renew(u64),
    Release(u64),
    Expire(u64),
}

/// The lock server's grant: the lease id.
#[derive(Debug)]
struct Granted(u64);

/// A write to the storage, part 1 or 2 of a client's two-part update.
#[derive(Debug)]
struct Write(&'static str, u8);

/// The invariant: no write lands between a client's two parts.
const WRITES_NOT_INTERLEAVED: &str = "writes_not_interleaved";

/// The storage: keeps the log of writes, in the order they arrive, and shows it.
async fn storage_server(cx: Cx) {
    let log = show(&cx, Vec::<(&'static str, u8)>::new());
    loop {
        let (_, Write(who, part)) = cx.recv_type::<Write>().await;
        update(&log, |l| l.push((who, part)));
    }
}

/// A lease's length.
const LEASE_MS: u64 = 10;

/// The lock server: one holder at a time, on a lease of [`LEASE_MS`] that a renewal
/// extends; a lease that expires goes to the next waiter.
async fn lock_server(cx: Cx) {
    let mut holder: Option<(Pid, u64, u64)> = None; // (pid, lease, deadline)
    let mut waiting: VecDeque<Pid> = VecDeque::new();
    let mut next_lease = 0u64;
    loop {
        let (_, req) = cx.recv_type::<LockReq>().await;
        let free = match req {
            LockReq::Acquire(from) => {
                waiting.push_back(from);
                holder.is_none()
            }
            LockReq::Renew(lease) => {
                if let Some((_, l, deadline)) = &mut holder
                    && *l == lease
                {
                    *deadline = cx.now_ms() + LEASE_MS;
                    cx.send_after(cx.me(), LockReq::Expire(lease), LEASE_MS);
                }
                false
            }
            LockReq::Release(lease) => {
                let ends = matches!(holder, Some((_, l, _)) if l == lease);
                if ends {
                    holder = None;
                }
                ends
            }
            LockReq::Expire(lease) => {
                let ends =
                    holder.is_some_and(|(_, l, deadline)| l == lease && cx.now_ms() >= deadline);
                if ends {
                    holder = None;
                }
                ends
            }
        };
        if free && let Some(next) = waiting.pop_front() {
            next_lease += 1;
            holder = Some((next, next_lease, cx.now_ms() + LEASE_MS));
            cx.send_after(cx.me(), LockReq::Expire(next_lease), LEASE_MS);
            cx.send(next, Granted(next_lease)).await;
        }
    }
}

/// Two clients write in two parts under a renewable lease: one run late loses the lease.
fn lease_pause(sim: &mut Sim) {
    let storage = sim.spawn("storage", storage_server);
    let lock = sim.spawn("lock", lock_server);
    for who in ["client_a", "client_b"] {
        sim.spawn(who, move |cx| async move {
            cx.send(lock, LockReq::Acquire(cx.me())).await;
            let (_, Granted(lease)) = cx.recv_type::<Granted>().await;
            cx.send(storage, Write(who, 1)).await;
            cx.sleep(6).await;
            cx.send(lock, LockReq::Renew(lease)).await;
            cx.sleep(6).await;
            cx.send(storage, Write(who, 2)).await;
            cx.send(lock, LockReq::Release(lease)).await;
        });
    }
    sim.invariant(invariant(WRITES_NOT_INTERLEAVED, When::End, |w| {
        let log =
            shown::<Vec<(&'static str, u8)>, _>(w, "storage", Clone::clone).ok_or("no storage")?;
        for pair in log.chunks(2) {
            if let [(a, 1), (b, 2)] = pair
                && a == b
            {
                continue;
            }
            return Err(format!("two-part writes interleaved: {log:?}"));
        }
        Ok(())
    }));
}

/// A client's heartbeat, and its goodbye.
#[derive(Debug, PartialEq, Eq)]
enum Beat {
    Alive,
    Bye,
}

/// The invariant: the session of a client that beats on time never expires.
const SESSION_NOT_EXPIRED: &str = "session_not_expired";

/// Checks that the session did not expire.
fn session_not_expired(w: &World) -> Result<(), String> {
    match shown::<bool, _>(w, "session", |e| *e) {
        Some(true) => Err("the session expired while its client was beating".into()),
        _ => Ok(()),
    }
}

/// A session expires 8 ms after its client's last beat: a client run late loses it.
fn heartbeat(sim: &mut Sim) {
    let session = sim.spawn("session", |cx| async move {
        let expired = show(&cx, false);
        loop {
            match cx.recv_timeout(Matcher::of::<Beat>(), 8).await {
                None => {
                    update(&expired, |e| *e = true);
                    return park(&cx).await;
                }
                Some(env) if env.peek::<Beat>() == Some(&Beat::Bye) => return park(&cx).await,
                Some(_) => {}
            }
        }
    });
    sim.spawn("client", move |cx| async move {
        for _ in 0..2 {
            cx.sleep(5).await;
            cx.send(session, Beat::Alive).await;
        }
        cx.send(session, Beat::Bye).await;
    });
    sim.invariant(invariant(
        SESSION_NOT_EXPIRED,
        When::End,
        session_not_expired,
    ));
}

/// What the session is sent, and its own sweep timer (with the tick it is for).
#[derive(Debug, PartialEq, Eq)]
enum Swept {
    Beat,
    Bye,
    Sweep(u64),
}

/// A session swept every 3 ms expires 8 ms after the last beat: a client run late loses it.
fn swept_session(sim: &mut Sim) {
    let session = sim.spawn("session", |cx| async move {
        let expired = show(&cx, false);
        let mut last_beat = 0;
        cx.send_after(cx.me(), Swept::Sweep(3), 3);
        loop {
            let env = cx.recv_match(Matcher::of::<Swept>()).await;
            match env.downcast::<Swept>().expect("matched") {
                Swept::Beat => last_beat = cx.now_ms(),
                Swept::Bye => return park(&cx).await,
                Swept::Sweep(tick) if tick > last_beat + 8 => {
                    update(&expired, |e| *e = true);
                    return park(&cx).await;
                }
                Swept::Sweep(tick) => {
                    cx.send_after(cx.me(), Swept::Sweep(tick + 3), 3);
                }
            }
        }
    });
    sim.spawn("client", move |cx| async move {
        for at in [5u64, 10] {
            cx.sleep(at.saturating_sub(cx.now_ms())).await;
            cx.send(session, Swept::Beat).await;
        }
        cx.send(session, Swept::Bye).await;
    });
    sim.invariant(invariant(
        SESSION_NOT_EXPIRED,
        When::End,
        session_not_expired,
    ));
}

// ---- crash_between_steps ------------------------------------------------------------

/// The invariant: the two balances add up to what there was.
const MONEY_CONSERVED: &str = "money_conserved";

/// A transfer debits, then credits, in two writes: killed in between, it loses the money.
fn transfer(sim: &mut Sim) {
    sim.spawn("bank", |cx| async move {
        let t: Table<&'static str, i64> = cx.table_new_named("accounts").await.expect("fresh");
        cx.table_insert(t, "alice", 10).await.expect("mine");
        cx.spawn_opts(SpawnOpts::labelled("transfer"), move |cx| async move {
            cx.table_insert(t, "alice", 5).await.expect("bank alive");
            cx.table_insert(t, "bob", 5).await.expect("bank alive");
        })
        .await;
        park(&cx).await;
    });
    sim.invariant(invariant(MONEY_CONSERVED, When::End, |w| {
        let alice = row::<i64>(w, "accounts", "alice").unwrap_or(0);
        let bob = row::<i64>(w, "accounts", "bob").unwrap_or(0);
        if alice + bob == 10 {
            Ok(())
        } else {
            Err(format!("alice {alice} + bob {bob} != 10"))
        }
    }));
}

/// The invariant: every widget reserved is ordered.
const RESERVATIONS_ORDERED: &str = "reservations_ordered";

/// The order server's request: one order for one reserved widget.
#[derive(Debug)]
struct PlaceOrder;

/// The order server: shows how many orders it placed.
async fn order_server(cx: Cx) {
    let placed = show(&cx, 0u32);
    loop {
        cx.recv_type::<PlaceOrder>().await;
        update(&placed, |n| *n += 1);
    }
}

/// A checkout reserves a widget, then orders it: crashing in between strands the widget.
fn reserve_then_order(sim: &mut Sim) {
    let orders = sim.spawn("orders", order_server);
    sim.spawn("shop", move |cx| async move {
        let t: Table<&'static str, u32> = cx.table_new_named("stock").await.expect("fresh");
        cx.spawn_opts(SpawnOpts::labelled("checkout"), move |cx| async move {
            cx.table_insert(t, "reserved", 1).await.expect("shop alive");
            cx.send(orders, PlaceOrder).await;
        })
        .await;
        park(&cx).await;
    });
    sim.invariant(invariant(RESERVATIONS_ORDERED, When::End, |w| {
        let reserved = row::<u32>(w, "stock", "reserved").unwrap_or(0);
        let placed = shown::<u32, _>(w, "orders", |n| *n).unwrap_or(0);
        if reserved == placed {
            Ok(())
        } else {
            Err(format!(
                "{reserved} widget(s) reserved, {placed} order(s) placed"
            ))
        }
    }));
}

// ---- stale_name ---------------------------------------------------------------------

/// A request to a key-value server.
#[derive(Debug)]
struct Lookup(Pid);

/// Its answer.
#[derive(Debug)]
struct Found;

/// The invariant: no client waits forever for an answer.
const CLIENTS_ANSWERED: &str = "clients_answered";

/// What a client shows: `true` once it is done (answered, or told there is no server).
type Done = bool;

/// Every process labelled `client` that is alive is done.
fn clients_answered(w: &World) -> Result<(), String> {
    for p in w.live_pids() {
        if w.label(p) == Some("client") && w.with_state::<Done, _>(p, |d| *d) == Some(false) {
            return Err(format!("client {p} waits forever for an answer"));
        }
    }
    Ok(())
}

/// The key-value server: answers lookups.
async fn kv_server(cx: Cx) {
    loop {
        let (_, Lookup(from)) = cx.recv_type::<Lookup>().await;
        cx.send(from, Found).await;
    }
}

/// A client looks the server up once and sends to that pid later: by then it may be dead.
fn cached_pid(sim: &mut Sim) {
    sim.spawn("sup", |cx| supervise(cx, "kv", kv_server));
    sim.spawn("client", |cx| async move {
        let done = show::<Done>(&cx, false);
        let Some(kv) = cx.whereis("kv").await else {
            update(&done, |d| *d = true);
            return park(&cx).await;
        };
        cx.sleep(5).await;
        cx.send(kv, Lookup(cx.me())).await;
        cx.recv_type::<Found>().await;
        update(&done, |d| *d = true);
        park(&cx).await;
    });
    sim.invariant(invariant(CLIENTS_ANSWERED, When::End, clients_answered));
}

/// A job for a worker, with who to tell when it is done.
#[derive(Debug)]
struct Job(Pid);

/// A job is done.
#[derive(Debug)]
struct JobDone;

/// Serves jobs forever.
async fn serve_jobs(cx: Cx) {
    loop {
        let (_, Job(from)) = cx.recv_type::<Job>().await;
        cx.send(from, JobDone).await;
    }
}

/// A worker's directory row outlives it: a client sends its job to the dead pid in it.
fn directory_row(sim: &mut Sim) {
    sim.spawn("dir", |cx| async move {
        let t: Table<&'static str, Pid> = cx.table_new_named("directory").await.expect("fresh");
        cx.spawn_opts(SpawnOpts::labelled("worker"), move |cx| async move {
            cx.table_insert(t, "worker", cx.me())
                .await
                .expect("dir alive");
            serve_jobs(cx).await
        })
        .await;
        cx.spawn_opts(SpawnOpts::labelled("client"), move |cx| async move {
            let done = show::<Done>(&cx, false);
            if let Some(worker) = cx.table_get(t, &"worker").await.expect("dir alive") {
                cx.send(worker, Job(cx.me())).await;
                cx.recv_type::<JobDone>().await;
            }
            update(&done, |d| *d = true);
            park(&cx).await;
        })
        .await;
        park(&cx).await;
    });
    sim.invariant(invariant(CLIENTS_ANSWERED, When::End, clients_answered));
}

/// Starts a fresh `worker` whenever the current one exits.
async fn replace_when_done<F, Fut>(cx: &Cx, mut current: Pid, worker: F)
where
    F: Fn(Cx) -> Fut + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    loop {
        let mref = cx.monitor(current).await;
        cx.recv_match(Matcher::Tag(mref)).await;
        current = cx
            .spawn_opts(SpawnOpts::labelled("worker"), worker.clone())
            .await;
    }
}

/// One-shot workers rewrite a directory row: read between two of them, it names a dead one.
fn one_shot_workers(sim: &mut Sim) {
    sim.spawn("manager", |cx| async move {
        let t: Table<&'static str, Pid> = cx.table_new_named("directory").await.expect("fresh");
        let worker = move |cx: Cx| async move {
            cx.table_insert(t, "worker", cx.me())
                .await
                .expect("manager alive");
            let (_, Job(from)) = cx.recv_type::<Job>().await;
            cx.send(from, JobDone).await;
        };
        let first = cx.spawn_opts(SpawnOpts::labelled("worker"), worker).await;
        for arrives_ms in [0, 1] {
            cx.spawn_opts(SpawnOpts::labelled("client"), move |cx| async move {
                let done = show::<Done>(&cx, false);
                if arrives_ms > 0 {
                    cx.sleep(arrives_ms).await;
                }
                if let Some(worker) = cx.table_get(t, &"worker").await.expect("manager alive") {
                    cx.send(worker, Job(cx.me())).await;
                    cx.recv_type::<JobDone>().await;
                }
                update(&done, |d| *d = true);
                park(&cx).await;
            })
            .await;
        }
        replace_when_done(&cx, first, worker).await
    });
    sim.invariant(invariant(CLIENTS_ANSWERED, When::End, clients_answered));
}

// ---- restart_loses_state ------------------------------------------------------------

/// Requests to the counter.
#[derive(Debug)]
enum Tally {
    Incr(Pid),
    Get(Pid),
}

/// The counter's answer.
#[derive(Debug)]
struct Count(u32);

/// The invariant: the counts the client reads never go back.
const COUNT_NEVER_GOES_BACK: &str = "count_never_goes_back";

/// The counter: keeps its count in memory only.
async fn tally_server(cx: Cx) {
    let mut n = 0;
    loop {
        let (_, req) = cx.recv_type::<Tally>().await;
        let to = match req {
            Tally::Incr(from) => {
                n += 1;
                from
            }
            Tally::Get(from) => from,
        };
        cx.send(to, Count(n)).await;
    }
}

/// A supervised counter keeps its count in memory: restarted, it counts from zero again.
fn counter_restart(sim: &mut Sim) {
    sim.spawn("sup", |cx| supervise(cx, "counter", tally_server));
    sim.spawn("client", |cx| async move {
        let seen = show(&cx, Vec::<u32>::new());
        if let Some(Count(a)) = call_named(&cx, "counter", Tally::Incr).await {
            update(&seen, |s| s.push(a));
            cx.sleep(5).await;
            if let Some(Count(b)) = call_named(&cx, "counter", Tally::Get).await {
                update(&seen, |s| s.push(b));
            }
        }
        park(&cx).await;
    });
    sim.invariant(invariant(COUNT_NEVER_GOES_BACK, When::End, |w| {
        let seen = shown::<Vec<u32>, _>(w, "client", Clone::clone).unwrap_or_default();
        if seen.windows(2).all(|p| p[0] <= p[1]) {
            Ok(())
        } else {
            Err(format!("the client saw the count go {seen:?}"))
        }
    }));
}

/// Requests to the broker.
#[derive(Debug)]
enum Broker {
    Subscribe(Pid),
    Publish(Pid, u32),
}

/// The broker's acknowledgement of a subscription.
#[derive(Debug)]
struct Subscribed;

/// The broker's acknowledgement of a publication.
#[derive(Debug)]
struct Published;

/// An event the broker forwards.
#[derive(Debug)]
struct Event(u32);

/// The invariant: a subscribed subscriber gets the event published after.
const EVENTS_DELIVERED: &str = "events_delivered";

/// The broker: keeps its subscribers in memory.
async fn broker(cx: Cx) {
    let mut subscribers = Vec::new();
    loop {
        let (_, req) = cx.recv_type::<Broker>().await;
        match req {
            Broker::Subscribe(from) => {
                subscribers.push(from);
                cx.send(from, Subscribed).await;
            }
            Broker::Publish(from, e) => {
                for s in &subscribers {
                    cx.send(*s, Event(e)).await;
                }
                cx.send(from, Published).await;
            }
        }
    }
}

/// A supervised broker keeps its subscribers in memory: restarted, it forgets them.
fn broker_restart(sim: &mut Sim) {
    sim.spawn("sup", |cx| supervise(cx, "broker", broker));
    let publisher = sim.spawn("publisher", |cx| async move {
        cx.recv_type::<Subscribed>().await;
        cx.sleep(5).await;
        call_named::<_, Published>(&cx, "broker", |me| Broker::Publish(me, 1)).await;
    });
    sim.spawn("subscriber", move |cx| async move {
        let got = show(&cx, Err::<u32, &str>("not subscribed"));
        if call_named::<_, Subscribed>(&cx, "broker", Broker::Subscribe)
            .await
            .is_none()
        {
            return park(&cx).await;
        }
        update(&got, |g| *g = Err("no event"));
        cx.send(publisher, Subscribed).await;
        let (_, Event(e)) = cx.recv_type::<Event>().await;
        update(&got, |g| *g = Ok(e));
        park(&cx).await;
    });
    sim.invariant(invariant(EVENTS_DELIVERED, When::End, |w| {
        match shown::<Result<u32, &str>, _>(w, "subscriber", |g| *g) {
            Some(Err("no event")) => {
                Err("the subscriber never got the event published after it subscribed".into())
            }
            _ => Ok(()),
        }
    }));
}

// ---- cross_sender_order -------------------------------------------------------------

/// What the user sends its gateways, and they forward to the session server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Session {
    Login,
    Logout,
}

/// The invariant: the user, who logs out last, ends logged out.
const LOGGED_OUT_AT_END: &str = "logged_out_at_end";

/// The session server: shows whether the user is logged in.
async fn session_server(cx: Cx) {
    let online = show(&cx, false);
    loop {
        let (_, s) = cx.recv_type::<Session>().await;
        update(&online, |o| *o = s == Session::Login);
    }
}

/// A gateway: forwards what it gets to the session server.
async fn forward_sessions(cx: Cx, sessions: Pid) {
    loop {
        let (_, s) = cx.recv_type::<Session>().await;
        cx.send(sessions, s).await;
    }
}

/// Checks that the user ended logged out.
fn logged_out(w: &World) -> Result<(), String> {
    match shown::<bool, _>(w, "sessions", |o| *o) {
        Some(false) => Ok(()),
        _ => Err("the user logged out last, and is still logged in".into()),
    }
}

/// A user logs in through one gateway, out through another: the logout can arrive first.
fn two_gateways(sim: &mut Sim) {
    let sessions = sim.spawn("sessions", session_server);
    let gateway = move |cx: Cx| forward_sessions(cx, sessions);
    let gw_in = sim.spawn("gateway_in", gateway);
    let gw_out = sim.spawn("gateway_out", gateway);
    sim.spawn("user", move |cx| async move {
        cx.send(gw_in, Session::Login).await;
        cx.send(gw_out, Session::Logout).await;
    });
    sim.invariant(invariant(LOGGED_OUT_AT_END, When::End, logged_out));
}

/// As [`two_gateways`], the logout through an auth proxy first: two hops overtake one.
fn logout_via_proxy(sim: &mut Sim) {
    let sessions = sim.spawn("sessions", session_server);
    let gw_in = sim.spawn("gateway_in", move |cx| forward_sessions(cx, sessions));
    let gw_out = sim.spawn("gateway_out", move |cx| forward_sessions(cx, sessions));
    let proxy = sim.spawn("auth_proxy", move |cx| forward_sessions(cx, gw_out));
    sim.spawn("user", move |cx| async move {
        cx.send(gw_in, Session::Login).await;
        cx.send(proxy, Session::Logout).await;
    });
    sim.invariant(invariant(LOGGED_OUT_AT_END, When::End, logged_out));
}

/// What the store is told.
#[derive(Debug)]
enum StoreOp {
    Create,
    Update,
}

/// The indexer is told a record was created.
#[derive(Debug)]
struct Created;

/// The invariant: no update reaches the store before the create.
const UPDATES_AFTER_CREATE: &str = "updates_after_create";

/// The store: shows the operations it failed (an update of a record it does not have).
async fn store(cx: Cx) {
    let failed = show(&cx, 0u32);
    let mut exists = false;
    loop {
        let (_, op) = cx.recv_type::<StoreOp>().await;
        match op {
            StoreOp::Create => exists = true,
            StoreOp::Update if !exists => update(&failed, |f| *f += 1),
            StoreOp::Update => {}
        }
    }
}

/// Checks that the store failed no update.
fn no_failed_update(w: &World) -> Result<(), String> {
    match shown::<u32, _>(w, "store", |f| *f) {
        Some(0) => Ok(()),
        n => Err(format!(
            "{n:?} update(s) reached the store before the create"
        )),
    }
}

/// Between nodes, an update relayed by an indexer can reach the store before the create.
fn update_overtakes_create(sim: &mut Sim) {
    let store = sim.spawn("store", store);
    let indexer = sim.spawn("indexer", move |cx| async move {
        cx.recv_type::<Created>().await;
        cx.send(store, StoreOp::Update).await;
    });
    sim.spawn("frontend", move |cx| async move {
        cx.send(store, StoreOp::Create).await;
        cx.send(indexer, Created).await;
    });
    sim.invariant(invariant(UPDATES_AFTER_CREATE, When::End, no_failed_update));
}

/// As [`update_overtakes_create`], the update relayed by an indexer, then a cache.
fn update_overtakes_create_two_hops(sim: &mut Sim) {
    let store = sim.spawn("store", store);
    // The frontend is spawned before the relays, so that as a sender it comes first.
    let frontend = sim.next_pid();
    let (cache, indexer) = (Pid(frontend.0 + 1), Pid(frontend.0 + 2));
    sim.spawn("frontend", move |cx| async move {
        cx.send(store, StoreOp::Create).await;
        cx.send(indexer, Created).await;
    });
    let spawned = sim.spawn("cache", move |cx| async move {
        cx.recv_type::<Created>().await;
        cx.send(store, StoreOp::Update).await;
    });
    debug_assert_eq!(spawned, cache);
    let spawned = sim.spawn("indexer", move |cx| async move {
        cx.recv_type::<Created>().await;
        cx.send(cache, Created).await;
    });
    debug_assert_eq!(spawned, indexer);
    sim.invariant(invariant(UPDATES_AFTER_CREATE, When::End, no_failed_update));
}

// ---- timer_next_incarnation ---------------------------------------------------------

/// A worker's timers: its job is done, or its deadline passed.
#[derive(Debug, PartialEq, Eq)]
enum WorkerTimer {
    JobDone,
    Deadline,
}

/// What a worker shows: when it started, and when it gave its job up (if it did).
#[derive(Clone, Copy, Debug)]
struct Attempt {
    started_ms: u64,
    abandoned_ms: Option<u64>,
}

/// The invariant: no worker gives its job up before its own deadline.
const DEADLINE_IS_OWN: &str = "deadline_is_own";

/// A job worker: arms its 10 ms deadline as a timer to its registered name,
/// and its job takes 8 ms; it gives the job up if the deadline comes first.
async fn deadline_worker(cx: Cx) {
    let attempt = show(
        &cx,
        Attempt {
            started_ms: cx.now_ms(),
            abandoned_ms: None,
        },
    );
    cx.send_after("worker", WorkerTimer::Deadline, 10);
    cx.send_after(cx.me(), WorkerTimer::JobDone, 8);
    let env = cx.recv_match(Matcher::of::<WorkerTimer>()).await;
    if env.peek::<WorkerTimer>() == Some(&WorkerTimer::Deadline) {
        update(&attempt, |a| a.abandoned_ms = Some(cx.now_ms()));
    }
    park(&cx).await;
}

/// A supervised worker's deadline, a timer to its name, fires into its next incarnation.
fn deadline_timer(sim: &mut Sim) {
    sim.spawn("sup", |cx| supervise(cx, "worker", deadline_worker));
    sim.invariant(invariant(DEADLINE_IS_OWN, When::End, |w| {
        match shown::<Attempt, _>(w, "worker", |a| *a) {
            Some(Attempt {
                started_ms,
                abandoned_ms: Some(at),
            }) if at < started_ms + 10 => Err(format!(
                "the worker started at {started_ms} ms gave up at {at} ms, before its 10 ms \
                 deadline"
            )),
            _ => Ok(()),
        }
    }));
}

/// A connection's messages: the server's welcome, and its own retry timer.
#[derive(Debug)]
enum ConnMsg {
    Welcome,
    Retry,
}

/// A connection's greeting to the server.
#[derive(Debug)]
struct Hello(Pid);

/// What a connection shows: its pid, and who set each retry timer it acted on.
type Retries = (Pid, Vec<Pid>);

/// The invariant: a connection acts only on retry timers it set itself.
const TIMERS_ARE_OWN: &str = "timers_are_own";

/// The server: welcomes every hello.
async fn welcome_server(cx: Cx) {
    loop {
        let (_, Hello(from)) = cx.recv_type::<Hello>().await;
        cx.send(from, ConnMsg::Welcome).await;
    }
}

/// A connection: says hello to the server and arms a 5 ms retry timer to its registered
/// name, which it cancels when welcomed; a retry before the welcome says hello again,
/// once.
async fn connection(cx: Cx, server: Pid) {
    let retries = show::<Retries>(&cx, (cx.me(), Vec::new()));
    cx.send(server, Hello(cx.me())).await;
    let mut timer = cx.send_after("conn", ConnMsg::Retry, 5);
    let mut connected = false;
    let mut retries_left = 1;
    loop {
        let env = cx.recv_match(Matcher::of::<ConnMsg>()).await;
        let from = env.from;
        match env.downcast::<ConnMsg>().expect("matched a ConnMsg") {
            ConnMsg::Welcome => {
                connected = true;
                cx.cancel_timer(timer);
            }
            ConnMsg::Retry if !connected && retries_left > 0 => {
                retries_left -= 1;
                update(&retries, |(_, r)| r.push(from));
                cx.send(server, Hello(cx.me())).await;
                timer = cx.send_after("conn", ConnMsg::Retry, 5);
            }
            ConnMsg::Retry => {}
        }
    }
}

/// A supervised connection's retry timer, sent to its name, fires into its next incarnation.
fn retry_timer(sim: &mut Sim) {
    let server = sim.spawn("server", welcome_server);
    sim.spawn("sup", move |cx| {
        supervise(cx, "conn", move |cx| connection(cx, server))
    });
    sim.invariant(invariant(TIMERS_ARE_OWN, When::End, |w| {
        match shown::<Retries, _>(w, "conn", Clone::clone) {
            Some((me, setters)) if setters.iter().any(|s| *s != me) => Err(format!(
                "connection {me} acted on retry timers set by {setters:?}"
            )),
            _ => Ok(()),
        }
    }));
}

// ---- check_then_act -----------------------------------------------------------------

/// A request to the pricing server.
#[derive(Debug)]
struct Quote(Pid);

/// Its answer.
#[derive(Debug)]
struct Price;

/// The pricing server: answers every quote request.
async fn pricing_server(cx: Cx) {
    loop {
        let (_, Quote(from)) = cx.recv_type::<Quote>().await;
        cx.send(from, Price).await;
    }
}

/// A client checks that a server is alive, then calls it unmonitored: it can wait forever.
fn alive_then_call(sim: &mut Sim) {
    let server = sim.spawn("pricing", pricing_server);
    sim.spawn("client", move |cx| async move {
        let done = show::<Done>(&cx, false);
        if cx.is_alive(server).await {
            cx.send(server, Quote(cx.me())).await;
            cx.recv_type::<Price>().await;
        }
        update(&done, |d| *d = true);
        park(&cx).await;
    });
    sim.invariant(invariant(CLIENTS_ANSWERED, When::End, clients_answered));
}

/// The invariant: at most one singleton runs.
const ONE_SINGLETON: &str = "one_singleton";

/// Two starters look for a singleton's row, then write it and start one: both start one.
fn singleton_twice(sim: &mut Sim) {
    sim.spawn("registry", |cx| async move {
        let t: Table<&'static str, Pid> = cx.table_new_named("singletons").await.expect("fresh");
        for _ in 0..2 {
            cx.spawn_opts(SpawnOpts::labelled("starter"), move |cx| async move {
                if cx
                    .table_get(t, &"cache")
                    .await
                    .expect("registry alive")
                    .is_none()
                {
                    cx.table_insert(t, "cache", cx.me())
                        .await
                        .expect("registry alive");
                    cx.spawn_opts(SpawnOpts::labelled("singleton"), |cx| async move {
                        park(&cx).await
                    })
                    .await;
                }
            })
            .await;
        }
        park(&cx).await;
    });
    sim.invariant(invariant(ONE_SINGLETON, When::End, |w| {
        let n = w
            .live_pids()
            .filter(|p| w.label(*p) == Some("singleton"))
            .count();
        if n <= 1 {
            Ok(())
        } else {
            Err(format!("{n} singletons running"))
        }
    }));
}

// ---- monitor_window -----------------------------------------------------------------

/// The invariant: a job the parent counts a success left its result.
const SUCCESS_HAS_RESULT: &str = "success_has_result";

/// A parent spawns, then monitors a job, taking `noproc` for success: a killed job succeeds.
fn spawn_then_monitor(sim: &mut Sim) {
    sim.spawn("parent", |cx| async move {
        let verdict = show(&cx, None::<bool>);
        let t: Table<&'static str, u32> = cx.table_new_named("results").await.expect("fresh");
        let job = cx
            .spawn_opts(SpawnOpts::labelled("job"), move |cx| async move {
                cx.table_insert(t, "job", 42).await.expect("parent alive");
            })
            .await;
        let mref = cx.monitor(job).await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        let reason = env.down().map(|(.., r)| r.clone());
        let ok = matches!(reason, Some(ExitReason::Normal | ExitReason::NoProc));
        update(&verdict, |v| *v = Some(ok));
        park(&cx).await;
    });
    sim.invariant(invariant(SUCCESS_HAS_RESULT, When::End, |w| {
        let verdict = shown::<Option<bool>, _>(w, "parent", |v| *v).flatten();
        let result = row::<u32>(w, "results", "job");
        match (verdict, result) {
            (Some(true), None) => {
                Err("the parent counts the job a success; it left no result".into())
            }
            _ => Ok(()),
        }
    }));
}

/// A call request, answered with [`Reply`].
#[derive(Debug)]
struct Ask(Pid);

/// A reply from a server.
#[derive(Debug)]
struct Reply(&'static str);

/// The invariant: the client gets the live server_b's answer.
const SECOND_CALL_ANSWERED: &str = "second_call_answered";

/// A server: answers every [`Ask`] with its name.
async fn answer(cx: Cx, name: &'static str) {
    loop {
        let (_, Ask(from)) = cx.recv_type::<Ask>().await;
        cx.send(from, Reply(name)).await;
    }
}

/// A client demonitors without flushing and takes any DOWN for its call's: a stale one fails it.
fn demonitor_no_flush(sim: &mut Sim) {
    let a = sim.spawn("server_a", |cx| answer(cx, "a"));
    let b = sim.spawn("server_b", |cx| answer(cx, "b"));
    sim.spawn("client", move |cx| async move {
        let got = show(&cx, Vec::<&'static str>::new());
        for server in [a, b] {
            let mref = cx.monitor(server).await;
            cx.send(server, Ask(cx.me())).await;
            let env = cx
                .recv_match(Matcher::when(|e| e.is::<Reply>() || e.down().is_some()))
                .await;
            cx.demonitor(mref, false).await;
            if let Ok(Reply(from)) = env.downcast::<Reply>() {
                update(&got, |g| g.push(from));
            }
        }
        park(&cx).await;
    });
    sim.invariant(invariant(SECOND_CALL_ANSWERED, When::End, |w| {
        let got = shown::<Vec<&'static str>, _>(w, "client", Clone::clone).unwrap_or_default();
        if got.contains(&"b") {
            Ok(())
        } else {
            Err(format!("server_b is alive, the client got only {got:?}"))
        }
    }));
}

// ---- the bugs -----------------------------------------------------------------------

/// An optimum: `faults`, then `deviations`, then `steps`.
const fn opt(faults: u32, deviations: u32, steps: u32) -> Optimum {
    Optimum {
        faults,
        deviations,
        steps,
    }
}

/// Every planted bug, by kind.
pub fn bugs() -> Vec<Bug> {
    vec![
        Bug {
            name: "table_counter_lost_update",
            kind: "lost_update",
            invariant: HITS_COUNTED,
            scenario: || scenario("table_counter_lost_update", HITS_COUNTED, table_counter),
            optimum: opt(0, 1, 10),
            derivation: "The default schedule runs each client's lookup and insert back \
             to back and counts 2, so a failure needs a deviation, and one suffices: \
             client_b runs in place of client_a between client_a's lookup and its insert, \
             and client_a then writes 1 over client_b's 1. Every process runs to its end in \
             every run, so every run has 10 steps: the owner's 4 (its start, the table and \
             two spawns) and each client's 3 (its start, the lookup and the insert).",
        },
        Bug {
            name: "counter_get_put_lost_update",
            kind: "lost_update",
            invariant: COUNT_MATCHES_CLIENTS,
            scenario: || {
                scenario(
                    "counter_get_put_lost_update",
                    COUNT_MATCHES_CLIENTS,
                    counter_get_put,
                )
            },
            optimum: opt(0, 1, 21),
            derivation: "The default passes: client_b's 1 ms wait ends only when \
             nothing else can run, after client_a's put. One time jump suffices, taken as \
             soon as client_b has started, while client_a's get waits for the counter: \
             client_b wakes before the counter's answer wakes client_a, so it runs first, \
             its get reaches the counter before client_a's put, and both read 0. Every \
             process runs to its end, so every run has the default's 21 steps: the \
             counter's 9 (its start, then one step to take each of the four requests and \
             one to answer it), client_a's 5, client_b's 6 and the timer.",
        },
        Bug {
            name: "counter_get_put_between_nodes",
            kind: "lost_update",
            invariant: COUNT_MATCHES_CLIENTS,
            scenario: || {
                scenario(
                    "counter_get_put_between_nodes",
                    COUNT_MATCHES_CLIENTS,
                    counter_get_put,
                )
                .with_delivery(Delivery::Distributed)
            },
            optimum: opt(0, 1, 29),
            derivation: "Between nodes the default runs processes before deliveries and \
             delivers in (receiver, sender) order, and it still passes, as client_b arrives \
             after client_a's put. One jump suffices, taken as soon as client_b has \
             started: client_b wakes and sends its get at once, before client_a has its \
             value, and the counter, first in the delivery order, takes both gets before \
             client_a's put and answers 0 twice. The run has the 21 process steps of the \
             local run and one delivery per message (per client two requests and two \
             replies): 29.",
        },
        Bug {
            name: "broken_table_lock_lost_update",
            kind: "lost_update",
            invariant: LOCKED_HITS_COUNTED,
            scenario: || {
                scenario(
                    "broken_table_lock_lost_update",
                    LOCKED_HITS_COUNTED,
                    broken_table_lock,
                )
            },
            optimum: opt(0, 2, 16),
            derivation: "An increment is lost only if both clients look the lock up \
             before the other inserts it and their page lookups and inserts then \
             interleave. The default runs client_a's whole critical section before client_b \
             starts, so it takes a preemption of client_a after its lock lookup (client_b \
             then takes the lock too) and a preemption of client_b before its page insert \
             (client_a then increments in between); neither suffices alone. Every process \
             runs to its end: 16 steps, the owner's 4 and each client's 6 (its start and \
             five table operations).",
        },
        Bug {
            name: "lease_expires_in_pause",
            kind: "lease_expiry",
            invariant: WRITES_NOT_INTERLEAVED,
            scenario: || {
                scenario(
                    "lease_expires_in_pause",
                    WRITES_NOT_INTERLEAVED,
                    lease_pause,
                )
            },
            optimum: opt(0, 1, 42),
            derivation: "Without a deviation time moves only when nothing can run, and \
             client_a's renewal at 6 ms keeps its lease past its second write at 12 ms. One \
             time jump suffices: taken as the lock is about to send client_a its grant, it \
             fires the lease's 10 ms expiry, so the lock then hands the lease to client_b, \
             whose first write lands between client_a's two, and client_a's renewal comes \
             too late. All four processes run to their ends, so runs differ only in the \
             renewals the lock accepts, each of which costs a timer step and a lock step \
             for the expiry it arms. The default accepts both renewals (44 steps), and a \
             one-jump failure always accepts client_b's (its lease lapses only with a \
             second jump): this run, refusing client_a's, has 42.",
        },
        Bug {
            name: "heartbeat_late",
            kind: "lease_expiry",
            invariant: SESSION_NOT_EXPIRED,
            scenario: || scenario("heartbeat_late", SESSION_NOT_EXPIRED, heartbeat),
            optimum: opt(0, 1, 11),
            derivation: "The session expires 8 ms after the last beat, and the default \
             runs the client as soon as each 5 ms sleep ends, so it passes. One jump \
             suffices, taken at the start before the client has run: it fires the session's \
             timeout at 8 ms. The client always takes its 6 steps (its start, two wake-ups, \
             two beats and the goodbye) and its 2 sleep timers, and an expired session at \
             least its start, its timeout and that timer: 11, as here, where it expires \
             before any beat.",
        },
        Bug {
            name: "session_swept_late",
            kind: "lease_expiry",
            invariant: SESSION_NOT_EXPIRED,
            scenario: || scenario("session_swept_late", SESSION_NOT_EXPIRED, swept_session),
            optimum: opt(0, 3, 15),
            derivation: "The session expires only on a sweep for tick 9 or later taken \
             before any beat, and the sweep for tick 9 is armed only when the session \
             handles tick 6's, while by default the client beats at 5 ms, before tick 6 \
             fires. So time must jump to 6 while the client could run, the session must \
             then run before the client (which woke first), and time must jump to 9 while \
             the client could run: three deviations. Every run has the client's 6 steps and \
             its 2 timers; this one adds the session's 4 (its start and the sweeps of ticks \
             3, 6 and 9, the last of which expires it) and those three timers, the fewest \
             an expiry needs: 15.",
        },
        Bug {
            name: "transfer_killed_between_writes",
            kind: "crash_between_steps",
            invariant: MONEY_CONSERVED,
            scenario: || {
                scenario("transfer_killed_between_writes", MONEY_CONSERVED, transfer)
                    .with_faults(one_kill(&["transfer"]))
            },
            optimum: opt(1, 0, 7),
            derivation: "Without a fault the transfer always makes both writes, so a \
             fault is needed, and no deviation: a kill is offered at the decision right \
             after the debit. The run is the bank's 4 steps (its start, the table, alice's \
             balance and the spawn), the transfer's 2 (its start and the debit) and the \
             kill: 7.",
        },
        Bug {
            name: "checkout_crashes_after_reserve",
            kind: "crash_between_steps",
            invariant: RESERVATIONS_ORDERED,
            scenario: || {
                scenario(
                    "checkout_crashes_after_reserve",
                    RESERVATIONS_ORDERED,
                    reserve_then_order,
                )
                .with_faults(one_crash_after_effect(&["checkout"]))
            },
            optimum: opt(1, 0, 7),
            derivation: "Without a fault every reservation is followed by its order, so \
             a fault is needed, and no deviation: faults are offered at every decision, and \
             a crash armed on the checkout before its reservation kills it right after. The \
             run is the order server's start, the shop's 3 steps (its start, the table and \
             the spawn), the arming, and the checkout's 2 (its start and the reservation): \
             7, as every process spawned runs at least once.",
        },
        Bug {
            name: "cached_pid_after_restart",
            kind: "stale_name",
            invariant: CLIENTS_ANSWERED,
            scenario: || {
                scenario("cached_pid_after_restart", CLIENTS_ANSWERED, cached_pid)
                    .with_faults(one_kill(&["kv"]))
            },
            optimum: opt(1, 0, 13),
            derivation: "Without a fault the pid the client cached stays the live \
             server's, so a kill is needed, and no deviation: kv killed after the client's \
             lookup, and restarted, never gets the request the client sends to the old pid \
             after its 5 ms sleep. The fewest steps kill kv before it has run at all: the \
             sup's 6 (its start, a spawn and a register, and the same again on the exit), \
             the client's 4 (its start, the lookup, the wake-up and the request), the new \
             kv's start, the kill and the timer: 13.",
        },
        Bug {
            name: "directory_row_outlives_worker",
            kind: "stale_name",
            invariant: CLIENTS_ANSWERED,
            scenario: || {
                scenario(
                    "directory_row_outlives_worker",
                    CLIENTS_ANSWERED,
                    directory_row,
                )
                .with_faults(one_kill(&["worker"]))
            },
            optimum: opt(1, 0, 10),
            derivation: "Without a fault the row always names a live worker, so a kill \
             is needed, and no deviation: killed once it has written its row, the worker \
             leaves the row to send the client's job to a dead pid. The run is the dir's 4 \
             steps (its start, the table and two spawns), the worker's 2 (its start and the \
             row), the kill and the client's 3 (its start, the lookup and the job): 10.",
        },
        Bug {
            name: "one_shot_worker_row_stale",
            kind: "stale_name",
            invariant: CLIENTS_ANSWERED,
            scenario: || {
                scenario(
                    "one_shot_worker_row_stale",
                    CLIENTS_ANSWERED,
                    one_shot_workers,
                )
            },
            optimum: opt(0, 1, 24),
            derivation: "The second client arrives 1 ms late, which by default is after \
             the manager has replaced the first worker, so it reads the new worker's row \
             and the default passes. One jump suffices, taken as the first worker is about \
             to serve the first client: the second client wakes before that worker exits, \
             so it runs before the manager that the exit wakes, and reads the dead worker's \
             row. The second worker then serves nobody and no third starts, so the run has \
             24 steps: the manager's 9 (its start, the table, three spawns and a monitor, \
             then the DOWN, a spawn and a monitor), the first worker's 4, each client's 4, \
             the second worker's 2 and the timer.",
        },
        Bug {
            name: "counter_restarts_from_zero",
            kind: "restart_loses_state",
            invariant: COUNT_NEVER_GOES_BACK,
            scenario: || {
                scenario(
                    "counter_restarts_from_zero",
                    COUNT_NEVER_GOES_BACK,
                    counter_restart,
                )
                .with_faults(one_kill(&["counter"]))
            },
            optimum: opt(1, 0, 26),
            derivation: "Without a fault there is one counter, whose count never goes \
             back, so a kill is needed, and no deviation: killed after it answers the \
             client's increment with 1, the counter is restarted at zero, and the client's \
             get 5 ms later reads 0. The run has the sup's 6 steps (its start, a spawn and \
             a register, and again on the exit), the client's 12 (its start, two calls of \
             5: the lookup, the monitor, the request, the reply and the demonitor; and the \
             sleep), each counter's 3 (its start, one request taken and answered), the kill \
             and the timer: 26.",
        },
        Bug {
            name: "broker_forgets_subscriber",
            kind: "restart_loses_state",
            invariant: EVENTS_DELIVERED,
            scenario: || {
                scenario(
                    "broker_forgets_subscriber",
                    EVENTS_DELIVERED,
                    broker_restart,
                )
                .with_faults(one_kill(&["broker"]))
            },
            optimum: opt(1, 0, 29),
            derivation: "Without a fault the subscription is never lost, so a kill is \
             needed, and no deviation: killed after it acknowledged the subscription \
             (killed before, the subscriber's call would see the DOWN and subscribe again), \
             the broker is restarted with no subscribers, and the event published 5 ms \
             later reaches nobody. The run has the sup's 6 steps, the subscriber's 7 (its \
             start, a call of 5 and its notice to the publisher), the publisher's 8 (its \
             start, the notice, the sleep and a call of 5), each broker's 3 (its start, one \
             request taken and answered), the kill and the timer: 29.",
        },
        Bug {
            name: "logout_overtakes_login",
            kind: "cross_sender_order",
            invariant: LOGGED_OUT_AT_END,
            scenario: || scenario("logout_overtakes_login", LOGGED_OUT_AT_END, two_gateways),
            optimum: opt(0, 1, 12),
            derivation: "The user sends the login and then the logout in one turn, \
             which wakes gateway_in before gateway_out, so the default forwards the login \
             first and passes. One deviation suffices: running gateway_out first, so that \
             the logout reaches the session server first and the login after it leaves the \
             user logged in. Every run has the same 12 steps, 3 for each process: the \
             user's start and two sends, each gateway's start, message and forward, and the \
             session server's start and two messages.",
        },
        Bug {
            name: "logout_via_proxy_overtakes_login",
            kind: "cross_sender_order",
            invariant: LOGGED_OUT_AT_END,
            scenario: || {
                scenario(
                    "logout_via_proxy_overtakes_login",
                    LOGGED_OUT_AT_END,
                    logout_via_proxy,
                )
            },
            optimum: opt(0, 2, 15),
            derivation: "The login takes one hop (gateway_in) and the logout two \
             (auth_proxy, then gateway_out), and the run queue is first come, first served: \
             the user wakes gateway_in before auth_proxy, which wakes gateway_out later \
             still. So the logout reaches the session server first only if auth_proxy runs \
             before gateway_in (one deviation) and gateway_out does too (a second), and \
             these two suffice. Every run has the same 15 steps, 3 for each of the five \
             processes.",
        },
        Bug {
            name: "update_overtakes_create",
            kind: "cross_sender_order",
            invariant: UPDATES_AFTER_CREATE,
            scenario: || {
                scenario(
                    "update_overtakes_create",
                    UPDATES_AFTER_CREATE,
                    update_overtakes_create,
                )
                .with_delivery(Delivery::Distributed)
            },
            optimum: opt(0, 1, 12),
            derivation: "Between nodes the default runs processes before deliveries and \
             delivers in (receiver, sender) order, so the create, to the store (pid 0), is \
             delivered first and the default passes; on one node the race cannot happen, as \
             the create is in the store's mailbox as soon as it is sent. One deviation \
             suffices: delivering the frontend's notice to the indexer first, after which \
             the indexer runs and its update, from a sender (pid 1) ahead of the frontend \
             (pid 2), is delivered before the create by default. Every run has the same 12 \
             steps: 3 for each process and one delivery for each of the three messages.",
        },
        Bug {
            name: "update_overtakes_create_two_hops",
            kind: "cross_sender_order",
            invariant: UPDATES_AFTER_CREATE,
            scenario: || {
                scenario(
                    "update_overtakes_create_two_hops",
                    UPDATES_AFTER_CREATE,
                    update_overtakes_create_two_hops,
                )
                .with_delivery(Delivery::Distributed)
            },
            optimum: opt(0, 3, 16),
            derivation: "The frontend (pid 1) comes before the cache (pid 2) as a \
             sender, so in the default (receiver, sender) order of deliveries the create to \
             the store is delivered first whenever it is pending. The update overtakes it \
             only if the notice to the indexer, the indexer's notice to the cache and the \
             cache's update are all delivered while the create waits, each of them a \
             deviation: three. Every run has the same 16 steps: 3 for each of the four \
             processes and one delivery for each of the four messages.",
        },
        Bug {
            name: "deadline_fires_into_restarted_worker",
            kind: "timer_next_incarnation",
            invariant: DEADLINE_IS_OWN,
            scenario: || {
                scenario(
                    "deadline_fires_into_restarted_worker",
                    DEADLINE_IS_OWN,
                    deadline_timer,
                )
                .with_faults(one_kill(&["worker"]))
            },
            optimum: opt(1, 0, 14),
            derivation: "Without a fault the one worker only ever sees its own \
             deadline, so a kill is needed; it must restart the worker after time has \
             moved, or the old deadline is no earlier than the new one, and with no \
             deviation time first moves when the first worker's job timer fires at 8 ms. \
             Killed then, before it takes that timer's message, the worker is restarted at \
             8 ms, and the old deadline reaches the new worker at 10 ms. The run has the \
             sup's 6 steps, the first worker's start, the new worker's 2 (its start and the \
             stray deadline), the kill and four timers (the job's at 8 ms, the stray \
             deadline and the new worker's two): 14.",
        },
        Bug {
            name: "retry_timer_fires_into_restarted_conn",
            kind: "timer_next_incarnation",
            invariant: TIMERS_ARE_OWN,
            scenario: || {
                scenario(
                    "retry_timer_fires_into_restarted_conn",
                    TIMERS_ARE_OWN,
                    retry_timer,
                )
                .with_faults(one_kill(&["conn"]))
            },
            optimum: opt(1, 1, 25),
            derivation: "Without a fault there is one connection, whose retry timers \
             are all its own, so a kill is needed: of conn 1 after it arms its retry timer \
             and before its welcome cancels it. With no deviation the restarted conn 2 is \
             welcomed at time 0, before that timer fires at 5 ms, and ignores it, so one \
             jump is needed too, taken once conn 2 is registered and before it is welcomed: \
             the stray retry then comes first and conn 2 says hello again. With conn 1 \
             killed right after its hello, the run has 25 steps: the sup's 6, conn 1's 2, \
             the kill, the server's 7 (its start and three hellos answered), conn 2's 7 \
             (its start, its hello, the stray retry, a second hello, two welcomes and its \
             own retry at 10 ms) and the two timers.",
        },
        Bug {
            name: "alive_check_then_call",
            kind: "check_then_act",
            invariant: CLIENTS_ANSWERED,
            scenario: || {
                scenario("alive_check_then_call", CLIENTS_ANSWERED, alive_then_call)
                    .with_faults(one_kill(&["pricing"]))
            },
            optimum: opt(1, 0, 5),
            derivation: "Without a fault the pricing server never dies, so a kill is \
             needed, and no deviation: killed right after the client's alive check, the \
             server never answers the request the client then sends, and the client waits \
             forever. The run is the server's start, the client's 3 steps (its start, the \
             check and the request) and the kill: 5.",
        },
        Bug {
            name: "singleton_started_twice",
            kind: "check_then_act",
            invariant: ONE_SINGLETON,
            scenario: || scenario("singleton_started_twice", ONE_SINGLETON, singleton_twice),
            optimum: opt(0, 1, 14),
            derivation: "By default the first starter looks, writes its row and starts \
             the singleton before the second looks, which then finds the row, so the \
             default passes. One preemption suffices: the second starter runs between the \
             first one's lookup and its write, and both start a singleton. Every such run \
             has 14 steps: the registry's 4 (its start, the table and two spawns), each \
             starter's 4 (its start, the lookup, the write and the spawn) and each \
             singleton's start.",
        },
        Bug {
            name: "monitor_after_spawn",
            kind: "monitor_window",
            invariant: SUCCESS_HAS_RESULT,
            scenario: || {
                scenario(
                    "monitor_after_spawn",
                    SUCCESS_HAS_RESULT,
                    spawn_then_monitor,
                )
                .with_faults(one_kill(&["job"]))
            },
            optimum: opt(1, 0, 6),
            derivation: "Without a fault the job always writes its result before it \
             exits, so a kill is needed, and no deviation: killed between its spawn and the \
             parent's monitor (on one node the job cannot run before that monitor), it \
             makes the monitor answer noproc, which the parent counts a success. The run is \
             the parent's 5 steps (its start, the table, the spawn, the monitor and the \
             DOWN) and the kill, the job never running: 6.",
        },
        Bug {
            name: "demonitor_without_flush",
            kind: "monitor_window",
            invariant: SECOND_CALL_ANSWERED,
            scenario: || {
                scenario(
                    "demonitor_without_flush",
                    SECOND_CALL_ANSWERED,
                    demonitor_no_flush,
                )
                .with_faults(one_kill(&["server_a"]))
            },
            optimum: opt(1, 0, 16),
            derivation: "Without a fault no DOWN ever reaches the client, so a kill is \
             needed, and no deviation: server_a killed after it replies and before the \
             client's demonitor leaves its DOWN in the mailbox, and the client's second \
             call takes it for server_b's. The run is each server's 3 steps (its start, one \
             request taken and answered), the client's 9 (its start and, per call, the \
             monitor, the request, the reply and the demonitor) and the kill: 16.",
        },
        Bug {
            name: "demonitor_without_flush_between_nodes",
            kind: "monitor_window",
            invariant: SECOND_CALL_ANSWERED,
            scenario: || {
                scenario(
                    "demonitor_without_flush_between_nodes",
                    SECOND_CALL_ANSWERED,
                    demonitor_no_flush,
                )
                .with_faults(one_kill(&["server_a"]))
                .with_delivery(Delivery::Distributed)
            },
            optimum: opt(1, 1, 24),
            derivation: "Between nodes a DOWN travels, and one that arrives after the \
             demonitor is dropped, so beside the kill of server_a (after its reply, before \
             the client's demonitor) one deviation is needed: delivering the DOWN while the \
             client could run on to its demonitor, which it does by default. Without the \
             fault there is no DOWN, so one fault and one deviation are the least. The run \
             has the local run's 16 steps and 8 deliveries (per server the monitor, the \
             request and the reply, server_a's DOWN, and the demonitor of server_b, as that \
             of server_a sends nothing once its monitor has fired): 24.",
        },
    ]
}
