//! ConfigServer: the configuration, its validation, and its subscribers.
//!
//! The update path is the report-era one in both designs: validate, commit, notify every
//! subscriber, record an audit event in the EventStore with a synchronous call when it is
//! registered, emit a telemetry cast, reply. Subscribers are monitored and dropped on
//! `DOWN` (by ref and pid, so a `DOWN noproc` for an already-dead subscriber removes it).

use super::{ApiError, Flaw, ServiceContext, call_service, events, label, telemetry};
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, Next};
use fsim::sim::{Body, Cx, Envelope, Matcher, Pid, Ref};
use std::collections::BTreeMap;

/// A configuration: dotted path -> value.
pub type ConfigMap = BTreeMap<String, i64>;

/// The paths, their defaults and the values an update may set (inclusive).
pub const SCHEMA: [(&str, i64, i64, i64); 3] = [
    ("ai.sampling_rate", 100, 0, 100),
    ("dev.debug_mode", 0, 0, 1),
    ("events.max_events", 16, 1, 100_000),
];

/// The default configuration (the application environment).
pub fn defaults() -> ConfigMap {
    SCHEMA
        .iter()
        .map(|(p, d, _, _)| (p.to_string(), *d))
        .collect()
}

/// `validate/2`: only known paths, only values in range.
pub fn validate(path: &str, value: i64) -> Result<(), String> {
    match SCHEMA.iter().find(|(p, ..)| *p == path) {
        None => Err(format!("{path} is not updatable")),
        Some((_, _, lo, hi)) if value < *lo || value > *hi => {
            Err(format!("{path} = {value} is outside {lo}..={hi}"))
        }
        Some(_) => Ok(()),
    }
}

/// Requests.
#[derive(Debug)]
pub enum ConfigCall {
    /// The whole configuration.
    Get,
    /// One path.
    GetPath(String),
    /// Set `path` to `value`; `op` identifies a deferred update being retried.
    Update {
        /// The path.
        path: String,
        /// The new value.
        value: i64,
        /// A deferred update's id.
        op: Option<u64>,
    },
    /// Back to the defaults.
    Reset,
    /// Subscribe this pid to updates.
    Subscribe(Pid),
    /// Unsubscribe it.
    Unsubscribe(Pid),
    /// Counters.
    Status,
}

/// Replies.
#[derive(Debug)]
pub enum ConfigReply {
    /// The configuration.
    Config(ConfigMap),
    /// One value.
    Value(Option<i64>),
    /// Done.
    Ok,
    /// Validation failed.
    Rejected(String),
    /// Subscribed: the server and the configuration as of the subscription.
    Subscribed(Pid, ConfigMap),
    /// Status.
    Status {
        /// Live subscriptions.
        subscribers: usize,
        /// Updates committed by this incarnation.
        updates: u64,
    },
}

/// Sent to every subscriber after an update is committed.
#[derive(Debug)]
pub struct ConfigUpdated {
    /// The ConfigServer that committed it.
    pub server: Pid,
    /// The path.
    pub path: String,
    /// The value.
    pub value: i64,
}

/// Sent to every subscriber by a (fixed) reset: the configuration is back to the defaults
/// and the subscription has ended.
#[derive(Debug)]
pub struct ConfigReset {
    /// The ConfigServer.
    pub server: Pid,
}

/// The server's state.
#[derive(Debug)]
pub struct ConfigServer {
    ctx: ServiceContext,
    /// The committed configuration.
    pub config: ConfigMap,
    /// Subscribers and the monitor on each.
    pub subscribers: Vec<(Pid, Ref)>,
    /// Updates committed by this incarnation.
    pub updates: u64,
    /// Ids of deferred updates this incarnation has applied (the fixed design applies
    /// each once: a retry whose reply was lost — a timeout — is acknowledged, not redone).
    pub applied_ops: std::collections::BTreeSet<u64>,
}

impl ConfigServer {
    /// A server for `ctx` with the defaults.
    pub fn new(ctx: ServiceContext) -> Self {
        ConfigServer {
            ctx,
            config: defaults(),
            subscribers: Vec::new(),
            updates: 0,
            applied_ops: Default::default(),
        }
    }

    async fn subscribe(&mut self, cx: &Cx, pid: Pid) {
        if !self.subscribers.iter().any(|(p, _)| *p == pid) {
            // The report's "race": monitor, then update the list. Other processes may run
            // between the two, but the list is this server's own state and its next
            // message waits for this callback to return (rules 17, 25).
            let mref = cx.monitor(pid).await;
            self.subscribers.push((pid, mref));
        }
    }

    async fn unsubscribe(&mut self, cx: &Cx, pid: Pid) {
        if let Some(i) = self.subscribers.iter().position(|(p, _)| *p == pid) {
            let (_, mref) = self.subscribers.remove(i);
            cx.demonitor(mref, true).await;
        }
    }

