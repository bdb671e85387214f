//! Conformance tests for OTP_MODEL.md part F (supervisors, rules 32–41), part G (tasks,
//! rules 42–44) and part I (timers and tables, rules 48–49).
//!
//! Observations come from a [`Log`] that processes append to and from the world after the
//! run. Most tests run with random scheduling but without random time jumps, so that
//! virtual time only moves when nothing else can run: [`quiesce`] then means "wait until
//! the rest of the world has settled", and timings (shutdown timeouts, intensity windows)
//! are exact.

use crate::common::*;
use fsim::otp::gen_server::{self, CallReply, GenServer, Init, Next, StartError};
use fsim::otp::supervisor::{self, ChildSpec, Restart, Shutdown, Strategy, SupReply, SupSpec};
use fsim::otp::task;
use fsim::sim::*;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Seeds per test.
const SEEDS: u64 = 200;

// ---- harness --------------------------------------------------------------------------

/// Runs the world `setup` builds under the random chooser with seed `seed`; with `jumps`
/// false, virtual time moves only when nothing else is enabled. `setup` gets the log and a
/// [`Pids`] to record pids in; returns the finished `Sim` (for `world()`), the log and the
/// pids.
fn sim_run(seed: u64, jumps: bool, setup: impl FnOnce(&mut Sim, Log, Pids)) -> (Sim, Log, Pids) {
    let chooser = RandomChooser::new(seed).with_rates(0, if jumps { 10_000 } else { 0 });
    let pids = Pids::default();
    let p = pids.clone();
    let (sim, _, log, ()) = run_checked(seed, Config::default(), chooser, |sim, log| {
        setup(sim, log.clone(), p)
    });
    (sim, log, pids)
}

/// Waits until `name` is registered to a pid other than `old`, and returns it.
async fn await_new(cx: &Cx, name: &str, old: Option<Pid>) -> Pid {
    loop {
        if let Some(p) = cx.whereis(name).await
            && Some(p) != old
        {
            return p;
        }
    }
}

/// Waits for the `EXIT` message from `pid` (the caller traps exits).
async fn await_exit(cx: &Cx, pid: Pid) -> ExitReason {
    let env = cx
        .recv_match(Matcher::when(move |e| {
            e.from == pid && e.exit_reason().is_some()
        }))
        .await;
    env.exit_reason().cloned().expect("matched an EXIT")
}

// ---- a configurable worker ------------------------------------------------------------

type InitHook = Rc<dyn Fn(Cx) -> Pin<Box<dyn Future<Output = Init>>>>;

fn hook<F, Fut>(f: F) -> InitHook
where
    F: Fn(Cx) -> Fut + 'static,
    Fut: Future<Output = Init> + 'static,
{
    Rc::new(move |cx| Box::pin(f(cx)))
}

#[derive(Debug)]
enum Cmd {
    /// Stop from a callback with this reason.
    Exit(ExitReason),
}

#[derive(Debug)]
struct Tick;
#[derive(Debug)]
struct Go;
#[derive(Debug)]
struct Ping;
#[derive(Debug)]
struct Blocked(Pid);
#[derive(Debug)]
struct Failing;
#[derive(Debug)]
struct TaskPid(Pid);
#[derive(Debug)]
struct Die(ExitReason);

/// A GenServer registered under its id. Logs `init ID` when `init` starts, `term ID
/// REASON` when `terminate` starts (and `term ID done` after a slow stop), `tick ID PID`
/// for each `Tick`. With `trap` it traps exits, so a supervisor's `shutdown` runs its
/// `terminate`.
#[derive(Clone)]
struct Worker {
    id: &'static str,
    log: Log,
    pids: Pids,
    trap: bool,
    hook: Option<InitHook>,
    /// `terminate` takes this long; `u64::MAX`: forever.
    stop_ms: Option<u64>,
}

impl Worker {
    fn new(id: &'static str, log: &Log, pids: &Pids) -> Self {
        Worker {
            id,
            log: log.clone(),
            pids: pids.clone(),
            trap: false,
            hook: None,
            stop_ms: None,
        }
    }
    fn trapping(mut self) -> Self {
        self.trap = true;
        self
    }
    fn with_hook(mut self, h: InitHook) -> Self {
        self.hook = Some(h);
        self
    }
    fn slow_stop(mut self, ms: u64) -> Self {
        self.trap = true;
        self.stop_ms = Some(ms);
        self
    }
    /// A permanent worker spec, registered under the id.
    fn spec(self) -> ChildSpec {
        let id = self.id;
        ChildSpec::server(id, Some(id.into()), move || self.clone())
    }
}

impl GenServer for Worker {
    type Call = ();
    type Reply = Pid;
    type Cast = Cmd;

    async fn init(&mut self, cx: &Cx) -> Init {
        if self.trap {
            cx.trap_exit(true);
        }
        self.log.push(format!("init {}", self.id));
        self.pids.set(self.id, cx.me());
        match &self.hook {
            Some(h) => h(cx.clone()).await,
            None => Init::Ok,
        }
    }

    async fn handle_call(
        &mut self,
        cx: &Cx,
        _req: (),
        _from: gen_server::Caller,
    ) -> CallReply<Pid> {
        CallReply::Reply(cx.me())
    }

    async fn handle_cast(&mut self, _cx: &Cx, msg: Cmd) -> Next {
        match msg {
            Cmd::Exit(r) => Next::Stop(r),
        }
    }

    async fn handle_info(&mut self, cx: &Cx, msg: Envelope) -> Next {
        if msg.is::<Tick>() {
            self.log
                .push(format!("tick {} {} at {}", self.id, cx.me(), cx.now_ms()));
        }
        Next::Continue
    }

    async fn terminate(&mut self, cx: &Cx, reason: &ExitReason) {
        self.log.push(format!("term {} {reason:?}", self.id));
        match self.stop_ms {
            None => {}
            Some(u64::MAX) => forever(cx).await,
            Some(ms) => {
                cx.sleep(ms).await;
                self.log.push(format!("term {} done", self.id));
            }
        }
    }
}

fn sup_spec(strategy: Strategy, children: Vec<ChildSpec>) -> SupSpec {
    SupSpec::new(strategy, children)
}

async fn exit_child(cx: &Cx, name: &str, reason: ExitReason) {
    gen_server::cast(cx, name, Cmd::Exit(reason)).await;
}

/// `which_children` lists children newest first, as OTP does (rule 32's test checks
/// that); the other tests read them in start order.
async fn kids_in_start_order(cx: &Cx, sup: Pid) -> Vec<(String, Option<Pid>)> {
    let mut kids = supervisor::which_children(cx, sup).await;
    kids.reverse();
    kids
}

fn kids_fmt(kids: &[(String, Option<Pid>)]) -> String {
    format!("{kids:?}")
}

// ---- rule 32: boot order -------------------------------------------------------------

