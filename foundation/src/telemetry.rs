//! TelemetryService: counters per event name, fed by casts, with a cap on the number of
//! metrics and periodic retention cleanup. It depends on the ConfigServer like the
//! EventStore does.

use super::config::{self, Dependency};
use super::{ApiError, Flaw, ServiceContext, call_service, label};
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, Next};
use fsim::sim::{Cx, Envelope, ExitReason};
use std::collections::BTreeMap;

/// The most metrics kept.
pub const MAX_METRICS: usize = 32;
/// How often stale metrics are removed.
pub const CLEANUP_INTERVAL_MS: u64 = 60_000;
/// A metric not updated for this long is removed.
pub const RETENTION_MS: u64 = 300_000;

/// One metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Executions.
    pub count: u64,
    /// Last execution (virtual ms).
    pub last_ms: u64,
}

/// Requests.
#[derive(Debug)]
pub enum TelemetryCall {
    /// All metrics.
    GetMetrics,
}

/// Replies.
#[derive(Debug)]
pub enum TelemetryReply {
    /// All metrics.
    Metrics(BTreeMap<String, Metric>),
}

/// Casts.
#[derive(Debug)]
pub enum TelemetryCast {
    /// `:telemetry.execute/3`.
    Execute(String),
}

#[derive(Debug)]
struct CleanupTick;

/// The service's state.
#[derive(Debug)]
pub struct TelemetryService {
    ctx: ServiceContext,
    /// Metrics by event name.
    pub metrics: BTreeMap<String, Metric>,
    /// Where the configuration came from.
    pub dependency: Option<Dependency>,
}

impl TelemetryService {
    /// A service for `ctx`.
    pub fn new(ctx: ServiceContext) -> Self {
        TelemetryService {
            ctx,
            metrics: BTreeMap::new(),
            dependency: None,
        }
    }

    /// Counts one execution of `name` at `now_ms`; past the cap the stalest metric goes
    /// (unless `UnboundedGrowth`).
    pub fn execute(&mut self, name: String, now_ms: u64) {
        let m = self.metrics.entry(name).or_insert(Metric {
            count: 0,
            last_ms: now_ms,
        });
        m.count += 1;
        m.last_ms = now_ms;
        if !self.ctx.has(Flaw::UnboundedGrowth) && self.metrics.len() > MAX_METRICS {
            let stalest = self
                .metrics
                .iter()
                .min_by_key(|(k, m)| (m.last_ms, (*k).clone()))
                .map(|(k, _)| k.clone());
            if let Some(k) = stalest {
                self.metrics.remove(&k);
            }
        }
    }

    /// Removes metrics older than the retention.
    pub fn cleanup(&mut self, now_ms: u64) {
        let cutoff = now_ms.saturating_sub(RETENTION_MS);
        self.metrics.retain(|_, m| m.last_ms >= cutoff);
    }
}

impl GenServer for TelemetryService {
    type Call = TelemetryCall;
    type Reply = TelemetryReply;
    type Cast = TelemetryCast;

    async fn init(&mut self, cx: &Cx) -> Init {
        match config::attach_dependent(cx, &self.ctx).await {
            Ok(d) => self.dependency = Some(d),
            Err(e) => return Init::Stop(ExitReason::custom(format!("config unavailable: {e}"))),
        }
        self.ctx
            .observer
            .record(|l| l.lifecycle.push((label::TELEMETRY.into(), cx.me(), true)));
        if !self.ctx.has(Flaw::UnboundedGrowth) {
            cx.send_after(cx.me(), CleanupTick, CLEANUP_INTERVAL_MS);
        }
        Init::Ok
    }

    async fn handle_call(
        &mut self,
        _: &Cx,
        req: TelemetryCall,
        _: Caller,
    ) -> CallReply<TelemetryReply> {
        match req {
            TelemetryCall::GetMetrics => {
                CallReply::Reply(TelemetryReply::Metrics(self.metrics.clone()))
            }
        }
    }

    async fn handle_cast(&mut self, cx: &Cx, msg: TelemetryCast) -> Next {
        let TelemetryCast::Execute(name) = msg;
        self.execute(name, cx.now_ms());
        Next::Continue
    }

    async fn handle_info(&mut self, cx: &Cx, msg: Envelope) -> Next {
        if msg.is::<config::AttachTick>() {
            config::retry_attach(cx, &self.ctx, &mut self.dependency).await;
        } else if msg.is::<CleanupTick>() {
            self.cleanup(cx.now_ms());
            cx.send_after(cx.me(), CleanupTick, CLEANUP_INTERVAL_MS);
        }
        Next::Continue
    }
}

/// `TelemetryService.execute/3`: a cast, dropped when the service is not registered.
pub async fn execute(cx: &Cx, ctx: &ServiceContext, name: &str) {
    gen_server::cast(
        cx,
        ctx.name(label::TELEMETRY),
        TelemetryCast::Execute(name.to_string()),
    )
    .await;
}

/// `TelemetryService.get_metrics/0`.
pub async fn metrics(cx: &Cx, ctx: &ServiceContext) -> Result<BTreeMap<String, Metric>, ApiError> {
    match call_service(cx, ctx, label::TELEMETRY, TelemetryCall::GetMetrics).await? {
        TelemetryReply::Metrics(m) => Ok(m),
    }
}
