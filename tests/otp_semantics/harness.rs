//! Conformance tests for OTP_MODEL.md part H (application and test harness, rules 45–47),
//! run on the Foundation's models of them: [`application`] (application master, group
//! leader, `Application.stop`) and [`ex_unit`] (ExUnit's runner: test processes,
//! `start_supervised`, `on_exit`, async and sync modules).
//!
//! Every test runs under 200 random seeds (random scheduling, no faults, no random time
//! jumps, so virtual time only moves when nothing else can run) and under the
//! [`DefaultChooser`]. Observations come from a [`Log`] that processes append to, from the
//! [`TestResult`]s the runner hands back and from the world after the run.

use crate::common::*;
use fsim::otp::application::{self, App};
use fsim::otp::ex_unit::{self, Module, TestCase, TestCx, TestResult, test_fn};
use fsim::otp::gen_server::{self, CallReply, GenServer, Init, Next};
use fsim::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use fsim::otp::task;
use fsim::sim::*;
use std::future::Future;
use std::rc::Rc;

/// Random seeds per test (each test also runs once under the default chooser).
const SEEDS: u64 = 200;

// ---- running worlds -------------------------------------------------------------------

/// One schedule: a random one from a seed, or the default chooser's.
#[derive(Clone, Copy, Debug)]
enum Schedule {
    Seed(u64),
    Default,
}

/// Seeds `0..SEEDS`, then the default chooser.
fn schedules() -> impl Iterator<Item = Schedule> {
    (0..SEEDS)
        .map(Schedule::Seed)
        .chain(std::iter::once(Schedule::Default))
}

/// Runs the world `setup` builds under `s` (no faults, no random time jumps); the run must
/// not fail. Returns the finished `Sim` (for `world()`), the log and the recorded pids.
fn run_world(s: Schedule, setup: impl FnOnce(&mut Sim, Log, Pids)) -> (Sim, Log, Pids) {
    let log = Log::new();
    let pids = Pids::default();
    // ExUnit test bodies and servers here model Elixir code: a panic stands for a raise,
    // an OTP crash that the runner reports, not a failure of the simulation.
    let mut sim = Sim::new(Config {
        panics: Panics::Crash,
        ..Config::default()
    });
    setup(&mut sim, log.clone(), pids.clone());
    let report = match s {
        Schedule::Seed(seed) => sim.run(&mut RandomChooser::new(seed).with_rates(0, 0)),
        Schedule::Default => sim.run(&mut DefaultChooser),
    };
    assert!(
        !report.outcome.is_failure(),
        "{s:?}: run failed: {:?}\n{:#?}",
        report.outcome,
        report.recent
    );
    (sim, log, pids)
}

/// A test case from an async closure.
fn case<F, Fut>(name: &str, f: F) -> TestCase
where
    F: Fn(TestCx) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    TestCase {
        name: name.to_string(),
        body: test_fn(f),
    }
}

fn module(name: &str, async_: bool, tests: Vec<TestCase>) -> Module {
    Module {
        name: name.to_string(),
        async_,
        tests,
    }
}

/// `ex_unit::run` with nothing to do after each test.
async fn run_suite(cx: &Cx, modules: &[Module]) -> Vec<TestResult> {
    let after: Rc<dyn Fn(&TestResult)> = Rc::new(|_: &TestResult| {});
    ex_unit::run(cx, modules, &after).await
}

/// Starts an application whose top supervisor (registered as `app_sup`) runs `children`
/// one_for_one with the default intensity.
async fn start_app(cx: &Cx, children: Vec<ChildSpec>) -> App {
    application::start(cx, "app", move |mcx| async move {
        supervisor::start_link(
            &mcx,
            SupSpec::new(Strategy::OneForOne, children),
            Some("app_sup".into()),
        )
        .await
    })
    .await
    .expect("the application starts")
}

/// How each test process really ended, read from the world (the reason the process
/// died with, whatever the runner reported).
fn test_exits(w: &World, results: &[TestResult]) -> Vec<ExitReason> {
    results
        .iter()
        .map(|r| {
            w.exit_reason(r.pid)
                .cloned()
                .expect("the test process is dead")
        })
        .collect()
}

/// Asserts that each process named in `keys` exited with `reason`.
#[track_caller]
fn assert_exited(w: &World, pids: &Pids, keys: &[&str], reason: ExitReason, s: Schedule) {
    for k in keys {
        assert_eq!(w.exit_reason(pids.get(k)), Some(&reason), "{s:?}: {k}");
    }
}

/// Live processes in `app`'s group (its master's), read after a yield.
async fn live_in_group(cx: &Cx, app: App) -> Vec<Pid> {
    cx.yield_now().await;
    let w = cx.world();
    let g = w.group(app.master);
    w.live_pids().filter(|p| w.group(*p) == g).collect()
}

// ---- processes used by the tests ------------------------------------------------------

#[derive(Debug)]
struct Ready;
#[derive(Debug)]
struct Crash;

/// Spawns an unlinked process (nobody's supervised child) that spawns a grandchild, and
/// waits until both exist; records them under `key` and `key.grandchild`.
async fn spawn_orphan(cx: &Cx, pids: &Pids, key: &str) -> Pid {
    let me = cx.me();
    let p2 = pids.clone();
    let gkey = format!("{key}.grandchild");
    let orphan = cx
        .spawn(move |ocx| async move {
            let g = ocx.spawn(|gcx| async move { forever(&gcx).await }).await;
            p2.set(&gkey, g);
            ocx.send(me, Ready).await;
            forever(&ocx).await;
        })
        .await;
    pids.set(key, orphan);
    cx.recv_match(Matcher::when(move |e| e.from == orphan && e.is::<Ready>()))
        .await;
    orphan
}

