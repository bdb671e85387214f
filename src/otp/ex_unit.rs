//! A model of ExUnit's test runner (OTP_MODEL rules 45–47), so that test-suite races —
//! tests fighting the application's supervisor, state leaking between tests, orphans —
//! are part of the simulated world.
//!
//! Per test, as `ExUnit.Runner` does it: the body runs in a fresh process, which then
//! exits `shutdown` (so non-trapping processes linked to it die with it); children of
//! [`TestCx::start_supervised`] live under a per-test supervisor linked to the test
//! process and are stopped before anything else happens; `on_exit` callbacks run
//! afterwards in another process, last registered first. Async modules run concurrently
//! with each other; sync modules run one after another, after them.

use super::gen_server::{CatchPanic, StartError};
use super::supervisor::{self, ChildSpec, Strategy, SupReply, SupSpec};
use crate::sim::{Cx, ExitReason, Matcher, Pid, SpawnOpts, World};
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// A test body or an `on_exit` callback.
pub type TestFn = Rc<dyn Fn(TestCx) -> Pin<Box<dyn Future<Output = ()>>>>;

/// Builds a [`TestFn`] from an async closure.
pub fn test_fn<F, Fut>(f: F) -> TestFn
where
    F: Fn(TestCx) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Rc::new(move |t| Box::pin(f(t)))
}

/// One test.
#[derive(Clone)]
pub struct TestCase {
    /// Its name.
    pub name: String,
    /// Setup and body (setup is the body's first lines, as a `setup` block's effects run
    /// in the test process).
    pub body: TestFn,
}

impl fmt::Debug for TestCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestCase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A test module.
#[derive(Clone, Debug)]
pub struct Module {
    /// Its name.
    pub name: String,
    /// `use ExUnit.Case, async: true`.
    pub async_: bool,
    /// Its tests, run one after another.
    pub tests: Vec<TestCase>,
}

/// How one test ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// The test process.
    pub pid: Pid,
    /// The test process's exit reason: `shutdown`, unless a signal killed it.
    pub exit: ExitReason,
    /// Why the test failed: the body raised or exited (the runner catches it, reports it,
    /// and the process still exits `shutdown`), or the process was killed.
    pub failure: Option<ExitReason>,
    /// Live processes descended from the test process once its `on_exit` has run.
    pub orphans: Vec<Pid>,
}

impl TestResult {
    /// The body returned normally.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// What a test body gets: its process's [`Cx`] and the ExUnit callbacks.
#[derive(Clone)]
pub struct TestCx {
    cx: Cx,
    runner: Pid,
    sup: Rc<Cell<Option<Pid>>>,
}

#[derive(Debug)]
struct SupStarted(Pid);

#[derive(Debug)]
struct Go;

#[derive(Debug)]
struct BodyFailed(ExitReason);

struct OnExit(TestFn);

impl fmt::Debug for OnExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnExit(..)")
    }
}

impl TestCx {
    /// The test process's context.
    pub fn cx(&self) -> &Cx {
        &self.cx
    }

    /// `start_supervised/2`: starts `spec` under the test's supervisor (started on first
    /// use, linked to the test process).
    pub async fn start_supervised(&self, spec: ChildSpec) -> Result<Pid, StartError> {
        let sup = match self.sup.get() {
            Some(s) => s,
            None => {
                let mut flags = SupSpec::new(Strategy::OneForOne, Vec::new());
                flags.max_restarts = 1_000_000;
                flags.max_seconds = 1;
                let s = supervisor::start_link(&self.cx, flags, None).await?;
                self.sup.set(Some(s));
                self.cx.send(self.runner, SupStarted(s)).await;
                s
            }
        };
        match supervisor::start_child(&self.cx, sup, spec).await {
            SupReply::Started(pid) => Ok(pid),
            SupReply::StartFailed(e) => Err(e),
            other => Err(StartError::Failed(ExitReason::custom(format!("{other:?}")))),
        }
    }

    /// `on_exit/1`: runs after the test process has exited, in another process.
    pub async fn on_exit(&self, f: TestFn) {
        self.cx.send(self.runner, OnExit(f)).await;
    }
}

