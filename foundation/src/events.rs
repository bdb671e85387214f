//! EventStore: an in-memory event log with capacity pruning and periodic retention
//! pruning. It depends on the ConfigServer (`events.max_events`) and subscribes to it in
//! `init`.

use super::config::{self, ConfigSnapshot, ConfigUpdated, Dependency};
use super::{ApiError, Flaw, ServiceContext, call_service, label};
use fsim::otp::gen_server::{CallReply, Caller, GenServer, Init, Next};
use fsim::sim::{Cx, Envelope, ExitReason};

/// How often old events are pruned.
pub const PRUNE_INTERVAL_MS: u64 = 60_000;
/// How long an event is kept.
pub const RETENTION_MS: u64 = 300_000;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Assigned by the store.
    pub id: u64,
    /// What happened.
    pub kind: String,
    /// Details.
    pub data: String,
    /// When it was stored (virtual ms).
    pub at_ms: u64,
}

impl Event {
    /// An event to store (id and time are set by the store).
    pub fn new(kind: &str, data: String) -> Self {
        Event {
            id: 0,
            kind: kind.to_string(),
            data,
            at_ms: 0,
        }
    }
}

/// Requests.
#[derive(Debug)]
pub enum EventsCall {
    /// Store one event; replies with its id.
    Store(Event),
    /// Store several.
    StoreBatch(Vec<Event>),
    /// Events of a kind (or all), oldest first, at most `limit`.
    Query {
        /// Only this kind.
        kind: Option<String>,
        /// At most this many.
        limit: usize,
    },
    /// Drop events stored before this time.
    PruneBefore(u64),
    /// Counters.
    Stats,
}

/// Replies.
#[derive(Debug)]
pub enum EventsReply {
    /// Stored, with these ids.
    Stored(Vec<u64>),
    /// Query result.
    Events(Vec<Event>),
    /// Pruned this many.
    Pruned(usize),
    /// `(held, stored in total, pruned in total)`.
    Stats(usize, u64, u64),
}

#[derive(Debug)]
struct PruneTick;

/// The store's state.
#[derive(Debug)]
pub struct EventStore {
    ctx: ServiceContext,
    /// The events held, oldest first.
    pub events: Vec<Event>,
    /// The capacity (from the configuration).
    pub max_events: usize,
    /// Where the configuration came from.
    pub dependency: Option<Dependency>,
    next_id: u64,
    stored: u64,
    pruned: u64,
}

impl EventStore {
    /// A store for `ctx`.
    pub fn new(ctx: ServiceContext) -> Self {
        EventStore {
            ctx,
            events: Vec::new(),
            max_events: 0,
            dependency: None,
            next_id: 1,
            stored: 0,
            pruned: 0,
        }
    }

    /// Stores `batch` at `now_ms`, then prunes to capacity (unless `UnboundedGrowth`).
    pub fn store(&mut self, now_ms: u64, batch: Vec<Event>) -> Vec<u64> {
        let ids = batch
            .into_iter()
            .map(|mut e| {
                e.id = self.next_id;
                e.at_ms = now_ms;
                self.next_id += 1;
                self.stored += 1;
                self.events.push(e);
                self.next_id - 1
            })
            .collect();
        self.prune_to_capacity();
        ids
    }

    /// A new capacity, effective at once.
    pub fn set_capacity(&mut self, max_events: usize) {
        self.max_events = max_events.max(1);
        self.prune_to_capacity();
    }

    /// Drops the oldest events beyond the capacity (unless `UnboundedGrowth`).
    fn prune_to_capacity(&mut self) {
        if !self.ctx.has(Flaw::UnboundedGrowth) && self.events.len() > self.max_events {
            let excess = self.events.len() - self.max_events;
            self.events.drain(..excess);
            self.pruned += excess as u64;
        }
    }

    /// Drops events stored before `cutoff_ms`.
    pub fn prune_before(&mut self, cutoff_ms: u64) -> usize {
        let before = self.events.len();
        self.events.retain(|e| e.at_ms >= cutoff_ms);
        let n = before - self.events.len();
        self.pruned += n as u64;
        n
    }