#[derive(Debug)]
enum Req {
    /// Reply with the server's pid.
    WhoAmI,
    /// Spawn an unlinked process (an orphan, recorded under this key) and reply its pid.
    SpawnOrphan(&'static str),
}

/// A GenServer registered under its id. Logs `init ID`, `term ID REASON` when `terminate`
/// starts and `term ID done` after a slow stop. With `trap` it traps exits (so a
/// supervisor's `shutdown` runs `terminate`); with `orphan` its `init` spawns an unlinked
/// process and grandchild (recorded as `ID.orphan`, `ID.orphan.grandchild`).
#[derive(Clone)]
struct Worker {
    id: &'static str,
    log: Log,
    pids: Pids,
    trap: bool,
    orphan: bool,
    stop_ms: u64,
}

impl Worker {
    fn new(id: &'static str, log: &Log, pids: &Pids) -> Self {
        Worker {
            id,
            log: log.clone(),
            pids: pids.clone(),
            trap: false,
            orphan: false,
            stop_ms: 0,
        }
    }
    fn trapping(mut self) -> Self {
        self.trap = true;
        self
    }
    fn with_orphan(mut self) -> Self {
        self.orphan = true;
        self
    }
    fn slow_stop(mut self, ms: u64) -> Self {
        self.trap = true;
        self.stop_ms = ms;
        self
    }
    /// A permanent worker spec, registered under the id.
    fn spec(self) -> ChildSpec {
        let id = self.id;
        ChildSpec::server(id, Some(id.into()), move || self.clone())
    }
}

impl GenServer for Worker {
    type Call = Req;
    type Reply = Pid;
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        if self.trap {
            cx.trap_exit(true);
        }
        self.log.push(format!("init {}", self.id));
        self.pids.set(self.id, cx.me());
        if self.orphan {
            spawn_orphan(cx, &self.pids, &format!("{}.orphan", self.id)).await;
        }
        Init::Ok
    }

    async fn handle_call(
        &mut self,
        cx: &Cx,
        req: Req,
        _from: gen_server::Caller,
    ) -> CallReply<Pid> {
        match req {
            Req::WhoAmI => CallReply::Reply(cx.me()),
            Req::SpawnOrphan(key) => CallReply::Reply(spawn_orphan(cx, &self.pids, key).await),
        }
    }

    async fn terminate(&mut self, cx: &Cx, reason: &ExitReason) {
        self.log.push(format!("term {} {reason:?}", self.id));
        if self.stop_ms > 0 {
            cx.sleep(self.stop_ms).await;
            self.log.push(format!("term {} done", self.id));
        }
    }
}

/// A GenServer that crashes (`crash`) right after each start: a restart loop.
struct Looper {
    log: Log,
}

impl GenServer for Looper {
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        self.log.push("init looper");
        cx.send(cx.me(), Crash).await;
        Init::Ok
    }

    async fn handle_call(
        &mut self,
        _cx: &Cx,
        _req: (),
        _from: gen_server::Caller,
    ) -> CallReply<()> {
        CallReply::Reply(())
    }

    async fn handle_info(&mut self, _cx: &Cx, msg: Envelope) -> Next {
        if msg.is::<Crash>() {
            Next::Stop(custom("crash"))
        } else {
            Next::Continue
        }
    }
}

// ---- rule 45: the application lives for the whole suite, stops in reverse order ------

/// Rule 45: the application is started once, before the tests, and its tree lives through
/// all of them — a failing test included: the top supervisor and its child are the same
/// processes before, during and after the suite, and no child was ever restarted.
#[test]
fn r45_application_started_once_lives_through_every_test() {
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let children = vec![
                    Worker::new("a", &log, &p).trapping().spec(),
                    Worker::new("b", &log, &p).spec(),
                ];
                let app = start_app(&cx, children).await;
                p.set("app_sup", app.supervisor);
                p.set("master", app.master);
                log.push(format!("before sup={}", app.supervisor));
                let tests = (1..=3)
                    .map(|n| {
                        let log = log.clone();
                        case(&format!("t{n}"), move |tc| {
                            let log = log.clone();
                            async move {
                                let cx = tc.cx();
                                let sup = cx.whereis("app_sup").await.expect("registered");
                                let a: Pid = gen_server::call(cx, "a", Req::WhoAmI, None).await;
                                let b: Pid = gen_server::call(cx, "b", Req::WhoAmI, None).await;
                                log.push(format!("t{n} sup={sup} a={a} b={b}"));
                                if n == 2 {
                                    panic!("t2 fails");
                                }
                            }
                        })
                    })
                    .collect();
                res.set(run_suite(&cx, &[module("M", false, tests)]).await);
                let sup = cx.whereis("app_sup").await.expect("registered");
                let alive = cx.is_alive(app.supervisor).await;
                log.push(format!("after sup={sup} alive={alive}"));
                application::stop(&cx, app).await;
                log.push("stopped");
            });
        });
        let (sup, a, b) = (pids.get("app_sup"), pids.get("a"), pids.get("b"));
        let during = |n: u32| format!("t{n} sup={sup} a={a} b={b}");
        assert_eq!(
            log.lines(),
            vec![
                "init a".to_string(),
                "init b".into(),
                format!("before sup={sup}"),
                during(1),
                during(2),
                during(3),
                format!("after sup={sup} alive=true"),
                "term a shutdown".into(),
                "stopped".into(),
            ],
            "{s:?}"
        );
        let r = results.get();
        assert_eq!(r.len(), 3, "{s:?}");
        let w = sim.world();
        let exits = test_exits(&w, &r);
        assert_eq!(exits[0], ExitReason::Shutdown, "{s:?}");
        assert!(!r[1].passed(), "{s:?}: the panicking test fails");
        assert_eq!(exits[2], ExitReason::Shutdown, "{s:?}");
        assert_eq!(w.exit_reason(sup), Some(&ExitReason::Shutdown), "{s:?}");
        assert_eq!(w.exit_reason(a), Some(&ExitReason::Shutdown), "{s:?}");
        assert_eq!(w.exit_reason(b), Some(&ExitReason::Shutdown), "{s:?}");
        assert_exited(&w, &pids, &["master"], ExitReason::Normal, s);
    }
}