#[test]
fn r32_children_start_in_order_each_synchronously_before_start_link_returns() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let ids: [&'static str; 3] = ["a", "b", "c"];
                let children = ids
                    .iter()
                    .enumerate()
                    .map(|(i, &id)| {
                        let prev = i.checked_sub(1).map(|j| ids[j]);
                        let l = log.clone();
                        Worker::new(id, &log, &p)
                            .with_hook(hook(move |cx| {
                                let l = l.clone();
                                async move {
                                    if let Some(prev) = prev {
                                        let up = cx.whereis(prev).await.is_some();
                                        l.push(format!("{id} sees {prev} registered: {up}"));
                                    }
                                    // a slow init: other processes get to run meanwhile
                                    for _ in 0..3 {
                                        cx.yield_now().await;
                                    }
                                    l.push(format!("end {id}"));
                                    Init::Ok
                                }
                            }))
                            .spec()
                    })
                    .collect();
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .expect("boot succeeds");
                p.set("sup", sup);
                log.push("start_link returned");
                let kids = supervisor::which_children(&cx, sup).await;
                // OTP lists children newest first (checked on OTP 25: [c, b, a]).
                let ok = kids
                    == ids
                        .iter()
                        .rev()
                        .map(|id| (id.to_string(), Some(p.get(id))))
                        .collect::<Vec<_>>();
                log.push(format!(
                    "which_children in reverse start order with live pids: {ok}"
                ));
                forever(&cx).await; // keep the tree (linked to us) up for inspection
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "init a",
                "end a",
                "init b",
                "b sees a registered: true",
                "end b",
                "init c",
                "c sees b registered: true",
                "end c",
                "start_link returned",
                "which_children in reverse start order with live pids: true",
            ],
            "seed {seed}"
        );
        let w = sim.world();
        let sup = pids.get("sup");
        assert!(w.traps_exits(sup), "seed {seed}: a supervisor traps exits");
        for id in ["a", "b", "c"] {
            assert!(w.is_alive(pids.get(id)), "seed {seed}: {id} alive");
            assert_eq!(w.parent(pids.get(id)), Some(sup), "seed {seed}");
            assert!(w.links(pids.get(id)).contains(&sup), "seed {seed}");
        }
    }
}

// ---- rule 33: boot failure -----------------------------------------------------------

#[test]
fn r33_boot_failure_stops_started_children_in_reverse_and_reports_failed_to_start_child() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                cx.trap_exit(true);
                let children = vec![
                    Worker::new("a", &log, &p).trapping().spec(),
                    Worker::new("b", &log, &p).trapping().spec(),
                    Worker::new("c", &log, &p)
                        .with_hook(hook(|_cx| async { Init::Stop(custom("boom")) }))
                        .spec(),
                    Worker::new("d", &log, &p).spec(),
                ];
                let r = supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                    .await;
                log.push(format!("result {r:?}"));
            });
        });
        let expected = Err::<Pid, _>(StartError::Failed(ExitReason::ShutdownWith(
            "{failed_to_start_child, c, boom}".into(),
        )));
        assert_eq!(
            log.lines(),
            vec![
                "init a".to_string(),
                "init b".into(),
                "init c".into(),
                "term b shutdown".into(),
                "term a shutdown".into(),
                format!("result {expected:?}"),
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("a")), Some(&ExitReason::Shutdown));
        assert_eq!(w.exit_reason(pids.get("b")), Some(&ExitReason::Shutdown));
        // the supervisor is the parent of every child: it exited with the boot error
        let sup = w.parent(pids.get("a")).unwrap();
        assert_eq!(
            w.exit_reason(sup),
            Some(&ExitReason::ShutdownWith(
                "{failed_to_start_child, c, boom}".into()
            )),
            "seed {seed}"
        );
        assert_eq!(w.live_count(), 0, "seed {seed}: nothing left running");
    }
}

#[test]
fn r33_already_started_child_aborts_the_boot() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let squatter = cx
                    .spawn(move |scx| async move {
                        scx.register("b").await.expect("free");
                        scx.send(me, Go).await;
                        forever(&scx).await;
                    })
                    .await;
                p.set("squatter", squatter);
                cx.recv_type::<Go>().await;
                let children = vec![
                    Worker::new("a", &log, &p).trapping().spec(),
                    Worker::new("b", &log, &p).spec(),
                    Worker::new("c", &log, &p).spec(),
                ];
                let r = supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                    .await;
                log.push(format!("result {r:?}"));
            });
        });
        let squatter = pids.get("squatter");
        let expected = Err::<Pid, _>(StartError::Failed(ExitReason::ShutdownWith(format!(
            "{{failed_to_start_child, b, {{already_started, {squatter}}}}}"
        ))));
        assert_eq!(
            log.lines(),
            vec![
                "init a".to_string(),
                "term a shutdown".into(),
                format!("result {expected:?}"),
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert!(
            w.is_alive(squatter),
            "seed {seed}: the name holder is untouched"
        );
        assert_eq!(w.whereis("b"), Some(squatter));
    }
}

// ---- rule 34: restart types ----------------------------------------------------------

#[test]
fn r34_permanent_child_is_restarted_after_any_exit() {
    let cases = [
        ("p_normal", ExitReason::Normal),
        ("p_shutdown", ExitReason::Shutdown),
        ("p_shutdown_with", ExitReason::ShutdownWith("bye".into())),
        ("p_crash", custom("crash")),
    ];
    for seed in 0..SEEDS {
        let cs = cases.clone();
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = cs
                    .iter()
                    .map(|(id, _)| Worker::new(id, &log, &p).spec())
                    .collect();
                let mut spec = sup_spec(Strategy::OneForOne, children);
                spec.max_restarts = 100; // this test is about restart types only
                let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                for (id, _) in &cs {
                    p.set(&format!("{id}#1"), p.get(id));
                }
                for (id, r) in cs {
                    exit_child(&cx, id, r).await;
                }
                quiesce(&cx).await;
                log.push(kids_fmt(&kids_in_start_order(&cx, sup).await));
                forever(&cx).await;
            });
        });
        let w = sim.world();
        let kids: Vec<(String, Option<Pid>)> = cases
            .iter()
            .map(|(id, _)| (id.to_string(), Some(pids.get(id))))
            .collect();
        assert_eq!(log.lines().last().unwrap(), &kids_fmt(&kids), "seed {seed}");
        for (id, reason) in &cases {
            assert_eq!(log.count(&format!("init {id}")), 2, "seed {seed}: {id}");
            let old = pids.get(&format!("{id}#1"));
            assert_ne!(old, pids.get(id), "seed {seed}: {id} is a new process");
            assert_eq!(w.exit_reason(old), Some(reason), "seed {seed}: {id}");
            assert!(w.is_alive(pids.get(id)), "seed {seed}: {id}");
        }
    }
}

#[test]
fn r34_transient_child_is_restarted_only_after_an_abnormal_exit() {
    // (id, reason, restarted?)
    let cases = [
        ("t_normal", ExitReason::Normal, false),
        ("t_shutdown", ExitReason::Shutdown, false),
        (
            "t_shutdown_with",
            ExitReason::ShutdownWith("bye".into()),
            false,
        ),
        ("t_crash", custom("crash"), true),
        ("t_killed", ExitReason::Kill, true),
    ];
    for seed in 0..SEEDS {
        let cs = cases.clone();
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = cs
                    .iter()
                    .map(|(id, _, _)| Worker::new(id, &log, &p).spec().restart(Restart::Transient))
                    .collect();
                let mut spec = sup_spec(Strategy::OneForOne, children);
                spec.max_restarts = 100;
                let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                for (id, _, _) in &cs {
                    p.set(&format!("{id}#1"), p.get(id));
                }
                for (id, r, _) in cs {
                    if r == ExitReason::Kill {
                        cx.exit_signal(p.get(id), ExitReason::Kill).await;
                    } else {
                        exit_child(&cx, id, r).await;
                    }
                }
                quiesce(&cx).await;
                log.push(kids_fmt(&kids_in_start_order(&cx, sup).await));
                forever(&cx).await;
            });
        });
        let kids: Vec<(String, Option<Pid>)> = cases
            .iter()
            .map(|(id, _, restarted)| (id.to_string(), restarted.then(|| pids.get(id))))
            .collect();
        assert_eq!(log.lines().last().unwrap(), &kids_fmt(&kids), "seed {seed}");
        let w = sim.world();
        for (id, _, restarted) in &cases {
            let inits = if *restarted { 2 } else { 1 };
            assert_eq!(log.count(&format!("init {id}")), inits, "seed {seed}: {id}");
            assert_eq!(w.whereis(id).is_some(), *restarted, "seed {seed}: {id}");
        }
    }
}

