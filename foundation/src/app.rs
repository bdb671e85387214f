//! The Foundation supervisor and application.
//!
//! Children, in order: (the namespace's Registry, GracefulDegradation's server,)
//! ConfigServer, EventStore, TelemetryService, TaskSupervisor. The retry server reaches
//! the ConfigServer by name, not by pid, so it sits *before* it: a ConfigServer restart
//! under `rest_for_one` must not take the pending updates down with it. Report-era
//! strategy `one_for_one` (F7); fixed `rest_for_one`, so a ConfigServer restart restarts
//! its dependents after it.
//!
//! The application runs under [`application`]'s master (rules 45, 47).

use super::config::ConfigServer;
use super::degradation::Degradation;
use super::events::EventStore;
use super::telemetry::TelemetryService;
use super::{Flaw, ServiceContext, label};
use fsim::otp::application::{self, App};
use fsim::otp::gen_server::{self, StartError, StartOpts};
use fsim::otp::{ChildSpec, ServerRef, Strategy, SupSpec, registry, supervisor, task};
use fsim::sim::{Cx, Pid};

/// The supervisor's flags and children for `ctx`.
pub fn supervisor_spec(ctx: &ServiceContext) -> SupSpec {
    let strategy = if ctx.has(Flaw::OneForOneDeps) {
        Strategy::OneForOne
    } else {
        Strategy::RestForOne
    };
    let mut children = Vec::new();
    if let Some(r) = ctx.registry().map(str::to_string) {
        children.push(ChildSpec::new("registry", move |cx| {
            let r = r.clone();
            async move { registry::start_link(&cx, &r).await }
        }));
    }
    if !ctx.has(Flaw::UnsupervisedRetry) {
        let c = ctx.clone();
        children.push(ChildSpec::server(
            label::DEGRADATION,
            Some(super::degradation::server_name(ctx)),
            move || Degradation::new(c.clone()),
        ));
    }
    let c = ctx.clone();
    children.push(ChildSpec::server(
        label::CONFIG,
        Some(ctx.name(label::CONFIG)),
        move || ConfigServer::new(c.clone()),
    ));
    let c = ctx.clone();
    children.push(ChildSpec::server(
        label::EVENTS,
        Some(ctx.name(label::EVENTS)),
        move || EventStore::new(c.clone()),
    ));
    let c = ctx.clone();
    children.push(ChildSpec::server(
        label::TELEMETRY,
        Some(ctx.name(label::TELEMETRY)),
        move || TelemetryService::new(c.clone()),
    ));
    children.push(task::supervisor_child_spec(
        label::TASKS,
        Some(ctx.name(label::TASKS)),
    ));
    SupSpec::new(strategy, children)
}

/// `Foundation.Supervisor.start_link/1`, registered under the namespace's supervisor name.
pub async fn start_link(cx: &Cx, ctx: &ServiceContext) -> Result<Pid, StartError> {
    let name = ServerRef::Name(ctx.supervisor_name());
    let pid = supervisor::start_link(cx, supervisor_spec(ctx), Some(name)).await?;
    Ok(pid)
}

/// The whole tree as one child (what a test hands to `start_supervised`).
pub fn child_spec(ctx: &ServiceContext) -> ChildSpec {
    ChildSpec::supervisor(
        "foundation",
        supervisor_spec(ctx),
        Some(ServerRef::Name(ctx.supervisor_name())),
    )
}

/// Report-era `ensure_started` (F8): when the ConfigServer is not registered, the caller
/// starts one itself — linked to the caller, outside the tree.
pub async fn ensure_started(cx: &Cx, ctx: &ServiceContext) {
    let name = ctx.name(label::CONFIG);
    if gen_server::whereis(cx, &name).await.is_none() {
        let _ = gen_server::start_link(cx, ConfigServer::new(ctx.clone()), StartOpts::named(name))
            .await;
    }
}

/// `Application.start(:foundation)`: returns once the tree is up.
pub async fn start(cx: &Cx, ctx: &ServiceContext) -> Result<App, StartError> {
    let ctx = ctx.clone();
    application::start(cx, label::APP, move |mcx| async move {
        start_link(&mcx, &ctx).await
    })
    .await
}

/// `Application.stop(:foundation)`: returns once every process of the application is gone.
pub async fn stop(cx: &Cx, app: App) {
    application::stop(cx, app).await
}