/// Rule 45: `application::stop` shuts the tree down in reverse start order — depth first
/// through a nested supervisor — each child's `terminate` finishing before the next one's
/// shutdown begins, and returns only once every process of the application is dead (after
/// a child's 100 ms `terminate`).
#[test]
fn r45_application_stop_stops_children_in_reverse_order_and_returns_when_all_are_dead() {
    for s in schedules() {
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let sub = SupSpec::new(
                    Strategy::OneForOne,
                    vec![
                        Worker::new("d", &log, &p).trapping().spec(),
                        Worker::new("e", &log, &p).trapping().spec(),
                    ],
                );
                let children = vec![
                    Worker::new("a", &log, &p).trapping().spec(),
                    Worker::new("b", &log, &p).slow_stop(100).spec(),
                    ChildSpec::supervisor("sub", sub, Some("sub".into())),
                    Worker::new("c", &log, &p).trapping().spec(),
                ];
                let app = start_app(&cx, children).await;
                p.set("app_sup", app.supervisor);
                p.set("master", app.master);
                p.set("sub", cx.whereis("sub").await.expect("registered"));
                log.push("stopping");
                application::stop(&cx, app).await;
                log.push(format!("stop returned at {}", cx.now_ms()));
                let mut dead = Vec::new();
                for id in ["a", "b", "sub", "d", "e", "c", "app_sup", "master"] {
                    dead.push(!cx.is_alive(p.get(id)).await);
                }
                log.push(format!("all dead: {}", dead.iter().all(|d| *d)));
                log.push(format!("group: {:?}", live_in_group(&cx, app).await));
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "init a",
                "init b",
                "init d",
                "init e",
                "init c",
                "stopping",
                "term c shutdown",
                "term e shutdown",
                "term d shutdown",
                "term b shutdown",
                "term b done",
                "term a shutdown",
                "stop returned at 100",
                "all dead: true",
                "group: []",
            ],
            "{s:?}"
        );
        let w = sim.world();
        assert_exited(
            &w,
            &pids,
            &["a", "b", "sub", "d", "e", "c", "app_sup"],
            ExitReason::Shutdown,
            s,
        );
        assert_eq!(w.live_count(), 0, "{s:?}: nothing left running");
    }
}

// ---- rule 46: the test process, start_supervised, on_exit ----------------------------

/// Rule 46(a): when the body returns, the test process — a fresh process, labelled after
/// the test, that the result names — exits `shutdown`.
#[test]
fn r46_test_process_exits_shutdown_when_the_body_returns() {
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let t = case("t", move |tc| {
                    let (log, p) = (log.clone(), p.clone());
                    async move {
                        p.set("test", tc.cx().me());
                        log.push("body returns");
                    }
                });
                res.set(run_suite(&cx, &[module("M", false, vec![t])]).await);
            });
        });
        assert_eq!(log.lines(), vec!["body returns"], "{s:?}");
        let r = results.get();
        assert_eq!(r.len(), 1, "{s:?}");
        assert_eq!(r[0].name, "t");
        assert_eq!(r[0].pid, pids.get("test"), "{s:?}");
        assert!(r[0].orphans.is_empty(), "{s:?}");
        let w = sim.world();
        assert_exited(&w, &pids, &["test"], ExitReason::Shutdown, s);
        assert_eq!(w.label(pids.get("test")), Some("test:t"), "{s:?}");
        assert_ne!(w.parent(pids.get("test")), None, "{s:?}");
    }
}

/// Rule 46(a), as the runner reports it: a test whose body returns has `exit == shutdown`
/// and `passed()`, however quickly the body returns. ExUnit spawns the test process with
/// `spawn_monitor`, so the runner's monitor is in place before the body runs.
#[test]
fn r46_result_of_a_returning_body_is_shutdown_and_passed() {
    let mut wrong = Vec::new();
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, _, _) = run_world(s, move |sim, _, _| {
            sim.spawn("suite", move |cx| async move {
                let t = case("t", |_| async {});
                res.set(run_suite(&cx, &[module("M", false, vec![t])]).await);
            });
        });
        let r = &results.get()[0];
        assert_eq!(
            test_exits(&sim.world(), std::slice::from_ref(r)),
            vec![ExitReason::Shutdown],
            "{s:?}: the process itself exits shutdown"
        );
        if r.exit != ExitReason::Shutdown || !r.passed() {
            wrong.push(format!("{s:?}: exit {:?}", r.exit));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} schedules report a returning body as failed: {wrong:?}",
        wrong.len(),
        SEEDS + 1
    );
}