#[test]
fn r34_temporary_child_is_never_restarted_and_its_spec_is_dropped() {
    for seed in 0..SEEDS {
        let (sim, log, _) = sim_run(seed, false, move |sim, log, _| {
            let pids = Pids::default();
            sim.spawn("test", move |cx| async move {
                let children = vec![
                    Worker::new("keep", &log, &pids).spec(),
                    Worker::new("tmp_crash", &log, &pids)
                        .spec()
                        .restart(Restart::Temporary),
                    Worker::new("tmp_normal", &log, &pids)
                        .spec()
                        .restart(Restart::Temporary),
                ];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                exit_child(&cx, "tmp_crash", custom("crash")).await;
                exit_child(&cx, "tmp_normal", ExitReason::Normal).await;
                quiesce(&cx).await;
                let kids = kids_in_start_order(&cx, sup).await;
                log.push(format!(
                    "ids {:?}",
                    kids.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>()
                ));
                let r = supervisor::restart_child(&cx, sup, "tmp_crash").await;
                log.push(format!("restart_child {r:?}"));
            });
        });
        assert_eq!(log.count("init tmp_crash"), 1, "seed {seed}");
        assert_eq!(log.count("init tmp_normal"), 1, "seed {seed}");
        assert_eq!(
            log.starting_with("ids"),
            vec![r#"ids ["keep"]"#],
            "seed {seed}"
        );
        assert_eq!(
            log.starting_with("restart_child"),
            vec![format!(
                "restart_child {:?}",
                SupReply::Error("not_found".into())
            )],
            "seed {seed}"
        );
        assert_eq!(sim.world().whereis("tmp_crash"), None);
    }
}

// ---- rule 35: strategies ---------------------------------------------------------------

/// Boots trapping children a, b, c, d under `strategy`, makes `b` crash, and returns the
/// log plus the pids before and after.
fn strategy_run(seed: u64, strategy: Strategy) -> (Vec<String>, Vec<Pid>, Vec<Pid>) {
    let before = Rc::new(RefCell::new(Vec::new()));
    let after = Rc::new(RefCell::new(Vec::new()));
    let (b2, a2) = (before.clone(), after.clone());
    let (sim, log, _) = sim_run(seed, false, move |sim, log, _| {
        sim.spawn("test", move |cx| async move {
            let pids = Pids::default();
            let children = ["a", "b", "c", "d"]
                .into_iter()
                .map(|id| Worker::new(id, &log, &pids).trapping().spec())
                .collect();
            let sup = supervisor::start_link(&cx, sup_spec(strategy, children), None)
                .await
                .unwrap();
            let pids_of = |kids: Vec<(String, Option<Pid>)>| {
                kids.into_iter()
                    .map(|(_, p)| p.expect("running"))
                    .collect::<Vec<_>>()
            };
            *b2.borrow_mut() = pids_of(kids_in_start_order(&cx, sup).await);
            exit_child(&cx, "b", custom("boom")).await;
            quiesce(&cx).await;
            *a2.borrow_mut() = pids_of(kids_in_start_order(&cx, sup).await);
            forever(&cx).await;
        });
    });
    assert_eq!(
        sim.world().live_count(),
        6,
        "seed {seed}: test, sup, 4 children"
    );
    let (b, a) = (before.borrow().clone(), after.borrow().clone());
    (log.lines(), b, a)
}

const BOOT: [&str; 4] = ["init a", "init b", "init c", "init d"];

#[test]
fn r35_one_for_one_restarts_only_the_failed_child() {
    for seed in 0..SEEDS {
        let (log, before, after) = strategy_run(seed, Strategy::OneForOne);
        let mut expected = BOOT.to_vec();
        expected.extend(["term b boom", "init b"]);
        assert_eq!(log, expected, "seed {seed}");
        assert_eq!(before[0], after[0], "seed {seed}");
        assert_ne!(before[1], after[1], "seed {seed}");
        assert_eq!(before[2..], after[2..], "seed {seed}");
    }
}

#[test]
fn r35_one_for_all_stops_others_in_reverse_then_restarts_all_in_order() {
    for seed in 0..SEEDS {
        let (log, before, after) = strategy_run(seed, Strategy::OneForAll);
        let mut expected = BOOT.to_vec();
        expected.extend([
            "term b boom",
            "term d shutdown",
            "term c shutdown",
            "term a shutdown",
        ]);
        expected.extend(BOOT);
        assert_eq!(log, expected, "seed {seed}");
        for i in 0..4 {
            assert_ne!(before[i], after[i], "seed {seed}: child {i} restarted");
        }
    }
}

#[test]
fn r35_rest_for_one_stops_later_children_in_reverse_then_restarts_in_order() {
    for seed in 0..SEEDS {
        let (log, before, after) = strategy_run(seed, Strategy::RestForOne);
        let mut expected = BOOT.to_vec();
        expected.extend([
            "term b boom",
            "term d shutdown",
            "term c shutdown",
            "init b",
            "init c",
            "init d",
        ]);
        assert_eq!(log, expected, "seed {seed}");
        assert_eq!(before[0], after[0], "seed {seed}: a untouched");
        for i in 1..4 {
            assert_ne!(before[i], after[i], "seed {seed}: child {i} restarted");
        }
    }
}

// ---- rule 36: intensity --------------------------------------------------------------

/// Boots a (plain), b and c (trapping) under one_for_one with default intensity, then
/// kills `a` at each time in `kill_at` (ms), waiting for its restart in between. Returns
/// the sup's exit reason as seen by the trapping parent (if it exited), and the log.
fn intensity_run(seed: u64, kill_at: &'static [u64]) -> (Option<ExitReason>, Log, Sim, Pids) {
    let pids = Pids::default();
    let p = pids.clone();
    let sup_exit = Rc::new(RefCell::new(None));
    let se = sup_exit.clone();
    let (sim, log, _) = sim_run(seed, false, move |sim, log, _| {
        sim.spawn("test", move |cx| async move {
            cx.trap_exit(true);
            let children = vec![
                Worker::new("a", &log, &p).spec(),
                Worker::new("b", &log, &p).trapping().spec(),
                Worker::new("c", &log, &p).trapping().spec(),
            ];
            let sup = supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                .await
                .unwrap();
            p.set("sup", sup);
            let mut last = None;
            for (i, &t) in kill_at.iter().enumerate() {
                cx.sleep(t - cx.now_ms()).await;
                let a = if i == 0 {
                    cx.whereis("a").await.unwrap()
                } else {
                    // a restart, or the supervisor's end
                    let sup_done = Matcher::when(move |e| e.from == sup);
                    loop {
                        if let Some(p) = cx.whereis("a").await
                            && Some(p) != last
                        {
                            break p;
                        }
                        if cx.recv_timeout(sup_done.clone(), 0).await.is_some() {
                            log.push("supervisor gone before the next kill");
                            return;
                        }
                    }
                };
                last = Some(a);
                log.push(format!("kill a at {}", cx.now_ms()));
                cx.exit_signal(a, ExitReason::Kill).await;
            }
            // wait for the supervisor's EXIT, or quiescence
            let got = cx
                .recv_timeout(Matcher::when(move |e| e.from == sup), 100_000)
                .await;
            *se.borrow_mut() = got.and_then(|e| e.exit_reason().cloned());
            log.push(format!("done at {}", cx.now_ms()));
            forever(&cx).await;
        });
    });
    let r = sup_exit.borrow().clone();
    (r, log, sim, pids)
}

#[test]
fn r36_three_restarts_in_five_seconds_are_allowed() {
    for seed in 0..SEEDS {
        let (sup_exit, log, sim, pids) = intensity_run(seed, &[0, 0, 0]);
        assert_eq!(sup_exit, None, "seed {seed}: supervisor survives");
        assert_eq!(log.count("init a"), 4, "seed {seed}");
        assert!(log.starting_with("term").is_empty(), "seed {seed}");
        let w = sim.world();
        assert!(w.is_alive(pids.get("sup")), "seed {seed}");
        assert!(w.is_alive(pids.get("a")), "seed {seed}");
    }
}

#[test]
fn r36_fourth_restart_in_five_seconds_kills_supervisor() {
    for seed in 0..SEEDS {
        let (sup_exit, log, sim, pids) = intensity_run(seed, &[0, 0, 0, 0]);
        assert_eq!(sup_exit, Some(ExitReason::Shutdown), "seed {seed}");
        assert_eq!(log.count("init a"), 4, "seed {seed}: 3 restarts, not 4");
        // the other children are stopped, in reverse order, before the supervisor exits
        assert_eq!(
            log.starting_with("term"),
            vec!["term c shutdown", "term b shutdown"],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("sup")), Some(&ExitReason::Shutdown));
        for id in ["a", "b", "c"] {
            assert!(!w.is_alive(pids.get(id)), "seed {seed}: {id} stopped");
        }
        assert_eq!(w.exit_reason(pids.get("b")), Some(&ExitReason::Shutdown));
        assert_eq!(w.exit_reason(pids.get("c")), Some(&ExitReason::Shutdown));
    }
}