/// Runs `modules`: async ones concurrently (one lane process each), then sync ones in
/// order. Results come back in start order per module; `after` sees each as it ends.
pub async fn run(cx: &Cx, modules: &[Module], after: &Rc<dyn Fn(&TestResult)>) -> Vec<TestResult> {
    #[derive(Debug)]
    struct LaneDone(Vec<TestResult>);
    let me = cx.me();
    let mut lanes = Vec::new();
    for m in modules.iter().filter(|m| m.async_) {
        let m = m.clone();
        let after = after.clone();
        let lane = cx
            .spawn_opts(
                SpawnOpts::labelled(format!("ex_unit:{}", m.name)).linked(),
                move |lcx| async move {
                    let results = run_module(&lcx, &m, &after).await;
                    lcx.send(me, LaneDone(results)).await;
                },
            )
            .await;
        lanes.push(lane);
    }
    let mut results = Vec::new();
    for lane in lanes {
        let (_, LaneDone(r)) = {
            let env = cx
                .recv_match(Matcher::when(move |e| e.from == lane && e.is::<LaneDone>()))
                .await;
            (env.from, env.downcast::<LaneDone>().expect("matched"))
        };
        results.extend(r);
    }
    for m in modules.iter().filter(|m| !m.async_) {
        results.extend(run_module(cx, m, after).await);
    }
    results
}

async fn run_module(cx: &Cx, m: &Module, after: &Rc<dyn Fn(&TestResult)>) -> Vec<TestResult> {
    let mut results = Vec::new();
    for t in &m.tests {
        let r = run_test(cx, t).await;
        after(&r);
        results.push(r);
    }
    results
}

/// One test, the way `ExUnit.Runner.run_test` does it.
pub async fn run_test(cx: &Cx, t: &TestCase) -> TestResult {
    let runner = cx.me();
    let body = t.body.clone();
    let test = cx
        .spawn_opts(
            SpawnOpts::labelled(format!("test:{}", t.name)),
            move |tcx| async move {
                // `spawn_monitor`: the body starts only once the runner's monitor is in
                // place (it travels ahead of `Go` on the same channel).
                tcx.recv_match(Matcher::of::<Go>()).await;
                let tc = TestCx {
                    cx: tcx.clone(),
                    runner,
                    sup: Rc::new(Cell::new(None)),
                };
                // ExUnit.Runner.exec_test catches what the body raises or exits with,
                // reports it, and the test process exits `shutdown` all the same.
                let run = body(tc);
                if let Err(reason) = CatchPanic::new(&tcx, std::pin::pin!(run)).await {
                    tcx.send(runner, BodyFailed(reason)).await;
                }
                ExitReason::Shutdown
            },
        )
        .await;
    let mref = cx.monitor(test).await;
    cx.send(test, Go).await;
    let mut sup = None;
    let mut on_exit = Vec::new();
    let mut failure = None;
    let exit = loop {
        let env = cx
            .recv_match(Matcher::when(move |e| {
                e.from == test && (e.is::<SupStarted>() || e.is::<OnExit>() || e.is::<BodyFailed>())
                    || e.down().is_some_and(|(r, ..)| r == mref)
            }))
            .await;
        if let Some((_, _, reason)) = env.down() {
            break reason.clone();
        }
        let env = match env.downcast::<SupStarted>() {
            Ok(SupStarted(s)) => {
                sup = Some(s);
                continue;
            }
            Err(env) => env,
        };
        match env.downcast::<BodyFailed>() {
            Ok(BodyFailed(r)) => failure = Some(r),
            Err(env) => on_exit.push(env.downcast::<OnExit>().expect("matched").0),
        }
    };
    if exit != ExitReason::Shutdown && failure.is_none() {
        failure = Some(exit.clone()); // killed by a signal
    }
    // The test supervisor gets the test process's exit and stops its children.
    if let Some(s) = sup {
        let m = cx.monitor(s).await;
        cx.recv_match(Matcher::Tag(m)).await;
    }
    if !on_exit.is_empty() {
        let callbacks = on_exit;
        let name = t.name.clone();
        let p = cx
            .spawn_opts(
                SpawnOpts::labelled(format!("on_exit:{name}")),
                move |ocx| async move {
                    for f in callbacks.iter().rev() {
                        let tc = TestCx {
                            cx: ocx.clone(),
                            runner,
                            sup: Rc::new(Cell::new(None)),
                        };
                        f(tc).await;
                    }
                },
            )
            .await;
        let m = cx.monitor(p).await;
        cx.recv_match(Matcher::Tag(m)).await;
    }
    cx.yield_now().await; // reading the world is a global effect
    let orphans = descendants(&cx.world(), test);
    TestResult {
        name: t.name.clone(),
        pid: test,
        exit,
        failure,
        orphans,
    }
}

/// Live processes whose chain of spawners reaches `root`.
pub fn descendants(w: &World, root: Pid) -> Vec<Pid> {
    w.live_pids()
        .filter(|p| {
            let mut cur = w.parent(*p);
            while let Some(q) = cur {
                if q == root {
                    return true;
                }
                cur = w.parent(q);
            }
            false
        })
        .collect()
}