/// Rule 46(b) (with rules 10–11): a non-trapping process `spawn_link`ed by the body dies
/// with the test process (reason `shutdown`); a trapping one survives and gets
/// `{EXIT, test, shutdown}` as a message.
#[test]
fn r46_linked_processes_die_with_the_test_unless_they_trap_exits() {
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let t = case("t", move |tc| {
                    let (log, p) = (log.clone(), p.clone());
                    async move {
                        let cx = tc.cx();
                        let me = cx.me();
                        p.set("test", me);
                        let plain = cx
                            .spawn_link(|lcx| async move { forever(&lcx).await })
                            .await;
                        p.set("plain", plain);
                        let l2 = log.clone();
                        let trapper = cx
                            .spawn_link(move |lcx| async move {
                                lcx.trap_exit(true);
                                lcx.send(me, Ready).await;
                                let env = lcx
                                    .recv_match(Matcher::when(move |e| {
                                        e.from == me && e.exit_reason().is_some()
                                    }))
                                    .await;
                                let r = env.exit_reason().expect("an EXIT");
                                l2.push(format!("trapper got EXIT from test: {r:?}"));
                                forever(&lcx).await;
                            })
                            .await;
                        p.set("trapper", trapper);
                        cx.recv_match(Matcher::when(move |e| e.from == trapper && e.is::<Ready>()))
                            .await;
                        log.push("body returns");
                    }
                });
                res.set(run_suite(&cx, &[module("M", false, vec![t])]).await);
            });
        });
        assert_eq!(
            log.lines(),
            vec!["body returns", "trapper got EXIT from test: shutdown"],
            "{s:?}"
        );
        let r = &results.get()[0];
        let trapper = pids.get("trapper");
        assert!(r.orphans.contains(&trapper), "{s:?}: {:?}", r.orphans);
        let w = sim.world();
        assert_eq!(
            test_exits(&w, std::slice::from_ref(r)),
            vec![ExitReason::Shutdown],
            "{s:?}"
        );
        assert_eq!(
            w.exit_reason(pids.get("plain")),
            Some(&ExitReason::Shutdown),
            "{s:?}: the non-trapping linked process died with the test"
        );
        assert!(w.is_alive(trapper), "{s:?}: the trapping one survived");
    }
}

/// Rule 46(c): `start_supervised` children (a trapping and a non-trapping one) are dead —
/// stopped with `shutdown` by the per-test supervisor — before `on_exit` runs and before
/// the next test of the module starts; the next test can start a child under the same
/// name again.
#[test]
fn r46_start_supervised_children_are_dead_before_on_exit_and_the_next_test() {
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let (l1, p1) = (log.clone(), p.clone());
                let t1 = case("t1", move |tc| {
                    let (log, p) = (l1.clone(), p1.clone());
                    async move {
                        let sv = tc
                            .start_supervised(Worker::new("sv", &log, &p).trapping().spec())
                            .await
                            .expect("starts");
                        let plain = tc
                            .start_supervised(Worker::new("plain", &log, &p).spec())
                            .await
                            .expect("starts");
                        p.set("sv#1", sv);
                        p.set("plain#1", plain);
                        let l = log.clone();
                        tc.on_exit(test_fn(move |oc| {
                            let l = l.clone();
                            async move {
                                let sv_alive = oc.cx().is_alive(sv).await;
                                let plain_alive = oc.cx().is_alive(plain).await;
                                l.push(format!(
                                    "on_exit sv alive={sv_alive} plain alive={plain_alive}"
                                ));
                            }
                        }))
                        .await;
                        log.push("t1 returns");
                    }
                });
                let (l2, p2) = (log.clone(), p.clone());
                let t2 = case("t2", move |tc| {
                    let (log, p) = (l2.clone(), p2.clone());
                    async move {
                        let cx = tc.cx();
                        let sv_alive = cx.is_alive(p.get("sv#1")).await;
                        let plain_alive = cx.is_alive(p.get("plain#1")).await;
                        let name = cx.whereis("sv").await;
                        log.push(format!(
                            "t2 starts: sv alive={sv_alive} plain alive={plain_alive} name={name:?}"
                        ));
                        let sv = tc
                            .start_supervised(Worker::new("sv", &log, &p).trapping().spec())
                            .await;
                        let old = p.get("sv#1");
                        log.push(format!(
                            "t2 restart is fresh: {}",
                            matches!(sv, Ok(new) if new != old)
                        ));
                    }
                });
                res.set(run_suite(&cx, &[module("M", false, vec![t1, t2])]).await);
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "init sv",
                "init plain",
                "t1 returns",
                "term sv shutdown",
                "on_exit sv alive=false plain alive=false",
                "t2 starts: sv alive=false plain alive=false name=None",
                "init sv",
                "t2 restart is fresh: true",
                "term sv shutdown",
            ],
            "{s:?}"
        );
        let w = sim.world();
        assert_eq!(
            test_exits(&w, &results.get()),
            vec![ExitReason::Shutdown; 2],
            "{s:?}"
        );
        assert_eq!(
            w.exit_reason(pids.get("sv#1")),
            Some(&ExitReason::Shutdown),
            "{s:?}"
        );
        assert_eq!(
            w.exit_reason(pids.get("plain#1")),
            Some(&ExitReason::Shutdown),
            "{s:?}"
        );
        assert_eq!(w.live_count(), 0, "{s:?}");
    }
}