#[test]
fn r36_restarts_older_than_the_window_do_not_count() {
    for seed in 0..SEEDS {
        // restarts at 0, 2000, 4000, 6000: never more than 3 within 5 s
        let (sup_exit, log, sim, pids) = intensity_run(seed, &[0, 2000, 4000, 6000]);
        assert_eq!(sup_exit, None, "seed {seed}: supervisor survives");
        assert_eq!(log.count("init a"), 5, "seed {seed}");
        assert!(sim.world().is_alive(pids.get("sup")), "seed {seed}");
        // ... but a fifth at 6000 makes 4 within (1000, 6000]: 2000, 4000, 6000, 6000
        let (sup_exit, log, _, _) = intensity_run(seed, &[0, 2000, 4000, 6000, 6000]);
        assert_eq!(sup_exit, Some(ExitReason::Shutdown), "seed {seed}");
        assert_eq!(log.count("init a"), 5, "seed {seed}");
    }
}

#[test]
fn r36_restart_exactly_max_seconds_after_three_still_counts() {
    for seed in 0..SEEDS {
        // OTP: restarts at 0 s, 0 s, 0 s, 5 s -> 5 - 0 =< 5, four in the period: shutdown.
        let (sup_exit, log, _, _) = intensity_run(seed, &[0, 0, 0, 5000]);
        assert_eq!(sup_exit, Some(ExitReason::Shutdown), "seed {seed}");
        assert_eq!(log.count("init a"), 4, "seed {seed}");
    }
}

#[test]
fn r36_restart_times_are_whole_seconds() {
    for seed in 0..SEEDS {
        // supervisor.erl stamps restarts with erlang:monotonic_time(second): at 5.9 s the
        // restarts of second 0 are still within 5 s (5 =< 0 + 5), so the fourth stops it,
        // though 5.9 s have passed; at 6.0 s they have left the window.
        let (sup_exit, _, _, _) = intensity_run(seed, &[0, 0, 0, 5900]);
        assert_eq!(sup_exit, Some(ExitReason::Shutdown), "seed {seed}");
        let (sup_exit, log, _, _) = intensity_run(seed, &[0, 0, 0, 6000]);
        assert_eq!(sup_exit, None, "seed {seed}");
        assert_eq!(log.count("init a"), 5, "seed {seed}");
    }
}

// ---- rule 37: failed restarts --------------------------------------------------------

/// A hook that fails `init` while `fail` is set, telling the test each time.
fn failing_hook(fail: Rc<Cell<bool>>, notify: Rc<Cell<Option<Pid>>>, log: Log) -> InitHook {
    hook(move |cx| {
        let (fail, notify, log) = (fail.clone(), notify.clone(), log.clone());
        async move {
            if !fail.get() {
                return Init::Ok;
            }
            log.push("init a failed");
            if let Some(t) = notify.get() {
                cx.send(t, Failing).await;
            }
            Init::Stop(custom("cannot start"))
        }
    })
}

#[test]
fn r37_failed_restart_is_retried_via_message_with_other_messages_handled_between() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let fail = Rc::new(Cell::new(false));
                let notify = Rc::new(Cell::new(None));
                let children = vec![
                    Worker::new("a", &log, &p)
                        .with_hook(failing_hook(fail.clone(), notify.clone(), log.clone()))
                        .spec(),
                ];
                let mut spec = sup_spec(Strategy::OneForOne, children);
                spec.max_restarts = 1_000; // this test is not about intensity
                let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                p.set("sup", sup);
                let a1 = cx.whereis("a").await.unwrap();
                fail.set(true);
                notify.set(Some(cx.me()));
                cx.exit_signal(a1, ExitReason::Kill).await;
                cx.recv_type::<Failing>().await;
                // The supervisor keeps retrying, yet it answers a call in between: it
                // sees `a` not running.
                let kids = kids_in_start_order(&cx, sup).await;
                log.push(format!("between retries {}", kids_fmt(&kids)));
                fail.set(false);
                let a2 = await_new(&cx, "a", Some(a1)).await;
                log.push(format!("recovered {}", a2 != a1));
                forever(&cx).await;
            });
        });
        assert_eq!(
            log.starting_with("between retries"),
            vec![format!(
                "between retries {}",
                kids_fmt(&[("a".into(), None)])
            )],
            "seed {seed}"
        );
        assert!(log.contains("recovered true"), "seed {seed}");
        assert!(log.count("init a failed") >= 1, "seed {seed}");
        let w = sim.world();
        assert!(w.is_alive(pids.get("sup")), "seed {seed}");
        assert!(w.is_alive(pids.get("a")), "seed {seed}");
    }
}

