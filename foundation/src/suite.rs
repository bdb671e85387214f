//! The suite runner of a scenario: starts the application (rule 45), runs the clients and
//! the ExUnit tests, lets timers settle, stops the application (rule 47) and records what
//! the checks need in the [`Observer`] log.

use crate::config::{self, SubscriberReady};
use crate::ops::Op;
use crate::system::{Client, Foundation, TestSpec};
use crate::{ApiError, Flaw, Phase, ServiceContext, app, degradation, events, label, telemetry};
use fsim::otp::ex_unit::{self, Module, TestCase, TestCx, TestResult, test_fn};
use fsim::otp::gen_server::{self, StartOpts};
use fsim::sim::{Cx, ExitReason, Matcher, Pid, SpawnOpts};
use std::rc::Rc;

/// What the runner needs from the scenario.
pub(super) struct Plan {
    app: ServiceContext,
    clients: Vec<Client>,
    tests: Vec<TestSpec>,
    settle_ms: u64,
}

impl Plan {
    pub(super) fn new(s: &Foundation, app: ServiceContext) -> Self {
        Plan {
            app,
            clients: s.clients.clone(),
            tests: s.tests.clone(),
            settle_ms: s.settle_ms,
        }
    }
}

/// The top process of a scenario's world.
pub(super) async fn run(cx: Cx, plan: Plan) -> ExitReason {
    let obs = plan.app.observer.clone();
    let Ok(running) = app::start(&cx, &plan.app).await else {
        return ExitReason::custom("the application failed to start");
    };
    obs.record(|l| {
        l.app_supervisor = Some(running.supervisor);
        l.phase = Phase::Running;
    });
    let mut clients = Vec::new();
    for c in &plan.clients {
        let c = c.clone();
        let ctx = plan.app.clone();
        let name = format!("client:{}", c.name);
        let pid = cx
            .spawn_opts(SpawnOpts::labelled(name.clone()), move |ccx| async move {
                for _ in 0..c.repeat {
                    for op in &c.ops {
                        perform(&ccx, &ctx, op).await;
                    }
                }
                for _ in 0..c.draws {
                    let i = ccx.draw(c.draw.len() as u32).await;
                    perform(&ccx, &ctx, &c.draw[i as usize]).await;
                }
            })
            .await;
        obs.record(|l| drop(l.workers.insert(pid, name)));
        clients.push(cx.monitor(pid).await);
    }
    let modules = modules(&plan);
    let o = obs.clone();
    let after: Rc<dyn Fn(&TestResult)> = Rc::new(move |r: &TestResult| {
        o.record(|l| {
            l.workers.insert(r.pid, format!("test:{}", r.name));
            l.tests.push(crate::observe::TestRecord {
                name: r.name.clone(),
                pid: r.pid,
                failure: r.failure.clone(),
                orphans: r.orphans.clone(),
            });
        })
    });
    ex_unit::run(&cx, &modules, &after).await;
    for mref in clients {
        cx.recv_match(Matcher::Tag(mref)).await;
    }
    cx.sleep(plan.settle_ms).await;
    obs.record(|l| l.phase = Phase::Stopping);
    app::stop(&cx, running).await;
    cx.yield_now().await;
    let orphans: Vec<Pid> = {
        let w = cx.world();
        w.live_pids()
            .filter(|p| !is_workload(w.label(*p)))
            .collect()
    };
    obs.record(|l| {
        l.orphans_at_stop = orphans;
        l.phase = Phase::Stopped;
    });
    ExitReason::Normal
}

/// The harness's own processes and the workload's: not orphans of the application.
fn is_workload(label: Option<&str>) -> bool {
    label.is_some_and(|l| l.starts_with("ex_unit") || l.starts_with("client:") || l == SUBSCRIBER)
}

const SUBSCRIBER: &str = "subscriber";

fn modules(plan: &Plan) -> Vec<Module> {
    let mut modules: Vec<Module> = Vec::new();
    for t in &plan.tests {
        let case = test_case(t, plan.app.clone());
        match modules.iter_mut().find(|m| m.name == t.module) {
            Some(m) => m.tests.push(case),
            None => modules.push(Module {
                name: t.module.clone(),
                async_: t.async_,
                tests: vec![case],
            }),
        }
    }
    modules
}

fn test_case(t: &TestSpec, app: ServiceContext) -> TestCase {
    let ops = Rc::new(t.ops.clone());
    let name = t.name.clone();
    TestCase {
        name: t.name.clone(),
        body: test_fn(move |tc: TestCx| {
            let ops = ops.clone();
            let app = app.clone();
            let name = name.clone();
            async move {
                let mut ctx = app.clone();
                for op in ops.iter() {
                    if *op == Op::Setup {
                        ctx = setup(&tc, &app, &name).await;
                    } else {
                        perform(tc.cx(), &ctx, op).await;
                    }
                }
            }
        }),
    }
}