/// Rule 46(d): `on_exit` callbacks run after the test process has exited, in another
/// process (one for all of the test's callbacks, spawned by the runner), last registered
/// first.
#[test]
fn r46_on_exit_runs_in_another_process_after_the_test_exits_last_registered_first() {
    for s in schedules() {
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                p.set("runner", cx.me());
                let t = case("t", move |tc| {
                    let (log, p) = (log.clone(), p.clone());
                    async move {
                        let cx = tc.cx();
                        let test = cx.me();
                        p.set("test", test);
                        for n in 1..=3 {
                            let (l, p) = (log.clone(), p.clone());
                            tc.on_exit(test_fn(move |oc| {
                                let (l, p) = (l.clone(), p.clone());
                                async move {
                                    let me = oc.cx().me();
                                    p.set(&format!("on_exit{n}"), me);
                                    let alive = oc.cx().is_alive(test).await;
                                    l.push(format!(
                                        "on_exit {n}: other process={} test alive={alive}",
                                        me != test
                                    ));
                                }
                            }))
                            .await;
                            cx.yield_now().await;
                        }
                        log.push("body returns");
                    }
                });
                run_suite(&cx, &[module("M", false, vec![t])]).await;
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "body returns",
                "on_exit 3: other process=true test alive=false",
                "on_exit 2: other process=true test alive=false",
                "on_exit 1: other process=true test alive=false",
            ],
            "{s:?}"
        );
        let on_exit = pids.get("on_exit1");
        assert_eq!(pids.get("on_exit2"), on_exit, "{s:?}");
        assert_eq!(pids.get("on_exit3"), on_exit, "{s:?}");
        let w = sim.world();
        assert_eq!(w.parent(on_exit), Some(pids.get("runner")), "{s:?}");
        assert_eq!(w.label(on_exit), Some("on_exit:t"), "{s:?}");
        assert_eq!(w.exit_reason(on_exit), Some(&ExitReason::Normal), "{s:?}");
        assert_exited(&w, &pids, &["test"], ExitReason::Shutdown, s);
    }
}

/// A test that logs `NAME start`, yields a few times, logs `NAME end`, and registers an
/// `on_exit` that logs `NAME on_exit`.
fn chatty(name: &str, log: &Log) -> TestCase {
    let (log, n) = (log.clone(), name.to_string());
    case(name, move |tc| {
        let (log, n) = (log.clone(), n.clone());
        async move {
            log.push(format!("{n} start"));
            let (l, n2) = (log.clone(), n.clone());
            tc.on_exit(test_fn(move |_| {
                let (l, n2) = (l.clone(), n2.clone());
                async move { l.push(format!("{n2} on_exit")) }
            }))
            .await;
            for _ in 0..3 {
                tc.cx().yield_now().await;
            }
            log.push(format!("{n} end"));
        }
    })
}

fn chatty_lines(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| {
            [
                format!("{n} start"),
                format!("{n} end"),
                format!("{n} on_exit"),
            ]
        })
        .collect()
}

/// Rule 46(e): the tests of one module run one after another: a test starts only after
/// the previous one's `on_exit` has run.
#[test]
fn r46_tests_in_one_module_run_sequentially() {
    for s in schedules() {
        let (_, log, _) = run_world(s, move |sim, log, _| {
            sim.spawn("suite", move |cx| async move {
                let tests = ["t1", "t2", "t3"].map(|n| chatty(n, &log)).to_vec();
                run_suite(&cx, &[module("M", false, tests)]).await;
            });
        });
        assert_eq!(log.lines(), chatty_lines(&["t1", "t2", "t3"]), "{s:?}");
    }
}

/// Rule 46(e) with ExUnit's runner: two async modules run concurrently — their lines
/// interleave under some seeds — while each keeps its own tests sequential, and a sync
/// module runs after both. The default chooser's run is held only to the per-module
/// orders.
#[test]
fn r46_async_modules_interleave_but_each_runs_its_tests_in_order() {
    let mut interleaved = Vec::new();
    for s in schedules() {
        let (_, log, _) = run_world(s, move |sim, log, _| {
            sim.spawn("suite", move |cx| async move {
                let a = module("A", true, vec![chatty("a1", &log), chatty("a2", &log)]);
                let b = module("B", true, vec![chatty("b1", &log), chatty("b2", &log)]);
                let sync = module("S", false, vec![chatty("s1", &log)]);
                run_suite(&cx, &[sync, a, b]).await;
            });
        });
        let lines = log.lines();
        let of = |prefix: &str| -> Vec<String> {
            lines
                .iter()
                .filter(|l| l.starts_with(prefix))
                .cloned()
                .collect()
        };
        assert_eq!(of("a"), chatty_lines(&["a1", "a2"]), "{s:?}");
        assert_eq!(of("b"), chatty_lines(&["b1", "b2"]), "{s:?}");
        assert_eq!(
            lines[lines.len() - 3..],
            chatty_lines(&["s1"])[..],
            "{s:?}: the sync module runs after the async ones"
        );
        let async_part: Vec<char> = lines[..lines.len() - 3]
            .iter()
            .map(|l| l.chars().next().unwrap())
            .collect();
        let switches = async_part.windows(2).filter(|w| w[0] != w[1]).count();
        if switches > 1 {
            interleaved.push(s);
        }
    }
    assert!(
        interleaved.iter().any(|s| matches!(s, Schedule::Seed(_))),
        "no seed in 0..{SEEDS} interleaved the two async modules"
    );
}

