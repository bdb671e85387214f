//! Applications (OTP_MODEL rules 45, 47): an application master, leader of a fresh spawn
//! group, starts the top supervisor. Stopping the application stops that supervisor (its
//! children in reverse order) and then kills every process left in the group — orphans
//! included; processes spawned by others (a test process) are not in the group and live
//! on. If the top supervisor dies, the application stops the same way.

use super::gen_server::StartError;
use crate::sim::{Body, Cx, ExitReason, Matcher, Pid, SpawnOpts};
use std::future::Future;

#[derive(Debug)]
struct AppStarted(Result<Pid, StartError>);

#[derive(Debug)]
struct StopApp;

/// A running application: its master and its top supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct App {
    /// The application master (group leader).
    pub master: Pid,
    /// The application's top supervisor.
    pub supervisor: Pid,
}

/// `Application.start/1`: spawns the application master (labelled `label`), which
/// starts the top supervisor with `top` in a fresh spawn group; returns once it is up.
pub async fn start<F, Fut>(cx: &Cx, label: &str, top: F) -> Result<App, StartError>
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = Result<Pid, StartError>> + 'static,
{
    let me = cx.me();
    let master = cx
        .spawn_opts(SpawnOpts::labelled(label), move |mcx| async move {
            master(mcx, top, me).await
        })
        .await;
    let mref = cx.monitor(master).await;
    let env = cx
        .recv_match(Matcher::when(move |e| {
            e.from == master && e.is::<AppStarted>() || e.down().is_some_and(|(r, ..)| r == mref)
        }))
        .await;
    cx.demonitor(mref, true).await;
    match env.downcast::<AppStarted>() {
        Ok(AppStarted(r)) => r.map(|supervisor| App { master, supervisor }),
        Err(env) => Err(StartError::Failed(
            env.down().map_or(ExitReason::NoProc, |(_, _, r)| r.clone()),
        )),
    }
}

/// `Application.stop/1`: stops the top supervisor (its children in reverse order), then
/// kills every process left in the application's group; returns once all are gone.
pub async fn stop(cx: &Cx, app: App) {
    let mref = cx.monitor(app.master).await;
    cx.send(app.master, StopApp).await;
    cx.recv_match(Matcher::Tag(mref)).await;
}

async fn master<F, Fut>(cx: Cx, top: F, starter: Pid) -> ExitReason
where
    F: FnOnce(Cx) -> Fut,
    Fut: Future<Output = Result<Pid, StartError>>,
{
    cx.new_group();
    cx.trap_exit(true);
    let started = top(cx.clone()).await;
    cx.send(starter, AppStarted(started.clone())).await;
    let Ok(sup) = started else {
        return ExitReason::Normal;
    };
    // Wait for a stop request, or for the tree to die (then the application stops too).
    let env = cx
        .recv_match(Matcher::when(move |e| {
            e.is::<StopApp>() || (e.exit_reason().is_some() && e.from == sup)
        }))
        .await;
    if let Body::Data { .. } = env.body {
        cx.exit_signal(sup, ExitReason::Shutdown).await;
        cx.recv_match(Matcher::when(move |e| {
            e.exit_reason().is_some() && e.from == sup
        }))
        .await;
    }
    kill_group(&cx).await;
    ExitReason::Normal
}

/// application_master's `kill_all_processes`: kills every other live process of the
/// group, and looks again until none is left.
async fn kill_group(cx: &Cx) {
    loop {
        cx.yield_now().await;
        let me = cx.me();
        let victims: Vec<Pid> = {
            let w = cx.world();
            let g = w.group(me);
            w.live_pids()
                .filter(|p| *p != me && w.group(*p) == g)
                .collect()
        };
        if victims.is_empty() {
            return;
        }
        for p in victims {
            let mref = cx.monitor(p).await;
            cx.exit_signal(p, ExitReason::Kill).await;
            cx.recv_match(Matcher::Tag(mref)).await;
        }
    }
}