#[test]
fn r37_each_retry_counts_toward_intensity() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                cx.trap_exit(true);
                let fail = Rc::new(Cell::new(false));
                let children = vec![
                    Worker::new("a", &log, &p)
                        .with_hook(failing_hook(
                            fail.clone(),
                            Rc::new(Cell::new(None)),
                            log.clone(),
                        ))
                        .spec(),
                    Worker::new("b", &log, &p).trapping().spec(),
                ];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                p.set("sup", sup);
                fail.set(true);
                cx.exit_signal(cx.whereis("a").await.unwrap(), ExitReason::Kill)
                    .await;
                let r = await_exit(&cx, sup).await;
                log.push(format!("sup exit {r:?} at {}", cx.now_ms()));
            });
        });
        // one crash, then attempts 1..3 fail; the 4th attempt exceeds 3 restarts in 5 s
        assert_eq!(log.count("init a failed"), 3, "seed {seed}");
        assert_eq!(
            log.starting_with("term"),
            vec!["term b shutdown"],
            "seed {seed}"
        );
        assert_eq!(
            log.lines().last().unwrap(),
            "sup exit shutdown at 0",
            "seed {seed}"
        );
        assert_eq!(
            sim.world().exit_reason(pids.get("sup")),
            Some(&ExitReason::Shutdown)
        );
    }
}

// ---- rule 38: the supervisor is blocked during a restart; stray EXITs -----------------

#[test]
fn r38_supervisor_is_blocked_during_a_restarted_childs_init() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let block = Rc::new(Cell::new(false));
                let notify: Rc<Cell<Option<Pid>>> = Rc::new(Cell::new(None));
                let (bl, no) = (block.clone(), notify.clone());
                let children = vec![
                    Worker::new("a", &log, &p)
                        .with_hook(hook(move |cx| {
                            let (bl, no) = (bl.clone(), no.clone());
                            async move {
                                if bl.get() {
                                    cx.send(no.get().unwrap(), Blocked(cx.me())).await;
                                    cx.recv_type::<Go>().await;
                                }
                                Init::Ok
                            }
                        }))
                        .spec(),
                ];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                p.set("sup", sup);
                block.set(true);
                notify.set(Some(cx.me()));
                cx.exit_signal(cx.whereis("a").await.unwrap(), ExitReason::Kill)
                    .await;
                let (_, Blocked(a2)) = cx.recv_type::<Blocked>().await;
                p.set("a2", a2);
                let l = log.clone();
                cx.spawn(move |ccx| async move {
                    let kids = kids_in_start_order(&ccx, sup).await;
                    l.push(format!("reply {}", kids_fmt(&kids)));
                })
                .await;
                quiesce(&cx).await;
                let queued = cx.world().mailbox_len(sup);
                log.push(format!(
                    "released at quiescence, call queued: {}",
                    queued >= 1
                ));
                cx.send(a2, Go).await;
                forever(&cx).await;
            });
        });
        let a2 = pids.get("a2");
        assert_eq!(
            &log.lines()[2..],
            &[
                "released at quiescence, call queued: true".to_string(),
                format!("reply {}", kids_fmt(&[("a".into(), Some(a2))])),
            ],
            "seed {seed}"
        );
        assert!(sim.world().is_alive(a2), "seed {seed}");
    }
}

#[test]
fn r38_exits_from_processes_that_are_not_children_are_ignored() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = vec![Worker::new("a", &log, &p).spec()];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                p.set("sup", sup);
                let before = kids_in_start_order(&cx, sup).await;
                // a linked stranger dies abnormally
                cx.spawn(move |scx| async move {
                    let _ = scx.link(sup).await;
                    custom("stranger crashed")
                })
                .await;
                // another one sends exit signals to the supervisor
                cx.spawn(move |scx| async move {
                    scx.exit_signal(sup, custom("go away")).await;
                    scx.exit_signal(sup, ExitReason::Shutdown).await;
                })
                .await;
                quiesce(&cx).await;
                let after = kids_in_start_order(&cx, sup).await;
                log.push(format!("unchanged {}", before == after));
                forever(&cx).await;
            });
        });
        assert!(log.contains("unchanged true"), "seed {seed}");
        assert_eq!(log.count("init a"), 1, "seed {seed}");
        let w = sim.world();
        assert!(w.is_alive(pids.get("sup")), "seed {seed}");
        assert!(w.is_alive(pids.get("a")), "seed {seed}");
    }
}

// ---- rule 39: shutdown -----------------------------------------------------------------

#[test]
fn r39_shutdown_sends_shutdown_then_kills_after_the_timeout() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = vec![
                    Worker::new("slow", &log, &p)
                        .slow_stop(u64::MAX)
                        .spec()
                        .shutdown(Shutdown::Timeout(1000)),
                    Worker::new("fast", &log, &p)
                        .trapping()
                        .spec()
                        .shutdown(Shutdown::Timeout(1000)),
                ];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                let r = supervisor::terminate_child(&cx, sup, "slow").await;
                log.push(format!("slow {r:?} at {}", cx.now_ms()));
                let r = supervisor::terminate_child(&cx, sup, "fast").await;
                log.push(format!("fast {r:?} at {}", cx.now_ms()));
                quiesce(&cx).await;
                let kids = kids_in_start_order(&cx, sup).await;
                log.push(kids_fmt(&kids));
                forever(&cx).await;
            });
        });
        assert_eq!(
            &log.lines()[2..],
            &[
                "term slow shutdown".to_string(),
                "slow Ok at 1000".into(),
                "term fast shutdown".into(),
                "fast Ok at 1000".into(),
                kids_fmt(&[("slow".into(), None), ("fast".into(), None)]),
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("slow")), Some(&ExitReason::Killed));
        assert_eq!(w.exit_reason(pids.get("fast")), Some(&ExitReason::Shutdown));
    }
}

#[test]
fn r39_brutal_kill_kills_without_terminate() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = vec![
                    Worker::new("a", &log, &p)
                        .trapping()
                        .spec()
                        .shutdown(Shutdown::BrutalKill),
                ];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                let r = supervisor::terminate_child(&cx, sup, "a").await;
                log.push(format!("a {r:?} at {}", cx.now_ms()));
            });
        });
        assert_eq!(log.lines(), vec!["init a", "a Ok at 0"], "seed {seed}");
        assert_eq!(
            sim.world().exit_reason(pids.get("a")),
            Some(&ExitReason::Killed)
        );
    }
}

#[test]
fn r39_default_shutdown_is_5000_ms_for_workers_and_infinity_for_supervisors() {
    assert_eq!(
        ChildSpec::new("w", |_cx| async { Err(StartError::Ignore) }).shutdown,
        Shutdown::Timeout(5000)
    );
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                // the grandchild takes 8 s to stop, and may (its own timeout is 10 s)
                let sub = sup_spec(
                    Strategy::OneForOne,
                    vec![
                        Worker::new("gc", &log, &p)
                            .slow_stop(8000)
                            .spec()
                            .shutdown(Shutdown::Timeout(10_000)),
                    ],
                );
                let children = vec![
                    Worker::new("w", &log, &p).slow_stop(u64::MAX).spec(),
                    ChildSpec::supervisor("sub", sub, Some("sub".into())),
                ];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                p.set("sub", cx.whereis("sub").await.unwrap());
                let r = supervisor::terminate_child(&cx, sup, "w").await;
                log.push(format!("w {r:?} at {}", cx.now_ms()));
                let t0 = cx.now_ms();
                let r = supervisor::terminate_child(&cx, sup, "sub").await;
                log.push(format!("sub {r:?} after {}", cx.now_ms() - t0));
            });
        });
        assert_eq!(
            &log.lines()[2..],
            &[
                "term w shutdown",
                "w Ok at 5000",
                "term gc shutdown",
                "term gc done",
                "sub Ok after 8000"
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("w")), Some(&ExitReason::Killed));
        assert_eq!(w.exit_reason(pids.get("sub")), Some(&ExitReason::Shutdown));
        assert_eq!(w.exit_reason(pids.get("gc")), Some(&ExitReason::Shutdown));
    }
}