/// Rule 46(f): a test whose process crashes — killed by a linked process's crash, or by a
/// panic in the body — ends with a reason other than `shutdown` and fails; its
/// `start_supervised` child is still stopped, its `on_exit` still runs, and the runner goes
/// on with the next test, which passes.
#[test]
fn r46_crashing_test_fails_with_its_reason_and_the_runner_continues() {
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, log, _) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let (l1, p1) = (log.clone(), p.clone());
                let killed = case("killed", move |tc| {
                    let (log, p) = (l1.clone(), p1.clone());
                    async move {
                        let cx = tc.cx();
                        tc.start_supervised(Worker::new("sv", &log, &p).trapping().spec())
                            .await
                            .expect("starts");
                        let l = log.clone();
                        tc.on_exit(test_fn(move |_| {
                            let l = l.clone();
                            async move { l.push("killed on_exit") }
                        }))
                        .await;
                        log.push("killed body waits");
                        cx.spawn_link(|lcx| async move {
                            lcx.yield_now().await;
                            custom("boom")
                        })
                        .await;
                        forever(cx).await;
                        log.push("unreachable");
                    }
                });
                let (l2, p2) = (log.clone(), p.clone());
                let panics = case("panics", move |tc| {
                    let (log, p) = (l2.clone(), p2.clone());
                    async move {
                        tc.start_supervised(Worker::new("sv", &log, &p).trapping().spec())
                            .await
                            .expect("starts");
                        let l = log.clone();
                        tc.on_exit(test_fn(move |_| {
                            let l = l.clone();
                            async move { l.push("panics on_exit") }
                        }))
                        .await;
                        log.push("panics body panics");
                        if log.count("panics body panics") == 1 {
                            panic!("assertion failed");
                        }
                        log.push("unreachable");
                    }
                });
                let l3 = log.clone();
                let next = case("next", move |_| {
                    let log = l3.clone();
                    async move { log.push("next runs") }
                });
                res.set(run_suite(&cx, &[module("M", false, vec![killed, panics, next])]).await);
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "init sv",
                "killed body waits",
                "term sv shutdown",
                "killed on_exit",
                "init sv",
                "panics body panics",
                "term sv shutdown",
                "panics on_exit",
                "next runs",
            ],
            "{s:?}"
        );
        let r = results.get();
        assert_eq!(r.len(), 3, "{s:?}");
        assert!(!r[0].passed(), "{s:?}: {:?}", r[0].exit);
        assert!(!r[1].passed(), "{s:?}: {:?}", r[1].exit);
        let w = sim.world();
        let exits = test_exits(&w, &r);
        // killed by its link: the process's reason is the crash's; the panicking test's
        // process exits shutdown, its failure is in the result
        assert_eq!(exits[0], custom("boom"), "{s:?}");
        assert_eq!(r[0].failure, Some(custom("boom")), "{s:?}");
        assert_eq!(exits[1], ExitReason::Shutdown, "{s:?}");
        assert!(
            matches!(&r[1].failure, Some(ExitReason::Custom(m)) if m.starts_with("panic")),
            "{s:?}: {:?}",
            r[1].failure
        );
        assert_eq!(exits[2], ExitReason::Shutdown, "{s:?}");
        assert_eq!(w.live_count(), 0, "{s:?}");
    }
}

/// Rule 46: ExUnit's `Runner.exec_test` catches every raise and exit of the body, and the
/// test process then does `exit(:shutdown)`; the failure travels in the test's result, not
/// in its process's exit reason. So when an assertion fails (a panic), a trapping process
/// linked to the test still gets `{EXIT, test, shutdown}`, and the test process's reason
/// is `shutdown`.
#[test]
fn r46_panicking_body_still_ends_the_test_process_with_shutdown() {
    for s in schedules() {
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let panics = case("panics", move |tc| {
                    let (log, p) = (log.clone(), p.clone());
                    async move {
                        let cx = tc.cx();
                        let me = cx.me();
                        p.set("test", me);
                        let l = log.clone();
                        let trapper = cx
                            .spawn_link(move |lcx| async move {
                                lcx.trap_exit(true);
                                lcx.send(me, Ready).await;
                                let env = lcx
                                    .recv_match(Matcher::when(move |e| {
                                        e.from == me && e.exit_reason().is_some()
                                    }))
                                    .await;
                                let r = env.exit_reason().expect("an EXIT");
                                l.push(format!("trapper got EXIT: {r:?}"));
                            })
                            .await;
                        cx.recv_match(Matcher::when(move |e| e.from == trapper && e.is::<Ready>()))
                            .await;
                        if !log.contains("never") {
                            panic!("assertion failed");
                        }
                    }
                });
                run_suite(&cx, &[module("M", false, vec![panics])]).await;
            });
        });
        assert_eq!(log.lines(), vec!["trapper got EXIT: shutdown"], "{s:?}");
        assert_eq!(
            sim.world().exit_reason(pids.get("test")),
            Some(&ExitReason::Shutdown),
            "{s:?}"
        );
    }
}