    async fn reset(&mut self, cx: &Cx) {
        if self.ctx.has(Flaw::ResetWithoutDemonitor) {
            // `{:reply, :ok, initial_state()}`: the monitors stay with the process.
            *self = ConfigServer::new(self.ctx.clone());
            return;
        }
        for (pid, mref) in std::mem::take(&mut self.subscribers) {
            cx.demonitor(mref, true).await;
            cx.send(pid, ConfigReset { server: cx.me() }).await;
        }
        self.config = defaults();
    }

    async fn update(&mut self, cx: &Cx, path: String, value: i64, op: Option<u64>) -> ConfigReply {
        if let Err(why) = validate(&path, value) {
            return ConfigReply::Rejected(why);
        }
        if let Some(op) = op
            && !self.ctx.has(Flaw::UnsupervisedRetry)
            && !self.applied_ops.insert(op)
        {
            return ConfigReply::Ok; // already applied by this incarnation
        }
        self.config.insert(path.clone(), value);
        self.updates += 1;
        if let Some(op) = op {
            let me = cx.me();
            self.ctx
                .observer
                .record(|l| *l.pending_applied.entry((op, me)).or_default() += 1);
        }
        for (pid, _) in &self.subscribers {
            cx.send(
                *pid,
                ConfigUpdated {
                    server: cx.me(),
                    path: path.clone(),
                    value,
                },
            )
            .await;
        }
        let audit = events::Event::new("config_updated", format!("{path}={value}"));
        // The fixed design ignores a failed audit; report-era code exits with it (F3).
        let _ = events::store(cx, &self.ctx, audit).await;
        telemetry::execute(cx, &self.ctx, "config.updated").await;
        ConfigReply::Ok
    }
}

impl GenServer for ConfigServer {
    type Call = ConfigCall;
    type Reply = ConfigReply;
    type Cast = ConfigCast;

    async fn handle_cast(&mut self, cx: &Cx, msg: ConfigCast) -> Next {
        let ConfigCast::Subscribe(pid) = msg;
        self.subscribe(cx, pid).await;
        let snapshot = ConfigSnapshot {
            server: cx.me(),
            config: self.config.clone(),
        };
        cx.send(pid, snapshot).await;
        Next::Continue
    }

    async fn init(&mut self, cx: &Cx) -> Init {
        self.ctx
            .observer
            .record(|l| l.lifecycle.push((label::CONFIG.into(), cx.me(), true)));
        Init::Ok
    }

    async fn handle_call(&mut self, cx: &Cx, req: ConfigCall, _: Caller) -> CallReply<ConfigReply> {
        CallReply::Reply(match req {
            ConfigCall::Get => ConfigReply::Config(self.config.clone()),
            ConfigCall::GetPath(p) => ConfigReply::Value(self.config.get(&p).copied()),
            ConfigCall::Update { path, value, op } => self.update(cx, path, value, op).await,
            ConfigCall::Reset => {
                self.reset(cx).await;
                ConfigReply::Ok
            }
            ConfigCall::Subscribe(pid) => {
                self.subscribe(cx, pid).await;
                ConfigReply::Subscribed(cx.me(), self.config.clone())
            }
            ConfigCall::Unsubscribe(pid) => {
                self.unsubscribe(cx, pid).await;
                ConfigReply::Ok
            }
            ConfigCall::Status => ConfigReply::Status {
                subscribers: self.subscribers.len(),
                updates: self.updates,
            },
        })
    }

    async fn handle_info(&mut self, _cx: &Cx, msg: Envelope) -> Next {
        if let Some((mref, pid, _)) = msg.down() {
            self.subscribers.retain(|(p, r)| *p != pid && *r != mref);
        }
        Next::Continue
    }
}

// ---- the public API ---------------------------------------------------------------------

/// `ConfigServer.get/0`.
pub async fn get(cx: &Cx, ctx: &ServiceContext) -> Result<ConfigMap, ApiError> {
    match call(cx, ctx, ConfigCall::Get).await? {
        ConfigReply::Config(c) => Ok(c),
        other => Err(unexpected(other)),
    }
}

/// `ConfigServer.get/1`.
pub async fn get_path(cx: &Cx, ctx: &ServiceContext, path: &str) -> Result<i64, ApiError> {
    match call(cx, ctx, ConfigCall::GetPath(path.to_string())).await? {
        ConfigReply::Value(Some(v)) => Ok(v),
        ConfigReply::Value(None) => Err(ApiError::Invalid(format!("no path {path}"))),
        other => Err(unexpected(other)),
    }
}