#[test]
fn r39_deliberate_termination_never_triggers_a_restart() {
    for seed in 0..SEEDS {
        let (sim, log, _) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = vec![
                    Worker::new("a", &log, &p).trapping().spec(),
                    Worker::new("b", &log, &p).trapping().spec(),
                    Worker::new("c", &log, &p).trapping().spec(),
                ];
                cx.trap_exit(true); // survive the supervisor's shutdown below
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForAll, children), None)
                        .await
                        .unwrap();
                p.set("sup", sup);
                let r = supervisor::terminate_child(&cx, sup, "b").await;
                log.push(format!("terminate_child {r:?}"));
                quiesce(&cx).await;
                log.push(kids_fmt(
                    &kids_in_start_order(&cx, sup)
                        .await
                        .into_iter()
                        .map(|(id, p)| (id, p.map(|_| Pid(0))))
                        .collect::<Vec<_>>(),
                ));
                let r = gen_server::try_stop(&cx, sup, ExitReason::Shutdown).await;
                log.push(format!("stop {r:?}"));
                forever(&cx).await;
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "init a".to_string(),
                "init b".into(),
                "init c".into(),
                "term b shutdown".into(),
                "terminate_child Ok".into(),
                kids_fmt(&[
                    ("a".into(), Some(Pid(0))),
                    ("b".into(), None),
                    ("c".into(), Some(Pid(0)))
                ]),
                "term c shutdown".into(),
                "term a shutdown".into(),
                "stop Ok(())".into(),
            ],
            "seed {seed}"
        );
        assert_eq!(sim.world().live_count(), 1, "seed {seed}: only the test");
    }
}

#[test]
fn r39_crash_racing_terminate_child_never_leaves_the_child_restarted() {
    let mut restarted_first = 0;
    let mut terminated_first = 0;
    for seed in 0..SEEDS {
        let (_sim, log, _) = sim_run(seed, false, move |sim, log, _| {
            sim.spawn("test", move |cx| async move {
                let pids = Pids::default();
                let children = vec![Worker::new("a", &log, &pids).spec()];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                let a = cx.whereis("a").await.unwrap();
                cx.spawn(move |kcx| async move { kcx.exit_signal(a, custom("crash")).await })
                    .await;
                let r = supervisor::terminate_child(&cx, sup, "a").await;
                log.push(format!("terminate_child {r:?}"));
                quiesce(&cx).await;
                log.push(kids_fmt(&kids_in_start_order(&cx, sup).await));
            });
        });
        assert_eq!(
            &log.lines()[log.lines().len() - 2..],
            &[
                "terminate_child Ok".to_string(),
                kids_fmt(&[("a".into(), None)])
            ],
            "seed {seed}"
        );
        match log.count("init a") {
            1 => terminated_first += 1,
            2 => restarted_first += 1,
            n => panic!("seed {seed}: {n} inits"),
        }
    }
    // both orders of the race happen
    assert!(restarted_first > 0 && terminated_first > 0);
}

// ---- rule 40: task supervisors stop children concurrently ------------------------------

#[test]
fn r40_task_supervisor_stops_children_concurrently() {
    let mut orders = BTreeSet::new();
    for seed in 0..SEEDS {
        let (_sim, log, _) = sim_run(seed, false, move |sim, log, _| {
            sim.spawn("test", move |cx| async move {
                cx.trap_exit(true); // survive the task supervisor's shutdown
                let tsup = task::supervisor_start_link(&cx, Some("tasks".into()))
                    .await
                    .unwrap();
                for i in 0..3 {
                    let l = log.clone();
                    task::start_child(&cx, "tasks", move |tcx| async move {
                        tcx.trap_exit(true);
                        let _ = tcx
                            .recv_match(Matcher::when(|e| e.exit_reason().is_some()))
                            .await;
                        l.push(format!("task {i} told at {}", tcx.now_ms()));
                        tcx.sleep(1000).await;
                        ExitReason::Shutdown
                    })
                    .await
                    .unwrap();
                }
                quiesce(&cx).await; // all tasks trap exits by now
                let t0 = cx.now_ms();
                let r = gen_server::try_stop(&cx, tsup, ExitReason::Shutdown).await;
                log.push(format!("stopped {r:?} after {}", cx.now_ms() - t0));
            });
        });
        let lines = log.lines();
        assert_eq!(lines.len(), 4, "seed {seed}: {lines:?}");
        for l in &lines[..3] {
            assert!(l.ends_with("told at 1"), "seed {seed}: {lines:?}");
        }
        assert_eq!(lines[3], "stopped Ok(()) after 1000", "seed {seed}");
        orders.insert(lines[..3].to_vec());
    }
    // no fixed order
    assert!(orders.len() > 1, "{orders:?}");
}

// ---- rule 41: dynamic starts -----------------------------------------------------------

#[test]
fn r41_start_child_with_taken_name_returns_already_started_and_supervisor_survives() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let sup = supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, vec![]), None)
                    .await
                    .unwrap();
                p.set("sup", sup);
                let first = {
                    let w = Worker::new("x", &log, &p);
                    ChildSpec::server("x1", Some("x".into()), move || w.clone())
                };
                let second = {
                    let w = Worker::new("x", &log, &p);
                    ChildSpec::server("x2", Some("x".into()), move || w.clone())
                };
                let r1 = supervisor::start_child(&cx, sup, first).await;
                let SupReply::Started(x) = r1 else {
                    panic!("first start: {r1:?}")
                };
                p.set("x1", x);
                let r2 = supervisor::start_child(&cx, sup, second).await;
                log.push(format!("second {r2:?}"));
                let kids = kids_in_start_order(&cx, sup).await;
                log.push(kids_fmt(&kids));
                forever(&cx).await;
            });
        });
        let x = pids.get("x1");
        assert_eq!(
            log.lines(),
            vec![
                "init x".to_string(),
                format!(
                    "second {:?}",
                    SupReply::StartFailed(StartError::AlreadyStarted(x))
                ),
                kids_fmt(&[("x1".into(), Some(x))]),
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert!(w.is_alive(pids.get("sup")), "seed {seed}");
        assert!(w.is_alive(x), "seed {seed}");
        assert_eq!(w.whereis("x"), Some(x));
    }
}

#[test]
fn r41_supervisor_calls_wait_without_timeout() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let sup = supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, vec![]), None)
                    .await
                    .unwrap();
                // an init that takes twice the default call timeout
                let slow = Worker::new("slow", &log, &p)
                    .with_hook(hook(|cx| async move {
                        cx.sleep(10_000).await;
                        Init::Ok
                    }))
                    .spec();
                let r = supervisor::start_child(&cx, sup, slow).await;
                log.push(format!(
                    "{} at {}",
                    matches!(r, SupReply::Started(_)),
                    cx.now_ms()
                ));
                forever(&cx).await;
            });
        });
        assert_eq!(
            log.lines(),
            vec!["init slow", "true at 10000"],
            "seed {seed}"
        );
        assert!(sim.world().is_alive(pids.get("slow")));
    }
}

