//! `Task` and `Task.Supervisor` (OTP_MODEL rules 42–44).
//!
//! - [`start_link`]: a linked, unsupervised process: it dies with its caller unless the
//!   caller exits `normal`, in which case it runs on as an orphan (rule 42);
//! - [`start`]: unlinked; survives anything (rule 43);
//! - [`async_task`] / [`await_task`]: linked and monitored, the result comes back tagged;
//! - [`supervisor_start_link`], [`start_child`], [`async_nolink`]: temporary children of a
//!   task supervisor, not linked to the caller, shut down with the tree (rule 44).

use super::gen_server::{ReplyMsg, ServerRef, StartError};
use super::supervisor::{self, ChildSpec, Restart, Strategy, SupReply, SupSpec};
use crate::sim::{Body, Cx, ExitReason, IntoExitReason, Matcher, Payload, Pid, Ref};
use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::rc::Rc;

/// `Task.start_link/1`.
pub async fn start_link<F, Fut, O>(cx: &Cx, body: F) -> Pid
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = O> + 'static,
    O: IntoExitReason,
{
    cx.spawn_link(body).await
}

/// `Task.start/1`.
pub async fn start<F, Fut, O>(cx: &Cx, body: F) -> Pid
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = O> + 'static,
    O: IntoExitReason,
{
    cx.spawn(body).await
}

/// A task whose result the owner will await.
#[derive(Debug)]
pub struct Task<T> {
    /// The task's process.
    pub pid: Pid,
    /// Monitor reference, also the reply tag.
    pub mref: Ref,
    _t: PhantomData<fn() -> T>,
}

#[derive(Debug)]
struct Go(Ref);

/// The body a task process runs: wait for the owner's go (with the reply tag), compute,
/// send the result to the tag.
async fn task_body<T: Payload, Fut: Future<Output = T>>(
    cx: Cx,
    owner: Pid,
    f: impl FnOnce(Cx) -> Fut,
) {
    let (_, Go(tag)) = cx.recv_type::<Go>().await;
    let value = f(cx.clone()).await;
    cx.send_tagged(owner, tag, ReplyMsg(value)).await;
}

async fn arm<T>(cx: &Cx, pid: Pid) -> Task<T> {
    let mref = cx.monitor(pid).await;
    cx.alias(mref);
    cx.send(pid, Go(mref)).await;
    Task {
        pid,
        mref,
        _t: PhantomData,
    }
}

/// `Task.async/1`: linked to and monitored by the caller.
pub async fn async_task<T, F, Fut>(cx: &Cx, f: F) -> Task<T>
where
    T: Payload,
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = T> + 'static,
{
    let owner = cx.me();
    let pid = cx.spawn_link(move |tcx| task_body(tcx, owner, f)).await;
    arm(cx, pid).await
}

/// `Task.yield/2`: `Some(Ok(value))`, `Some(Err(reason))` if the task died, `None` on
/// timeout (the task keeps running and may still be awaited).
pub async fn yield_task<T: Payload>(
    cx: &Cx,
    task: &Task<T>,
    timeout_ms: u64,
) -> Option<Result<T, ExitReason>> {
    let env = cx.recv_timeout(Matcher::Tag(task.mref), timeout_ms).await?;
    cx.unalias(task.mref);
    Some(match env.body {
        Body::Down { reason, .. } => Err(reason),
        _ => {
            cx.demonitor(task.mref, true).await;
            Ok(env
                .downcast::<ReplyMsg<T>>()
                .expect("task replies carry its result type")
                .0)
        }
    })
}

/// `Task.await/2`: the value; the caller exits if the task died or the timeout passed.
pub async fn await_task<T: Payload>(cx: &Cx, task: Task<T>, timeout_ms: u64) -> T {
    match yield_task(cx, &task, timeout_ms).await {
        Some(Ok(v)) => v,
        Some(Err(reason)) => cx.exit(ExitReason::CallFailed(Box::new(reason))),
        None => {
            cx.unalias(task.mref);
            cx.demonitor(task.mref, true).await;
            cx.exit(ExitReason::CallFailed(Box::new(ExitReason::Timeout)))
        }
    }
}

/// `Task.Supervisor.start_link/1`: a supervisor of temporary children that stops them
/// all at once (rule 40).
pub async fn supervisor_start_link(cx: &Cx, name: Option<ServerRef>) -> Result<Pid, StartError> {
    let mut spec = SupSpec::new(Strategy::OneForOne, Vec::new());
    spec.concurrent_shutdown = true;
    supervisor::start_link(cx, spec, name).await
}

/// A task supervisor as a child of another supervisor.
pub fn supervisor_child_spec(id: &str, name: Option<ServerRef>) -> ChildSpec {
    let mut spec = SupSpec::new(Strategy::OneForOne, Vec::new());
    spec.concurrent_shutdown = true;
    ChildSpec::supervisor(id, spec, name)
}

fn once_spec<F, Fut, O>(body: F) -> ChildSpec
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = O> + 'static,
    O: IntoExitReason,
{
    let body = Rc::new(RefCell::new(Some(body)));
    ChildSpec::new("", move |cx: Cx| {
        let body = body.borrow_mut().take();
        async move {
            let body = body.ok_or(StartError::Failed(ExitReason::custom(
                "temporary task restarted",
            )))?;
            Ok(cx.spawn_link(body).await)
        }
    })
    .restart(Restart::Temporary)
}

/// `Task.Supervisor.start_child/2`: a temporary child of `sup`, not linked to the caller.
pub async fn start_child<F, Fut, O>(
    cx: &Cx,
    sup: impl Into<ServerRef>,
    body: F,
) -> Result<Pid, StartError>
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = O> + 'static,
    O: IntoExitReason,
{
    match supervisor::start_child(cx, sup, once_spec(body)).await {
        SupReply::Started(pid) => Ok(pid),
        SupReply::StartFailed(e) => Err(e),
        other => Err(StartError::Failed(ExitReason::custom(format!("{other:?}")))),
    }
}

/// `Task.Supervisor.async_nolink/2`: supervised by `sup`, monitored (not linked) by the
/// caller, whose result the caller can await.
pub async fn async_nolink<T, F, Fut>(
    cx: &Cx,
    sup: impl Into<ServerRef>,
    f: F,
) -> Result<Task<T>, StartError>
where
    T: Payload,
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = T> + 'static,
{
    let owner = cx.me();
    let pid = start_child(cx, sup, move |tcx| task_body(tcx, owner, f)).await?;
    Ok(arm(cx, pid).await)
}

/// Convenience: a `GenServer.call` on the task supervisor's children.
pub async fn children(cx: &Cx, sup: impl Into<ServerRef>) -> Vec<Pid> {
    supervisor::which_children(cx, sup)
        .await
        .into_iter()
        .filter_map(|(_, p)| p)
        .collect()
}