/// Rule 46 (as above: the body's `exit(:normal)` is caught and the test process exits
/// `shutdown`): a non-trapping process linked to the test dies with it even when the body
/// calls `exit(:normal)`.
#[test]
fn r46_body_exiting_normal_still_kills_linked_processes() {
    for s in schedules() {
        let (sim, _, pids) = run_world(s, move |sim, _, p| {
            sim.spawn("suite", move |cx| async move {
                let exits_normal = case("exits_normal", move |tc| {
                    let p = p.clone();
                    async move {
                        let cx = tc.cx();
                        let linked = cx
                            .spawn_link(|lcx| async move { forever(&lcx).await })
                            .await;
                        p.set("linked", linked);
                        if p.get("linked") == linked {
                            cx.exit(ExitReason::Normal);
                        }
                    }
                });
                run_suite(&cx, &[module("M", false, vec![exits_normal])]).await;
            });
        });
        assert_eq!(
            sim.world().exit_reason(pids.get("linked")),
            Some(&ExitReason::Shutdown),
            "{s:?}: a non-trapping process linked to the test dies with it"
        );
    }
}

/// `TestResult.orphans`: a process the test spawned with plain `spawn` that is still alive
/// after the test — and the process it spawned in turn — are listed; a test that only used
/// `start_supervised` (and `on_exit`), or whose unlinked process finished, leaves none.
#[test]
fn r46_orphans_lists_live_unlinked_spawns_and_is_empty_with_start_supervised_only() {
    for s in schedules() {
        let results = Slot::<Vec<TestResult>>::new();
        let res = results.clone();
        let (sim, _, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let p1 = p.clone();
                let spawns = case("spawns", move |tc| {
                    let p = p1.clone();
                    async move {
                        spawn_orphan(tc.cx(), &p, "stray").await;
                    }
                });
                let (l2, p2) = (log.clone(), p.clone());
                let supervised = case("supervised", move |tc| {
                    let (log, p) = (l2.clone(), p2.clone());
                    async move {
                        tc.start_supervised(Worker::new("sv", &log, &p).trapping().spec())
                            .await
                            .expect("starts");
                        tc.start_supervised(Worker::new("plain", &log, &p).spec())
                            .await
                            .expect("starts");
                        tc.on_exit(test_fn(|_| async {})).await;
                    }
                });
                let finished = case("finished", move |tc| async move {
                    let cx = tc.cx();
                    let q = cx.spawn(|qcx| async move { qcx.yield_now().await }).await;
                    let m = cx.monitor(q).await;
                    cx.recv_match(Matcher::Tag(m)).await;
                });
                let tests = vec![spawns, supervised, finished];
                res.set(run_suite(&cx, &[module("M", false, tests)]).await);
            });
        });
        let r = results.get();
        let (stray, grandchild) = (pids.get("stray"), pids.get("stray.grandchild"));
        assert_eq!(r[0].orphans, vec![stray, grandchild], "{s:?}");
        assert_eq!(r[1].orphans, Vec::<Pid>::new(), "{s:?}");
        assert_eq!(r[2].orphans, Vec::<Pid>::new(), "{s:?}");
        let w = sim.world();
        assert_eq!(test_exits(&w, &r), vec![ExitReason::Shutdown; 3], "{s:?}");
        assert!(w.is_alive(stray) && w.is_alive(grandchild), "{s:?}");
        assert_eq!(
            w.live_count(),
            2,
            "{s:?}: only the stray processes are left"
        );
    }
}

// ---- rule 47: stopping an application kills its group -------------------------------

/// Rule 47: after `application::stop` returns, every process spawned inside the
/// application is dead — supervised children with `shutdown`, and with `killed` the
/// unlinked processes nobody supervises, whether spawned by a child's `init` or by a child
/// serving a test's call (and what they spawned in turn) — while the processes a test
/// process spawned (plain `spawn`, `Task.start`) are not in the group and live on.
#[test]
fn r47_application_stop_kills_its_orphans_but_not_what_tests_spawned() {
    for s in schedules() {
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let sub = SupSpec::new(
                    Strategy::OneForOne,
                    vec![Worker::new("x", &log, &p).with_orphan().spec()],
                );
                let children = vec![
                    Worker::new("w", &log, &p).trapping().with_orphan().spec(),
                    ChildSpec::supervisor("sub", sub, None),
                ];
                let app = start_app(&cx, children).await;
                p.set("master", app.master);
                let (l1, p1) = (log.clone(), p.clone());
                let t = case("t", move |tc| {
                    let (log, p) = (l1.clone(), p1.clone());
                    async move {
                        let cx = tc.cx();
                        let via_app: Pid =
                            gen_server::call(cx, "w", Req::SpawnOrphan("w.req"), None).await;
                        let own = spawn_orphan(cx, &p, "test.spawn").await;
                        let t = task::start(cx, |tcx| async move { forever(&tcx).await }).await;
                        p.set("test.task", t);
                        log.push(format!("t spawned {via_app} {own} {t}"));
                    }
                });
                run_suite(&cx, &[module("M", false, vec![t])]).await;
                application::stop(&cx, app).await;
                let mut alive = Vec::new();
                for k in [
                    "w",
                    "w.orphan",
                    "w.orphan.grandchild",
                    "x",
                    "x.orphan",
                    "x.orphan.grandchild",
                    "w.req",
                    "w.req.grandchild",
                    "test.spawn",
                    "test.spawn.grandchild",
                    "test.task",
                ] {
                    alive.push(format!("{k}={}", cx.is_alive(p.get(k)).await));
                }
                log.push(format!("after stop: {}", alive.join(" ")));
                log.push(format!("group: {:?}", live_in_group(&cx, app).await));
            });
        });
        assert_eq!(
            log.starting_with("after stop"),
            vec![
                "after stop: w=false w.orphan=false w.orphan.grandchild=false x=false \
                 x.orphan=false x.orphan.grandchild=false w.req=false w.req.grandchild=false \
                 test.spawn=true test.spawn.grandchild=true test.task=true"
            ],
            "{s:?}"
        );
        assert_eq!(log.starting_with("group"), vec!["group: []"], "{s:?}");
        assert!(log.contains("term w shutdown"), "{s:?}");
        let w = sim.world();
        let g = w.group(pids.get("master"));
        assert_exited(&w, &pids, &["w", "x"], ExitReason::Shutdown, s);
        for k in [
            "w.orphan",
            "w.orphan.grandchild",
            "x.orphan",
            "x.orphan.grandchild",
            "w.req",
            "w.req.grandchild",
        ] {
            assert_eq!(w.group(pids.get(k)), g, "{s:?}: {k} is in the app's group");
            assert_eq!(
                w.exit_reason(pids.get(k)),
                Some(&ExitReason::Killed),
                "{s:?}: {k}"
            );
        }
        for k in ["test.spawn", "test.spawn.grandchild", "test.task"] {
            assert_ne!(w.group(pids.get(k)), g, "{s:?}: {k}");
            assert!(w.is_alive(pids.get(k)), "{s:?}: {k}");
        }
    }
}