#[test]
fn r41_start_child_with_id_of_running_child_returns_already_started() {
    for seed in 0..SEEDS {
        let (_sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                let children = vec![Worker::new("a", &log, &p).spec()];
                let sup =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                let dup = {
                    let w = Worker::new("other", &log, &p);
                    ChildSpec::server("a", None, move || w.clone())
                };
                let r = supervisor::start_child(&cx, sup, dup).await;
                log.push(format!("{r:?}"));
            });
        });
        let a = pids.get("a");
        assert_eq!(
            log.lines().last().unwrap(),
            &format!("{:?}", SupReply::StartFailed(StartError::AlreadyStarted(a))),
            "seed {seed}"
        );
        assert_eq!(log.count("init other"), 0, "seed {seed}");
    }
}

// ---- rules 42–44: tasks ----------------------------------------------------------------

/// A "prodder" spawns a caller, which starts a task with `start` (which must run a task
/// that logs `task got ping` on `Ping`) and reports its pid; the prodder then ends the
/// caller with `reason` (`kill` as an exit signal, others as the caller's own exit),
/// waits for the caller's DOWN and, if `ping`, pings the task.
fn task_orphan_run<S, Fut>(seed: u64, reason: ExitReason, ping: bool, start: S) -> (Sim, Log, Pids)
where
    S: FnOnce(Cx, Log) -> Fut + 'static,
    Fut: Future<Output = Pid> + 'static,
{
    let (sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
        sim.spawn("prodder", move |cx| async move {
            let me = cx.me();
            let l = log.clone();
            let caller = cx
                .spawn(move |ccx| async move {
                    let t = start(ccx.clone(), l).await;
                    ccx.send(me, TaskPid(t)).await;
                    let (_, Die(r)) = ccx.recv_type::<Die>().await;
                    r
                })
                .await;
            p.set("caller", caller);
            let mref = cx.monitor(caller).await;
            let (_, TaskPid(t)) = cx.recv_type::<TaskPid>().await;
            p.set("task", t);
            if reason == ExitReason::Kill {
                cx.exit_signal(caller, ExitReason::Kill).await;
            } else {
                cx.send(caller, Die(reason)).await;
            }
            cx.recv_match(Matcher::Tag(mref)).await;
            if ping {
                cx.send(t, Ping).await;
            }
        });
    });
    (sim, log, pids)
}

fn ping_task(log: Log) -> impl FnOnce(Cx) -> Pin<Box<dyn Future<Output = ()>>> {
    move |tcx| {
        Box::pin(async move {
            tcx.recv_type::<Ping>().await;
            log.push("task got ping");
        })
    }
}

#[test]
fn r42_task_start_link_orphan_keeps_running_when_caller_exits_normal() {
    for seed in 0..SEEDS {
        let (sim, log, pids) =
            task_orphan_run(seed, ExitReason::Normal, true, |cx, log| async move {
                task::start_link(&cx, ping_task(log)).await
            });
        assert_eq!(log.lines(), vec!["task got ping"], "seed {seed}");
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("caller")), Some(&ExitReason::Normal));
        assert_eq!(w.exit_reason(pids.get("task")), Some(&ExitReason::Normal));
    }
}

#[test]
fn r42_task_start_link_dies_with_caller_exiting_abnormally_or_shutdown() {
    let reasons = [
        custom("boom"),
        ExitReason::Shutdown,
        ExitReason::ShutdownWith("bye".into()),
        ExitReason::Kill,
    ];
    for seed in 0..SEEDS {
        for reason in &reasons {
            let (sim, log, pids) =
                task_orphan_run(seed, reason.clone(), false, |cx, log| async move {
                    task::start_link(&cx, ping_task(log)).await
                });
            assert!(log.lines().is_empty(), "seed {seed}");
            let expected = if *reason == ExitReason::Kill {
                ExitReason::Killed
            } else {
                reason.clone()
            };
            let w = sim.world();
            assert_eq!(
                w.exit_reason(pids.get("caller")),
                Some(&expected),
                "seed {seed}"
            );
            assert_eq!(
                w.exit_reason(pids.get("task")),
                Some(&expected),
                "seed {seed}: the task dies with its caller's reason"
            );
        }
    }
}

#[test]
fn r42_crashing_task_kills_non_trapping_caller() {
    for seed in 0..SEEDS {
        let pids = Pids::default();
        let (p, p2) = (pids.clone(), pids.clone());
        let (sim, log, _) = sim_run(seed, true, move |sim, log, _| {
            let caller = sim.spawn("caller", move |cx| async move {
                let t = task::start_link(&cx, |_tcx| async { custom("task crashed") }).await;
                p.set("task", t);
                forever(&cx).await;
                log.push("caller survived");
            });
            p2.set("caller", caller);
        });
        assert!(log.lines().is_empty(), "seed {seed}");
        let w = sim.world();
        assert_eq!(
            w.exit_reason(pids.get("caller")),
            Some(&custom("task crashed")),
            "seed {seed}"
        );
        assert_eq!(
            w.exit_reason(pids.get("task")),
            Some(&custom("task crashed"))
        );
    }
}

#[test]
fn r42_crashing_task_sends_trapping_caller_an_exit_message() {
    for seed in 0..SEEDS {
        let (sim, log, _) = sim_run(seed, true, move |sim, log, _| {
            sim.spawn("caller", move |cx| async move {
                cx.trap_exit(true);
                let t = task::start_link(&cx, |_tcx| async { custom("task crashed") }).await;
                let r = await_exit(&cx, t).await;
                log.push(format!("caller got EXIT {r:?}"));
            });
        });
        assert_eq!(
            log.lines(),
            vec!["caller got EXIT task crashed"],
            "seed {seed}"
        );
        assert_eq!(sim.world().exit_reason(Pid(0)), Some(&ExitReason::Normal));
    }
}

#[test]
fn r43_task_start_survives_any_caller_exit() {
    let reasons = [
        ExitReason::Normal,
        custom("boom"),
        ExitReason::Shutdown,
        ExitReason::Kill,
    ];
    for seed in 0..SEEDS {
        for reason in &reasons {
            let (sim, log, pids) =
                task_orphan_run(seed, reason.clone(), true, |cx, log| async move {
                    task::start(&cx, ping_task(log)).await
                });
            assert_eq!(
                log.lines(),
                vec!["task got ping"],
                "seed {seed}: {reason:?}"
            );
            let w = sim.world();
            assert!(w.exit_reason(pids.get("caller")).is_some(), "seed {seed}");
            assert_eq!(
                w.exit_reason(pids.get("task")),
                Some(&ExitReason::Normal),
                "seed {seed}: {reason:?}"
            );
        }
    }
}

#[test]
fn r43_crashing_unlinked_task_leaves_caller_alive() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
            sim.spawn("caller", move |cx| async move {
                let t = task::start(&cx, |_tcx| async { custom("task crashed") }).await;
                p.set("task", t);
                let mref = cx.monitor(t).await;
                cx.recv_match(Matcher::Tag(mref)).await;
                log.push("caller still running");
            });
        });
        assert_eq!(log.lines(), vec!["caller still running"], "seed {seed}");
        let w = sim.world();
        assert_eq!(w.exit_reason(Pid(0)), Some(&ExitReason::Normal));
        assert_eq!(
            w.exit_reason(pids.get("task")),
            Some(&custom("task crashed"))
        );
    }
}