/// A test's `setup` block, in the design the switches select.
async fn setup(tc: &TestCx, app: &ServiceContext, test: &str) -> ServiceContext {
    let cx = tc.cx();
    if app.has(Flaw::TestsTouchSupervised) {
        // config_server_test.exs: start_link, accepting the suite-wide instance ...
        let pid = match gen_server::start_link(
            cx,
            config::ConfigServer::new(app.clone()),
            StartOpts::named(app.name(label::CONFIG)),
        )
        .await
        {
            Ok(p) => p,
            Err(gen_server::StartError::AlreadyStarted(p)) => p,
            Err(e) => cx.exit(ExitReason::custom(format!("setup: {e:?}"))),
        };
        // ... and stopping it afterwards, `if Process.alive?(pid)`, ignoring exits.
        tc.on_exit(test_fn(move |oc: TestCx| async move {
            if oc.cx().is_alive(pid).await {
                let _ = gen_server::try_stop(oc.cx(), pid, ExitReason::Normal).await;
            }
        }))
        .await;
        return app.clone();
    }
    if app.has(Flaw::SharedState) {
        return app.clone(); // the suite-wide instances
    }
    let ns = format!("test.{test}");
    let own = ServiceContext::new(&ns, app.flaws().clone(), app.observer.clone());
    app.observer.record(|l| l.namespaces.push(ns.clone()));
    if let Err(e) = tc.start_supervised(app::child_spec(&own)).await {
        cx.exit(ExitReason::custom(format!(
            "start_supervised failed: {e:?}"
        )));
    }
    own
}

/// Runs one operation; typed errors are what the API promises, so they are ignored.
async fn perform(cx: &Cx, ctx: &ServiceContext, op: &Op) {
    match op {
        Op::Setup => unreachable!("setup runs in tests only (checked at parse)"),
        Op::Get(p) => drop(config::get_path(cx, ctx, p).await),
        Op::GetAll => drop(config::get(cx, ctx).await),
        Op::Update(p, v) => drop(config::update(cx, ctx, p, *v, None).await),
        Op::UpdateOrDefer(p, v) => drop(degradation::update(cx, ctx, p, *v).await),
        Op::Reset => drop(config::reset(cx, ctx).await),
        Op::Status => drop(config::status(cx, ctx).await),
        Op::Available => drop(config::available(cx, ctx).await),
        Op::Subscribe => subscribe(cx, ctx).await,
        Op::Store(n) => {
            for i in 0..*n {
                let e = events::Event::new("workload", format!("event {i}"));
                drop(events::store(cx, ctx, e).await);
            }
        }
        Op::Emit(n) => {
            for i in 0..*n {
                telemetry::execute(cx, ctx, &format!("workload.metric.{i}")).await;
            }
        }
        Op::CheckFresh => check_fresh(cx, ctx).await,
        Op::Sleep(ms) => cx.sleep(*ms).await,
    }
}

async fn subscribe(cx: &Cx, ctx: &ServiceContext) {
    let me = cx.me();
    let c = ctx.clone();
    let sub = cx
        .spawn_opts(SpawnOpts::labelled(SUBSCRIBER), move |scx| {
            config::subscriber(scx, c, me)
        })
        .await;
    let mref = cx.monitor(sub).await;
    cx.recv_match(Matcher::when(move |e| {
        (e.from == sub && e.is::<SubscriberReady>()) || e.down().is_some_and(|(r, ..)| r == mref)
    }))
    .await;
    cx.demonitor(mref, true).await;
}

/// What a test asserts at its start: default configuration, no events.
async fn check_fresh(cx: &Cx, ctx: &ServiceContext) {
    let mut mismatches = Vec::new();
    match config::get(cx, ctx).await {
        Ok(c) => {
            for (path, want) in config::defaults() {
                let got = c.get(&path).copied();
                if got != Some(want) {
                    mismatches.push(format!("{path} is {got:?}, a fresh tree has {want}"));
                }
            }
        }
        Err(ApiError::Unavailable(_)) | Err(ApiError::Invalid(_)) => {}
    }
    if let Ok((held, _, _)) = events::stats(cx, ctx).await
        && held > 0
    {
        mismatches.push(format!(
            "the EventStore holds {held} events, a fresh tree none"
        ));
    }
    let test = cx.world().label(cx.me()).unwrap_or("?").to_string();
    ctx.observer
        .record(|l| l.freshness.push((test, mismatches)));
}