    fn query(&self, kind: Option<&str>, limit: usize) -> Vec<Event> {
        self.events
            .iter()
            .filter(|e| kind.is_none_or(|k| e.kind == k))
            .take(limit)
            .cloned()
            .collect()
    }
}

fn max_events(c: &config::ConfigMap) -> usize {
    c.get("events.max_events").copied().unwrap_or(16).max(1) as usize
}

impl GenServer for EventStore {
    type Call = EventsCall;
    type Reply = EventsReply;
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        let dep = match config::attach_dependent(cx, &self.ctx).await {
            Ok(d) => d,
            Err(e) => return Init::Stop(ExitReason::custom(format!("config unavailable: {e}"))),
        };
        self.max_events = max_events(&dep.config);
        self.dependency = Some(dep);
        self.ctx
            .observer
            .record(|l| l.lifecycle.push((label::EVENTS.into(), cx.me(), true)));
        if !self.ctx.has(Flaw::UnboundedGrowth) {
            cx.send_after(cx.me(), PruneTick, PRUNE_INTERVAL_MS);
        }
        Init::Ok
    }

    async fn handle_call(&mut self, cx: &Cx, req: EventsCall, _: Caller) -> CallReply<EventsReply> {
        CallReply::Reply(match req {
            EventsCall::Store(e) => EventsReply::Stored(self.store(cx.now_ms(), vec![e])),
            EventsCall::StoreBatch(b) => EventsReply::Stored(self.store(cx.now_ms(), b)),
            EventsCall::Query { kind, limit } => {
                EventsReply::Events(self.query(kind.as_deref(), limit))
            }
            EventsCall::PruneBefore(t) => EventsReply::Pruned(self.prune_before(t)),
            EventsCall::Stats => EventsReply::Stats(self.events.len(), self.stored, self.pruned),
        })
    }

    async fn handle_info(&mut self, cx: &Cx, msg: Envelope) -> Next {
        if msg.is::<config::AttachTick>() {
            config::retry_attach(cx, &self.ctx, &mut self.dependency).await;
        } else if msg.is::<PruneTick>() {
            self.prune_before(cx.now_ms().saturating_sub(RETENTION_MS));
            cx.send_after(cx.me(), PruneTick, PRUNE_INTERVAL_MS);
        } else if let Some(u) = msg.peek::<ConfigUpdated>() {
            if u.path == "events.max_events" {
                self.set_capacity(u.value.max(1) as usize);
            }
        } else if let Ok(snap) = msg.downcast::<ConfigSnapshot>() {
            self.set_capacity(max_events(&snap.config));
            if let Some(d) = &mut self.dependency {
                d.config = snap.config;
            }
        }
        Next::Continue
    }
}

// ---- the public API ---------------------------------------------------------------------

/// `EventStore.store/1`: the new event's id.
pub async fn store(cx: &Cx, ctx: &ServiceContext, event: Event) -> Result<u64, ApiError> {
    match call_service(cx, ctx, label::EVENTS, EventsCall::Store(event)).await? {
        EventsReply::Stored(ids) => Ok(ids[0]),
        other => Err(ApiError::Invalid(format!("unexpected reply {other:?}"))),
    }
}

/// `EventStore.query/1`.
pub async fn query(
    cx: &Cx,
    ctx: &ServiceContext,
    kind: Option<&str>,
    limit: usize,
) -> Result<Vec<Event>, ApiError> {
    let req = EventsCall::Query {
        kind: kind.map(str::to_string),
        limit,
    };
    match call_service(cx, ctx, label::EVENTS, req).await? {
        EventsReply::Events(es) => Ok(es),
        other => Err(ApiError::Invalid(format!("unexpected reply {other:?}"))),
    }
}

/// `EventStore.stats/0`: `(held, stored in total, pruned in total)`.
pub async fn stats(cx: &Cx, ctx: &ServiceContext) -> Result<(usize, u64, u64), ApiError> {
    match call_service(cx, ctx, label::EVENTS, EventsCall::Stats).await? {
        EventsReply::Stats(a, b, c) => Ok((a, b, c)),
        other => Err(ApiError::Invalid(format!("unexpected reply {other:?}"))),
    }
}