#[test]
fn r44_task_supervisor_child_is_not_linked_to_its_caller() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
            sim.spawn("root", move |cx| async move {
                let tsup = task::supervisor_start_link(&cx, Some("tasks".into()))
                    .await
                    .unwrap();
                p.set("tsup", tsup);
                let me = cx.me();
                let l = log.clone();
                // a caller that starts a long task and crashes
                let caller = cx
                    .spawn(move |ccx| async move {
                        let t = task::start_child(&ccx, "tasks", ping_task(l))
                            .await
                            .unwrap();
                        ccx.send(me, TaskPid(t)).await;
                        custom("caller crashed")
                    })
                    .await;
                let mref = cx.monitor(caller).await;
                let (_, TaskPid(t)) = cx.recv_type::<TaskPid>().await;
                p.set("task", t);
                cx.recv_match(Matcher::Tag(mref)).await;
                log.push(format!("task links {:?}", cx.world().links(t) == [tsup]));
                cx.send(t, Ping).await;
                // a caller whose task crashes
                let l = log.clone();
                let caller2 = cx
                    .spawn(move |ccx| async move {
                        let t = task::start_child(&ccx, "tasks", |_tcx| async {
                            custom("task crashed")
                        })
                        .await
                        .unwrap();
                        let mref = ccx.monitor(t).await;
                        ccx.recv_match(Matcher::Tag(mref)).await;
                        l.push("caller2 still running");
                    })
                    .await;
                p.set("caller2", caller2);
                quiesce(&cx).await;
                let left = task::children(&cx, "tasks").await;
                log.push(format!("children left {}", left.len()));
                forever(&cx).await;
            });
        });
        let mut lines = log.lines();
        lines.sort();
        assert_eq!(
            lines,
            vec![
                "caller2 still running",
                "children left 0",
                "task got ping",
                "task links true"
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("task")), Some(&ExitReason::Normal));
        assert_eq!(
            w.exit_reason(pids.get("caller2")),
            Some(&ExitReason::Normal)
        );
        assert!(w.is_alive(pids.get("tsup")), "seed {seed}");
    }
}

#[test]
fn r44_task_supervisor_children_are_shut_down_with_the_tree() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = sim_run(seed, true, move |sim, log, p| {
            sim.spawn("test", move |cx| async move {
                cx.trap_exit(true); // survive the tree's shutdown
                let children = vec![task::supervisor_child_spec("tasks", Some("tasks".into()))];
                let top =
                    supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                        .await
                        .unwrap();
                p.set("top", top);
                p.set("tsup", cx.whereis("tasks").await.unwrap());
                let t = task::start_child(&cx, "tasks", ping_task(log.clone()))
                    .await
                    .unwrap();
                p.set("task", t);
                let r = gen_server::try_stop(&cx, top, ExitReason::Shutdown).await;
                log.push(format!("stop {r:?}"));
            });
        });
        assert_eq!(log.lines(), vec!["stop Ok(())"], "seed {seed}");
        let w = sim.world();
        for k in ["task", "tsup", "top"] {
            assert_eq!(
                w.exit_reason(pids.get(k)),
                Some(&ExitReason::Shutdown),
                "seed {seed}: {k}"
            );
        }
    }
}

// ---- rule 48: timers -------------------------------------------------------------------

/// A supervised server "srv"; the test sets a 100 ms timer to `dest(old pid)`, kills the
/// server, waits for the restart, reports the pending timers, then waits past the timer.
fn timer_run(seed: u64, to_name: bool) -> (Sim, Log, Pids) {
    let (sim, log, pids) = sim_run(seed, false, move |sim, log, p| {
        sim.spawn("test", move |cx| async move {
            let children = vec![Worker::new("srv", &log, &p).spec()];
            supervisor::start_link(&cx, sup_spec(Strategy::OneForOne, children), None)
                .await
                .unwrap();
            let old = cx.whereis("srv").await.unwrap();
            p.set("old", old);
            if to_name {
                cx.send_after("srv", Tick, 100);
            } else {
                cx.send_after(old, Tick, 100);
            }
            cx.exit_signal(old, ExitReason::Kill).await;
            let new = await_new(&cx, "srv", Some(old)).await;
            p.set("new", new);
            log.push(format!("timers pending {}", cx.world().timers_pending()));
            cx.sleep(200).await;
            forever(&cx).await;
        });
    });
    (sim, log, pids)
}

#[test]
fn r48_send_after_to_a_pid_is_cancelled_when_it_dies() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = timer_run(seed, false);
        assert_eq!(
            log.starting_with("timers"),
            vec!["timers pending 0"],
            "seed {seed}"
        );
        assert!(
            log.starting_with("tick").is_empty(),
            "seed {seed}: {:?}",
            log.lines()
        );
        assert!(sim.world().is_alive(pids.get("new")));
    }
}

#[test]
fn r48_send_after_to_a_name_fires_into_the_next_incarnation() {
    for seed in 0..SEEDS {
        let (_sim, log, pids) = timer_run(seed, true);
        assert_eq!(
            log.starting_with("timers"),
            vec!["timers pending 1"],
            "seed {seed}"
        );
        let new = pids.get("new");
        assert_ne!(new, pids.get("old"));
        assert_eq!(
            log.starting_with("tick"),
            vec![format!("tick srv {new} at 100")],
            "seed {seed}"
        );
    }
}

// ---- rule 49: tables -------------------------------------------------------------------

#[test]
fn r49_table_is_deleted_with_its_owner_and_later_access_errors() {
    for seed in 0..SEEDS {
        let ids = Rc::new(Cell::new(0u64));
        let id2 = ids.clone();
        let (sim, log, _) = sim_run(seed, true, move |sim, log, _| {
            sim.spawn("owner", move |cx| async move {
                let t: Table<u32, String> = cx.table_new_named("cache").await.unwrap();
                id2.set(t.id);
                cx.table_insert(t, 1, "one".into()).await.unwrap();
                let owner = cx.me();
                cx.spawn(move |rcx| async move {
                    let got = rcx.table_get(t, &1).await;
                    log.push(format!("before {got:?}"));
                    let mref = rcx.monitor(owner).await;
                    rcx.send(owner, Go).await;
                    let down = rcx.recv_match(Matcher::Tag(mref)).await;
                    log.push(format!("owner down {:?}", down.down().map(|d| d.2.clone())));
                    // the table went before the DOWN went out
                    let got = rcx.table_get(t, &1).await;
                    log.push(format!("get {}", got == Err(TableGone(t.id))));
                    let ins = rcx.table_insert(t, 2, "two".into()).await;
                    log.push(format!("insert {}", ins == Err(TableGone(t.id))));
                    let named = rcx.table_by_name::<u32, String>("cache").await;
                    log.push(format!("by name {}", named.is_none()));
                    let fresh = rcx.table_new_named::<u32, String>("cache").await;
                    log.push(format!("name reusable {}", fresh.is_some()));
                })
                .await;
                cx.recv_type::<Go>().await;
                custom("owner done")
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                r#"before Ok(Some("one"))"#,
                "owner down Some(owner done)",
                "get true",
                "insert true",
                "by name true",
                "name reusable true",
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert!(!w.table_exists(ids.get()), "seed {seed}");
        assert_eq!(
            w.table_named("cache"),
            None,
            "seed {seed}: the reader's died too"
        );
        assert_eq!(w.table_owner(ids.get()), None);
    }
}