/// Rule 47: when the top supervisor is killed, the application stops as if it had been
/// stopped: the children die with the supervisor (`killed` through their links) and the
/// group's remaining processes — an orphan, its grandchild — are killed; a process a test
/// spawned lives on.
#[test]
fn r47_killing_the_top_supervisor_kills_the_whole_group() {
    for s in schedules() {
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let children = vec![
                    Worker::new("w", &log, &p).trapping().with_orphan().spec(),
                    Worker::new("v", &log, &p).spec(),
                ];
                let app = start_app(&cx, children).await;
                p.set("master", app.master);
                p.set("app_sup", app.supervisor);
                let p1 = p.clone();
                let t = case("t", move |tc| {
                    let p = p1.clone();
                    async move {
                        spawn_orphan(tc.cx(), &p, "test.spawn").await;
                    }
                });
                run_suite(&cx, &[module("M", false, vec![t])]).await;
                let m = cx.monitor(app.master).await;
                cx.exit_signal(app.supervisor, ExitReason::Kill).await;
                let env = cx.recv_match(Matcher::Tag(m)).await;
                log.push(format!(
                    "master down: {:?}",
                    env.down().map(|d| d.2.clone())
                ));
                log.push(format!("group: {:?}", live_in_group(&cx, app).await));
            });
        });
        // w traps exits, but whether its `terminate` runs before the application kills it
        // is a race (as on the BEAM): only its death is certain.
        assert_eq!(
            log.starting_with("master"),
            vec!["master down: Some(normal)"],
            "{s:?}"
        );
        assert_eq!(log.starting_with("group"), vec!["group: []"], "{s:?}");
        let w = sim.world();
        assert_exited(&w, &pids, &["app_sup"], ExitReason::Killed, s);
        assert_exited(
            &w,
            &pids,
            &["w", "v", "w.orphan", "w.orphan.grandchild"],
            ExitReason::Killed,
            s,
        );
        assert!(w.is_alive(pids.get("test.spawn")), "{s:?}");
        assert!(w.is_alive(pids.get("test.spawn.grandchild")), "{s:?}");
    }
}

/// Rule 47 (with rule 36): a child that crashes in a loop exhausts the top supervisor's
/// intensity (3 restarts, the 4th crash stops it); the supervisor stops its other children
/// and exits `shutdown`, and the application then kills the group's orphans.
#[test]
fn r47_top_supervisor_exceeding_intensity_stops_the_application_and_kills_orphans() {
    for s in schedules() {
        let (sim, log, pids) = run_world(s, move |sim, log, p| {
            sim.spawn("suite", move |cx| async move {
                let l = log.clone();
                let children = vec![
                    Worker::new("w", &log, &p).trapping().with_orphan().spec(),
                    ChildSpec::server("looper", None, move || Looper { log: l.clone() }),
                ];
                let app = start_app(&cx, children).await;
                p.set("master", app.master);
                p.set("app_sup", app.supervisor);
                // The application may be gone before the monitor is set (a slow test
                // process, a fast crash loop): its DOWN then says `noproc`, and the reason
                // the master exited with is the one the kernel recorded.
                let m = cx.monitor(app.master).await;
                let env = cx.recv_match(Matcher::Tag(m)).await;
                let reason = match env.down().map(|d| d.2.clone()) {
                    Some(ExitReason::NoProc) => cx.world().exit_reason(app.master).cloned(),
                    other => other,
                };
                log.push(format!("master down: {reason:?}"));
                log.push(format!("group: {:?}", live_in_group(&cx, app).await));
            });
        });
        assert_eq!(
            log.lines(),
            vec![
                "init w",
                "init looper",
                "init looper",
                "init looper",
                "init looper",
                "term w shutdown",
                "master down: Some(normal)",
                "group: []",
            ],
            "{s:?}"
        );
        let w = sim.world();
        assert_exited(&w, &pids, &["app_sup", "w"], ExitReason::Shutdown, s);
        assert_exited(
            &w,
            &pids,
            &["w.orphan", "w.orphan.grandchild"],
            ExitReason::Killed,
            s,
        );
        assert_eq!(w.live_count(), 0, "{s:?}");
    }
}