/// `ConfigServer.update/2`; `op` names a deferred update being retried.
pub async fn update(
    cx: &Cx,
    ctx: &ServiceContext,
    path: &str,
    value: i64,
    op: Option<u64>,
) -> Result<(), ApiError> {
    let req = ConfigCall::Update {
        path: path.to_string(),
        value,
        op,
    };
    match call(cx, ctx, req).await? {
        ConfigReply::Ok => Ok(()),
        ConfigReply::Rejected(why) => Err(ApiError::Invalid(why)),
        other => Err(unexpected(other)),
    }
}

/// `ConfigServer.reset/0`: a synchronous call.
pub async fn reset(cx: &Cx, ctx: &ServiceContext) -> Result<(), ApiError> {
    call(cx, ctx, ConfigCall::Reset).await.map(|_| ())
}

/// `ConfigServer.subscribe/1` for the calling process: the server and the configuration
/// as of the subscription.
pub async fn subscribe(cx: &Cx, ctx: &ServiceContext) -> Result<(Pid, ConfigMap), ApiError> {
    match call(cx, ctx, ConfigCall::Subscribe(cx.me())).await? {
        ConfigReply::Subscribed(server, config) => Ok((server, config)),
        other => Err(unexpected(other)),
    }
}

/// `ConfigServer.status/0`: `(subscribers, updates)`.
pub async fn status(cx: &Cx, ctx: &ServiceContext) -> Result<(usize, u64), ApiError> {
    match call(cx, ctx, ConfigCall::Status).await? {
        ConfigReply::Status {
            subscribers,
            updates,
        } => Ok((subscribers, updates)),
        other => Err(unexpected(other)),
    }
}

/// `ConfigServer.available?/0`: `Process.whereis` + `Process.alive?`.
pub async fn available(cx: &Cx, ctx: &ServiceContext) -> bool {
    match gen_server::whereis(cx, &ctx.name(label::CONFIG)).await {
        Some(pid) => cx.is_alive(pid).await,
        None => false,
    }
}

async fn call(cx: &Cx, ctx: &ServiceContext, req: ConfigCall) -> Result<ConfigReply, ApiError> {
    if ctx.has(Flaw::StartupOrder) {
        // Report-era `ensure_started`: a missing server is started from the caller.
        super::app::ensure_started(cx, ctx).await;
    }
    call_service(cx, ctx, label::CONFIG, req).await
}

fn unexpected(r: ConfigReply) -> ApiError {
    ApiError::Invalid(format!("unexpected reply {r:?}"))
}

/// A subscriber process: subscribes, then applies every notification to its view, as
/// published in the [`Observer`](super::Observer) log. With `VolatileSubscriptions` on it
/// subscribes once (report-era); otherwise it monitors the server and subscribes again
/// after the server's `DOWN`, taking the new server's configuration as its view.
pub async fn subscriber(cx: Cx, ctx: ServiceContext, ready: Pid) {
    let me = cx.me();
    let durable = !ctx.has(Flaw::VolatileSubscriptions);
    let show = |f: &mut dyn FnMut(&mut super::observe::SubscriberView)| {
        ctx.observer
            .record(|l| f(l.subscribers.entry(me).or_default()))
    };
    let mut watch: Option<Ref> = None;
    let mut attempts = 0u32;
    loop {
        match subscribe(&cx, &ctx).await {
            Ok((server, config)) => {
                if durable {
                    watch = Some(cx.monitor(server).await);
                }
                show(&mut |v| {
                    v.server = Some(server);
                    v.view = config.clone();
                    v.resubscribing = false;
                });
                cx.send(ready, SubscriberReady(Some(server))).await;
                attempts = 0;
                listen(&cx, &show, server, watch).await;
                if !durable {
                    return;
                }
                show(&mut |v| v.resubscribing = true);
            }
            Err(_) if durable && attempts < RESUBSCRIBE_ATTEMPTS => {
                attempts += 1;
                cx.sleep(RESUBSCRIBE_BACKOFF_MS).await;
            }
            Err(_) => {
                show(&mut |v| {
                    v.server = None;
                    v.resubscribing = false;
                });
                cx.send(ready, SubscriberReady(None)).await;
                return;
            }
        }
    }
}

/// Casts.
#[derive(Debug)]
pub enum ConfigCast {
    /// Subscribe this pid and send it a [`ConfigSnapshot`]: how a dependent subscribes
    /// without a synchronous call (the ConfigServer itself calls the EventStore while
    /// updating, so a call back from the EventStore's `init` would deadlock until both
    /// time out).
    Subscribe(Pid),
}

/// The configuration, sent to a dependent that subscribed with a cast.
#[derive(Debug)]
pub struct ConfigSnapshot {
    /// The ConfigServer.
    pub server: Pid,
    /// Its configuration.
    pub config: ConfigMap,
}

