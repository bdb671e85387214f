//! GracefulDegradation: when the ConfigServer is unavailable, an update is kept as
//! *pending* in a fallback table and retried in the background.
//!
//! Report-era (`UnsupervisedRetry`): the caller creates the fallback table (so it owns it)
//! and starts a retry loop with `Task.start_link` on every deferral — orphaned when the
//! caller exits `normal` (rule 10), one more loop per deferral, each applying the same
//! pending update. Fixed: a supervised server after the ConfigServer owns the table and
//! retries on a single timer.

use super::config::{self, ConfigMap};
use super::{ApiError, Flaw, ServiceContext, label};
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, Next};
use fsim::sim::{Cx, Envelope, SpawnOpts, Table};

/// Between retries.
pub const RETRY_INTERVAL_MS: u64 = 100;

/// One pending update: `id -> (path, value)`.
type Pending = Table<u64, (String, i64)>;

/// The fallback table's name in `ctx`'s namespace.
pub fn table_name(ctx: &ServiceContext) -> String {
    format!("{}.config_fallback", ctx.namespace())
}

/// The retry server's name. It is not one of the report's services, so it is named per
/// namespace even with `GlobalNames` on.
pub fn server_name(ctx: &ServiceContext) -> fsim::otp::ServerRef {
    fsim::otp::ServerRef::Name(format!("{}.{}", ctx.namespace(), label::DEGRADATION).into())
}

/// What [`update`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The ConfigServer took it.
    Now,
    /// Kept as pending with this id; it will be retried.
    Deferred(u64),
}

/// `GracefulDegradation.update_with_fallback/2`.
pub async fn update(
    cx: &Cx,
    ctx: &ServiceContext,
    path: &str,
    value: i64,
) -> Result<Applied, ApiError> {
    match config::update(cx, ctx, path, value, None).await {
        Ok(()) => Ok(Applied::Now),
        Err(ApiError::Unavailable(_)) => {
            let id = ctx.observer.next_id();
            ctx.observer
                .record(|l| drop(l.pending.insert(id, (path.to_string(), value))));
            if ctx.has(Flaw::UnsupervisedRetry) {
                defer_report_era(cx, ctx, id, path, value).await?;
            } else {
                let req = DegradationCast::Defer(id, path.to_string(), value);
                gen_server::cast(cx, server_name(ctx), req).await;
            }
            Ok(Applied::Deferred(id))
        }
        Err(e) => Err(e),
    }
}

async fn defer_report_era(
    cx: &Cx,
    ctx: &ServiceContext,
    id: u64,
    path: &str,
    value: i64,
) -> Result<(), ApiError> {
    let name = table_name(ctx);
    // `initialize_fallback_system/0`, run by whoever calls first: it owns the table.
    let table: Pending = match cx.table_by_name(&name).await {
        Some(t) => t,
        None => match cx.table_new_named(&name).await {
            Some(t) => t,
            None => return Err(ApiError::Unavailable("fallback table".into())),
        },
    };
    cx.table_insert(table, id, (path.to_string(), value))
        .await
        .map_err(|_| ApiError::Unavailable("fallback table".into()))?;
    // `Task.start_link(&retry_pending_updates/0)`.
    let ctx = ctx.clone();
    cx.spawn_opts(
        SpawnOpts::labelled(label::RETRY_TASK).linked(),
        move |tcx| async move { retry_loop(tcx, ctx, table).await },
    )
    .await;
    Ok(())
}

/// The report-era retry loop: forever, sleep, then try every pending update. It crashes
/// (`badarg`) when the table's owner has gone.
async fn retry_loop(cx: Cx, ctx: ServiceContext, table: Pending) -> fsim::sim::ExitReason {
    loop {
        cx.sleep(RETRY_INTERVAL_MS).await;
        let Ok(pending) = cx.table(table, "retry read", |m| snapshot(m)).await else {
            return fsim::sim::ExitReason::custom("badarg: fallback table gone");
        };
        for (id, (path, value)) in pending {
            if config::update(&cx, &ctx, &path, value, Some(id))
                .await
                .is_ok()
            {
                let _ = cx.table_remove(table, &id).await;
            }
        }
    }
}

fn snapshot(m: &std::collections::BTreeMap<u64, (String, i64)>) -> Vec<(u64, (String, i64))> {
    m.iter().map(|(k, v)| (*k, v.clone())).collect()
}

/// Casts to the fixed design's server.
#[derive(Debug)]
pub enum DegradationCast {
    /// Keep `(id, path, value)` and retry it.
    Defer(u64, String, i64),
}

#[derive(Debug)]
struct RetryTick;

/// The fixed design: a supervised server that owns the fallback table and retries pending
/// updates on one timer, one at a time, removing each once applied.
#[derive(Debug)]
pub struct Degradation {
    ctx: ServiceContext,
    table: Option<Pending>,
    /// A retry is scheduled.
    pub armed: bool,
    /// The last configuration seen through a successful retry (the fallback cache).
    pub cache: ConfigMap,
}

impl Degradation {
    /// A server for `ctx`.
    pub fn new(ctx: ServiceContext) -> Self {
        Degradation {
            ctx,
            table: None,
            armed: false,
            cache: ConfigMap::new(),
        }
    }

    fn arm(&mut self, cx: &Cx) {
        if !self.armed {
            self.armed = true;
            cx.send_after(cx.me(), RetryTick, RETRY_INTERVAL_MS);
        }
    }
}

impl GenServer for Degradation {
    type Call = ();
    type Reply = ();
    type Cast = DegradationCast;

    async fn init(&mut self, cx: &Cx) -> Init {
        match cx.table_new_named(&table_name(&self.ctx)).await {
            Some(t) => self.table = Some(t),
            None => {
                return Init::Stop(fsim::sim::ExitReason::custom("fallback table exists"));
            }
        }
        Init::Ok
    }

    async fn handle_call(&mut self, _: &Cx, _: (), _: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }

    async fn handle_cast(&mut self, cx: &Cx, msg: DegradationCast) -> Next {
        let DegradationCast::Defer(id, path, value) = msg;
        if let Some(t) = self.table {
            let _ = cx.table_insert(t, id, (path, value)).await;
        }
        self.arm(cx);
        Next::Continue
    }

    async fn handle_info(&mut self, cx: &Cx, msg: Envelope) -> Next {
        if !msg.is::<RetryTick>() {
            return Next::Continue;
        }
        self.armed = false;
        let Some(t) = self.table else {
            return Next::Continue;
        };
        let pending = cx
            .table(t, "retry read", |m| snapshot(m))
            .await
            .unwrap_or_default();
        for (id, (path, value)) in pending {
            if config::update(cx, &self.ctx, &path, value, Some(id))
                .await
                .is_ok()
            {
                let _ = cx.table_remove(t, &id).await;
                self.cache.insert(path, value);
            } else {
                self.arm(cx);
            }
        }
        Next::Continue
    }
}

/// Live retry tasks (report-era) — what `bounded_tasks` counts.
pub fn retry_tasks(world: &fsim::sim::World) -> Vec<fsim::sim::Pid> {
    world
        .live_pids()
        .filter(|p| world.label(*p) == Some(label::RETRY_TASK))
        .collect()
}