/// Sent by [`subscriber`] to whoever started it, each time it has (re)subscribed, or
/// when it gives up (`None`).
#[derive(Debug)]
pub struct SubscriberReady(pub Option<Pid>);

/// How often a durable subscriber tries again while the ConfigServer is away.
pub const RESUBSCRIBE_ATTEMPTS: u32 = 50;
/// Its back-off between tries.
pub const RESUBSCRIBE_BACKOFF_MS: u64 = 10;

/// Applies the notifications of `server` until it goes down (or a reset ends the
/// subscription; then it returns too, and the caller subscribes again if durable).
///
/// Only `server`'s notifications count: one from an earlier incarnation can still be on
/// its way when the subscriber has re-subscribed to the next (signals from different
/// senders have no order), and applying it would roll the view back.
async fn listen(
    cx: &Cx,
    show: &impl Fn(&mut dyn FnMut(&mut super::observe::SubscriberView)),
    server: Pid,
    watch: Option<Ref>,
) {
    loop {
        let env = cx
            .recv_match(Matcher::when(move |e| match &e.body {
                Body::Down { mref, .. } => Some(*mref) == watch,
                Body::Data { .. } => {
                    e.from == server && (e.is::<ConfigUpdated>() || e.is::<ConfigReset>())
                }
                Body::Exit { .. } => false,
            }))
            .await;
        if env.down().is_some() {
            return;
        }
        match env.downcast::<ConfigUpdated>() {
            Ok(u) => show(&mut |v| {
                v.view.insert(u.path.clone(), u.value);
            }),
            Err(_) => {
                if let Some(w) = watch {
                    cx.demonitor(w, true).await;
                }
                show(&mut |v| v.server = None);
                return;
            }
        }
    }
}

/// How a dependent service (EventStore, TelemetryService) learnt its configuration in
/// `init`: the ConfigServer it subscribed to, or `None` when it fell back to defaults.
#[derive(Clone, Debug)]
pub struct Dependency {
    /// The ConfigServer incarnation the dependent subscribed to.
    pub server: Option<Pid>,
    /// The configuration it started with.
    pub config: ConfigMap,
    /// No ConfigServer yet (fixed design): the dependent runs on the defaults and tries
    /// again every [`ATTACH_RETRY_MS`] until it can subscribe.
    pub waiting: bool,
}

/// Between a waiting dependent's attempts to subscribe.
pub const ATTACH_RETRY_MS: u64 = 10;

/// A waiting dependent's reminder to try subscribing again.
#[derive(Debug)]
pub struct AttachTick;

/// A dependent's `handle_info` for [`AttachTick`]: tries to subscribe again (which arms
/// the next try if the ConfigServer is still missing).
pub async fn retry_attach(cx: &Cx, ctx: &ServiceContext, dep: &mut Option<Dependency>) {
    if !dep.as_ref().is_some_and(|d| d.waiting) {
        return;
    }
    if let Ok(d) = attach_dependent(cx, ctx).await {
        *dep = Some(d);
    }
}

/// A dependent's `init`. Report-era code (`StartupOrder`) silently uses the defaults
/// when the ConfigServer is not there yet, and otherwise subscribes with a synchronous
/// call. The fixed design subscribes with a cast — the configuration arrives as a
/// [`ConfigSnapshot`], so no call cycle between the ConfigServer and its dependents can
/// form — and, when the ConfigServer is not there (its supervisor has not yet seen it
/// die), starts *waiting*: refusing to start would fail every restart until the
/// supervisor learns of the death, and burn its restart intensity.
pub async fn attach_dependent(cx: &Cx, ctx: &ServiceContext) -> Result<Dependency, ApiError> {
    let server = gen_server::whereis(cx, &ctx.name(label::CONFIG)).await;
    if ctx.has(Flaw::StartupOrder) {
        if server.is_none() {
            return Ok(Dependency {
                server: None,
                config: defaults(),
                waiting: false,
            });
        }
        // Not through `call`, which with `StartupOrder` would start a ConfigServer from
        // inside a supervisor's child.
        return match call_service(cx, ctx, label::CONFIG, ConfigCall::Subscribe(cx.me())).await? {
            ConfigReply::Subscribed(server, config) => Ok(Dependency {
                server: Some(server),
                config,
                waiting: false,
            }),
            other => Err(unexpected(other)),
        };
    }
    let Some(server) = server else {
        cx.send_after(cx.me(), AttachTick, ATTACH_RETRY_MS); // try again until it is back
        return Ok(Dependency {
            server: None,
            config: defaults(),
            waiting: true,
        });
    };
    cx.send(server, gen_server::CastMsg(ConfigCast::Subscribe(cx.me())))
        .await;
    Ok(Dependency {
        server: Some(server),
        config: defaults(),
        waiting: false,
    })
}
