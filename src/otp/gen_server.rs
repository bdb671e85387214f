//! `GenServer`: a process that handles calls, casts and other messages one at a time
//! (OTP_MODEL rules 23–31).
//!
//! Business logic belongs in plain functions over the state; the callbacks stay thin. The
//! state is published between callbacks so invariants can read it
//! ([`crate::sim::World::with_state`]); inside a callback it is not visible, as in OTP
//! only the committed state is.

use super::registry;
use crate::sim::cx::SpawnOpts;
use crate::sim::{Body, Cx, Envelope, ExitReason, Matcher, Name, Payload, Pid, Ref};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Where a call's reply goes (`from` in `handle_call/3`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The caller.
    pub pid: Pid,
    /// The call's tag (an alias of the caller, active until it stops waiting).
    pub tag: Ref,
}

/// What `init/1` decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Init {
    /// `{:ok, state}`.
    Ok,
    /// `:ignore`: the process exits `normal` and the starter gets `:ignore`.
    Ignore,
    /// `{:stop, reason}`.
    Stop(ExitReason),
}

/// What `handle_call/3` decided.
#[derive(Debug)]
pub enum CallReply<R> {
    /// `{:reply, r, state}`.
    Reply(R),
    /// `{:noreply, state}`: reply later with [`reply`].
    NoReply,
    /// `{:stop, reason, reply, state}` (the reply, if any, goes out before `terminate`).
    Stop(ExitReason, Option<R>),
}

/// What `handle_cast/2` and `handle_info/2` decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// `{:noreply, state}`.
    Continue,
    /// `{:stop, reason, state}`.
    Stop(ExitReason),
}

/// A GenServer's callbacks. `self` is the state.
pub trait GenServer: Sized + 'static {
    /// Call requests.
    type Call: Payload;
    /// Call replies.
    type Reply: Payload;
    /// Casts.
    type Cast: Payload;

    /// `init/1`, run inside the new process while the starter waits (rule 23).
    fn init(&mut self, _cx: &Cx) -> impl Future<Output = Init> {
        async { Init::Ok }
    }

    /// `handle_call/3`.
    fn handle_call(
        &mut self,
        cx: &Cx,
        req: Self::Call,
        from: Caller,
    ) -> impl Future<Output = CallReply<Self::Reply>>;

    /// `handle_cast/2`.
    fn handle_cast(&mut self, _cx: &Cx, _msg: Self::Cast) -> impl Future<Output = Next> {
        async { Next::Continue }
    }

    /// `handle_info/2`: every other message, `EXIT`s (when trapping) and `DOWN`s included.
    fn handle_info(&mut self, _cx: &Cx, _msg: Envelope) -> impl Future<Output = Next> {
        async { Next::Continue }
    }

    /// `terminate/2`: when a callback stops or panics, or a trapping server gets its
    /// parent's exit; never on `kill` or an untrapped exit signal (rule 30).
    fn terminate(&mut self, _cx: &Cx, _reason: &ExitReason) -> impl Future<Output = ()> {
        async {}
    }
}

/// A call request on the wire. The request travels boxed, so that a server recognises a
/// call whatever its request's type, and answers one it cannot take at once (the caller
/// then panics with both types named) instead of leaving the caller waiting forever.
pub struct CallMsg {
    /// Reply address.
    pub from: Caller,
    /// The request.
    pub req: Box<dyn Payload>,
}

impl std::fmt::Debug for CallMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call {:?}", self.req)
    }
}

/// A cast on the wire.
pub struct CastMsg<C>(pub C);

impl<C: std::fmt::Debug> std::fmt::Debug for CastMsg<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cast {:?}", self.0)
    }
}

/// A reply on the wire (sent to the caller's alias).
pub struct ReplyMsg<R>(pub R);

impl<R: std::fmt::Debug> std::fmt::Debug for ReplyMsg<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "reply {:?}", self.0)
    }
}

/// A server's answer to a call whose request is not of its `Call` type.
#[derive(Debug)]
struct WrongCall {
    server: &'static str,
    takes: &'static str,
    sent: &'static str,
}

/// `GenServer.stop/3`'s system message.
#[derive(Debug)]
struct SystemStop(ExitReason);

/// proc_lib's `init_ack`.
#[derive(Debug)]
struct InitAck {
    tag: Ref,
    result: Result<(), StartError>,
}

/// How to reach a server. Its names are shared strings ([`Name`]): a call clones its
/// `ServerRef` without copying them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerRef {
    /// A pid.
    Pid(Pid),
    /// A locally registered name, resolved once per call (rule 20).
    Name(Name),
    /// `{:via, Registry, {registry, key}}`.
    Via {
        /// The registry's name.
        registry: Name,
        /// The key.
        key: Name,
    },
}

impl std::convert::From<Pid> for ServerRef {
    fn from(p: Pid) -> Self {
        ServerRef::Pid(p)
    }
}

impl std::convert::From<&str> for ServerRef {
    fn from(n: &str) -> Self {
        ServerRef::Name(n.into())
    }
}

impl std::convert::From<&ServerRef> for ServerRef {
    fn from(r: &ServerRef) -> Self {
        r.clone()
    }
}

impl ServerRef {
    /// A `via` name.
    pub fn via(registry: &str, key: &str) -> Self {
        ServerRef::Via {
            registry: registry.into(),
            key: key.into(),
        }
    }

    fn label(&self) -> Option<String> {
        match self {
            ServerRef::Pid(_) => None,
            ServerRef::Name(n) => Some(n.to_string()),
            ServerRef::Via { key, .. } => Some(key.to_string()),
        }
    }
}

/// A running server whose callbacks are `S`: its calls and casts are checked by the
/// compiler (a request of the wrong type does not build). Get one from
/// [`Server::start_link`] or [`Server::start`], or [`Server::from_pid`] for a pid known to
/// run `S` (a supervisor's child).
pub struct Server<S> {
    pid: Pid,
    _callbacks: std::marker::PhantomData<fn() -> S>,
}

impl<S> Clone for Server<S> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S> Copy for Server<S> {}
impl<S> PartialEq for Server<S> {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}
impl<S> Eq for Server<S> {}
impl<S> std::fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.pid)
    }
}

impl<S> std::convert::From<Server<S>> for ServerRef {
    fn from(s: Server<S>) -> Self {
        ServerRef::Pid(s.pid)
    }
}

impl<S: GenServer> Server<S> {
    /// `GenServer.start_link/3` ([`start_link`]), typed.
    pub async fn start_link(cx: &Cx, server: S, opts: StartOpts) -> Result<Self, StartError> {
        start_link(cx, server, opts).await.map(Self::from_pid)
    }

    /// `GenServer.start/3` ([`start`]), typed.
    pub async fn start(cx: &Cx, server: S, opts: StartOpts) -> Result<Self, StartError> {
        start(cx, server, opts).await.map(Self::from_pid)
    }

    /// The server at `pid`, which the caller knows runs `S`'s callbacks.
    pub fn from_pid(pid: Pid) -> Self {
        Server {
            pid,
            _callbacks: std::marker::PhantomData,
        }
    }

    /// Its pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// `GenServer.call(server, req, :infinity)`: on failure the caller exits (rule 28).
    pub async fn call(&self, cx: &Cx, req: S::Call) -> S::Reply {
        call(cx, self.pid, req, None).await
    }

    /// [`Server::call`] with a timeout (OTP's default is [`CALL_TIMEOUT_MS`]).
    pub async fn call_timeout(&self, cx: &Cx, req: S::Call, timeout_ms: u64) -> S::Reply {
        call(cx, self.pid, req, Some(timeout_ms)).await
    }

    /// [`try_call`], typed: the failure as a value (`catch :exit`).
    pub async fn try_call(
        &self,
        cx: &Cx,
        req: S::Call,
        timeout_ms: Option<u64>,
    ) -> Result<S::Reply, ExitReason> {
        try_call(cx, self.pid, req, timeout_ms).await
    }

    /// `GenServer.cast/2`, typed.
    pub async fn cast(&self, cx: &Cx, msg: S::Cast) {
        cast(cx, self.pid, msg).await
    }
}

/// Resolves a server reference to a pid, once (rule 20). Names yield (a global read).
pub async fn whereis(cx: &Cx, server: &ServerRef) -> Option<Pid> {
    match server {
        ServerRef::Pid(p) => Some(*p),
        ServerRef::Name(n) => cx.whereis(n).await,
        ServerRef::Via { registry: r, key } => registry::whereis_name(cx, r, key).await,
    }
}

/// Why a start did not give a running process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartError {
    /// `:ignore` from `init`.
    Ignore,
    /// `{:error, {:already_started, pid}}` (rule 19).
    AlreadyStarted(Pid),
    /// `{:error, reason}`: `init` stopped or the process died while starting.
    Failed(ExitReason),
    /// `{:error, :timeout}`: `init` outlasted the start timeout and was killed (rule 24).
    Timeout,
}

impl StartError {
    /// The error as an exit reason (how a supervisor reports it).
    pub fn reason(&self) -> ExitReason {
        match self {
            StartError::Ignore => ExitReason::custom("ignore"),
            StartError::AlreadyStarted(p) => {
                ExitReason::custom(format!("{{already_started, {p}}}"))
            }
            StartError::Failed(r) => r.clone(),
            StartError::Timeout => ExitReason::Timeout,
        }
    }
}

/// Options for [`start_link`] and [`start`].
#[derive(Clone, Debug, Default)]
pub struct StartOpts {
    /// Register under this name before `init` runs.
    pub name: Option<ServerRef>,
    /// Kill `init` after this long (default: wait forever).
    pub timeout_ms: Option<u64>,
}

impl StartOpts {
    /// Registered under `name`.
    pub fn named(name: impl Into<ServerRef>) -> Self {
        StartOpts {
            name: Some(name.into()),
            timeout_ms: None,
        }
    }
}

/// The reason of a server that fails `init` because of an injected fault.
pub const INJECTED_INIT_FAILURE: &str = "fsim: injected init failure";

/// `GenServer.start_link/3`: spawns, links, waits for `init` (rules 23–24).
pub async fn start_link<S: GenServer>(
    cx: &Cx,
    server: S,
    opts: StartOpts,
) -> Result<Pid, StartError> {
    start_impl(cx, server, opts, true).await
}

/// `GenServer.start/3`: like [`start_link`] without the link.
pub async fn start<S: GenServer>(cx: &Cx, server: S, opts: StartOpts) -> Result<Pid, StartError> {
    start_impl(cx, server, opts, false).await
}

async fn start_impl<S: GenServer>(
    cx: &Cx,
    server: S,
    opts: StartOpts,
    link: bool,
) -> Result<Pid, StartError> {
    let StartOpts { name, timeout_ms } = opts;
    // gen:start looks the name up first: a taken name spawns nothing (rule 19). The child
    // registers again itself, so a start that loses a race still reports the winner.
    if let Some(name @ (ServerRef::Name(_) | ServerRef::Via { .. })) = &name
        && let Some(holder) = whereis(cx, name).await
    {
        return Err(StartError::AlreadyStarted(holder));
    }
    let tag = cx.make_ref();
    let parent = cx.me();
    let spawn = SpawnOpts {
        link,
        label: name.as_ref().and_then(ServerRef::label),
    };
    let body = move |ccx| async move { init_it(ccx, parent, link, tag, server, name).await };
    // Without a link, watch the child with a monitor set up at the spawn (proc_lib:start
    // spawns with the monitor option).
    let (child, mref) = if link {
        (cx.spawn_opts(spawn, body).await, None)
    } else {
        let (child, mref) = cx.spawn_monitor_opts(spawn, body).await;
        (child, Some(mref))
    };
    let matcher = Matcher::when(move |e: &Envelope| match &e.body {
        Body::Data { .. } => e.peek::<InitAck>().is_some_and(|a| a.tag == tag),
        Body::Exit { .. } => e.from == child,
        Body::Down { mref: r, .. } => Some(*r) == mref,
    });
    let got = match timeout_ms {
        Some(t) => cx.recv_timeout(matcher, t).await,
        None => Some(cx.recv_match(matcher).await),
    };
    let result = match got {
        None => {
            // rule 24: an init that outlasts its timeout is killed.
            if link {
                cx.unlink(child).await;
            }
            cx.exit_signal(child, ExitReason::Kill).await;
            Err(StartError::Timeout)
        }
        Some(env) => match env.body {
            Body::Exit { reason } | Body::Down { reason, .. } => Err(StartError::Failed(reason)),
            Body::Data { .. } => env
                .downcast::<InitAck>()
                .expect("matched an InitAck")
                .result
                .map(|()| child),
        },
    };
    if let Some(m) = mref {
        cx.demonitor(m, true).await;
    }
    result
}

async fn init_it<S: GenServer>(
    cx: Cx,
    parent: Pid,
    linked: bool,
    tag: Ref,
    mut server: S,
    name: Option<ServerRef>,
) -> ExitReason {
    let ack = async |result| cx.send(parent, InitAck { tag, result }).await;
    if let Some(name) = &name {
        let registered = match name {
            ServerRef::Pid(_) => Ok(()),
            ServerRef::Name(n) => cx.register(n).await.map_err(|e| match e {
                crate::sim::RegisterError::Taken(p) => p,
                crate::sim::RegisterError::AlreadyNamed
                | crate::sim::RegisterError::NotAlive(_) => cx.me(),
            }),
            ServerRef::Via { registry: r, key } => registry::register(&cx, r, key).await,
        };
        if let Err(holder) = registered {
            // rule 19: {:error, {:already_started, pid}}, and the new process goes away.
            ack(Err(StartError::AlreadyStarted(holder))).await;
            return ExitReason::Normal;
        }
    }
    if cx.take_init_failure() {
        let reason = ExitReason::custom(INJECTED_INIT_FAILURE);
        ack(Err(StartError::Failed(reason.clone()))).await;
        return reason;
    }
    match server.init(&cx).await {
        Init::Ok => {
            ack(Ok(())).await;
            // gen.erl: without a link the server is its own parent, so the starter's
            // exit is an ordinary message to a trapping server.
            enter_loop(cx, linked.then_some(parent), server).await
        }
        Init::Ignore => {
            ack(Err(StartError::Ignore)).await;
            ExitReason::Normal
        }
        Init::Stop(reason) => {
            ack(Err(StartError::Failed(reason.clone()))).await;
            reason
        }
    }
}

/// Runs the server loop in the current process (`:gen_server.enter_loop`).
pub async fn enter_loop<S: GenServer>(cx: Cx, parent: Option<Pid>, server: S) -> ExitReason {
    let cell: Rc<RefCell<Option<S>>> = Rc::new(RefCell::new(Some(server)));
    cx.publish_state(cell.clone());
    loop {
        let env = cx.recv().await;
        let mut state = cell
            .borrow_mut()
            .take()
            .expect("invariant: state is back between callbacks");
        let outcome =
            CatchPanic::new(&cx, std::pin::pin!(dispatch(&cx, &mut state, env, parent))).await;
        let stop = match outcome {
            Ok(next) => next,
            Err(reason) => Some(reason), // a raise or exit inside the callback
        };
        if let Some(reason) = stop {
            CatchPanic::new(&cx, std::pin::pin!(state.terminate(&cx, &reason)))
                .await
                .ok();
            return reason;
        }
        *cell.borrow_mut() = Some(state);
    }
}

async fn dispatch<S: GenServer>(
    cx: &Cx,
    state: &mut S,
    env: Envelope,
    parent: Option<Pid>,
) -> Option<ExitReason> {
    if let Body::Exit { reason } = &env.body
        && Some(env.from) == parent
    {
        return Some(reason.clone()); // rule 30: a trapping server stops with its parent
    }
    let env = match env.downcast::<CallMsg>() {
        Ok(CallMsg { from, req }) => {
            let sent = Payload::type_name(&*req);
            let req: Box<dyn std::any::Any> = req;
            let Ok(req) = req.downcast::<S::Call>() else {
                reply(
                    cx,
                    from,
                    WrongCall {
                        server: std::any::type_name::<S>(),
                        takes: std::any::type_name::<S::Call>(),
                        sent,
                    },
                )
                .await;
                return None;
            };
            return match state.handle_call(cx, *req, from).await {
                CallReply::Reply(r) => {
                    reply(cx, from, r).await;
                    None
                }
                CallReply::NoReply => None,
                CallReply::Stop(reason, r) => {
                    if let Some(r) = r {
                        reply(cx, from, r).await;
                    }
                    Some(reason)
                }
            };
        }
        Err(env) => env,
    };
    let env = match env.downcast::<CastMsg<S::Cast>>() {
        Ok(CastMsg(msg)) => return next(state.handle_cast(cx, msg).await),
        Err(env) => env,
    };
    match env.downcast::<SystemStop>() {
        Ok(SystemStop(reason)) => Some(reason),
        Err(env) => next(state.handle_info(cx, env).await),
    }
}

fn next(n: Next) -> Option<ExitReason> {
    match n {
        Next::Continue => None,
        Next::Stop(r) => Some(r),
    }
}

/// `GenServer.reply/2`.
pub async fn reply<R: Payload>(cx: &Cx, from: Caller, r: R) {
    cx.send_tagged(from.pid, from.tag, ReplyMsg(r)).await;
}

/// The default call timeout, 5000 ms (rule 26).
pub const CALL_TIMEOUT_MS: u64 = 5_000;

/// `GenServer.call/3` that returns the failure instead of exiting (`catch :exit`).
/// `Err` holds the reason: `noproc`, `timeout`, or the server's exit reason (rule 26).
pub async fn try_call<Q: Payload, R: Payload>(
    cx: &Cx,
    server: impl Into<ServerRef>,
    req: Q,
    timeout_ms: Option<u64>,
) -> Result<R, ExitReason> {
    let server = server.into();
    let Some(pid) = whereis(cx, &server).await else {
        return Err(ExitReason::NoProc);
    };
    if pid == cx.me() {
        // gen:call refuses at once: waiting for its own reply would deadlock.
        return Err(ExitReason::custom("calling_self"));
    }
    let mref = cx.monitor(pid).await;
    cx.alias(mref);
    cx.send(
        pid,
        CallMsg {
            from: Caller {
                pid: cx.me(),
                tag: mref,
            },
            req: Box::new(req),
        },
    )
    .await;
    let got = match timeout_ms {
        Some(t) => cx.recv_timeout(Matcher::Tag(mref), t).await,
        None => Some(cx.recv_match(Matcher::Tag(mref)).await),
    };
    cx.unalias(mref);
    match got {
        None => {
            cx.demonitor(mref, true).await;
            Err(ExitReason::Timeout)
        }
        Some(env) => match env.body {
            Body::Down { reason, .. } => Err(reason),
            _ => {
                cx.demonitor(mref, true).await;
                let e = match env.downcast::<ReplyMsg<R>>() {
                    Ok(ReplyMsg(r)) => return Ok(r),
                    Err(e) => e,
                };
                match e.peek::<ReplyMsg<WrongCall>>() {
                    Some(ReplyMsg(w)) => panic!(
                        "call to {pid}: the server ({}) takes requests of type `{}`, not `{}`",
                        w.server, w.takes, w.sent
                    ),
                    None => panic!(
                        "call to {pid}: the reply {e:?} is not a `{}`",
                        std::any::type_name::<R>()
                    ),
                }
            }
        },
    }
}

/// `GenServer.call/3`: on failure the *caller exits* with `{reason, {GenServer, :call}}`
/// (rule 28), which is never a normal termination.
pub async fn call<Q: Payload, R: Payload>(
    cx: &Cx,
    server: impl Into<ServerRef>,
    req: Q,
    timeout_ms: Option<u64>,
) -> R {
    match try_call(cx, server, req, timeout_ms).await {
        Ok(r) => r,
        Err(reason) => cx.exit(ExitReason::CallFailed(Box::new(reason))),
    }
}

/// `GenServer.cast/2`: to an unregistered name it is silently dropped (rule 20).
pub async fn cast<C: Payload>(cx: &Cx, server: impl Into<ServerRef>, msg: C) {
    let server = server.into();
    if let Some(pid) = whereis(cx, &server).await {
        cx.send(pid, CastMsg(msg)).await;
    }
}

/// `GenServer.stop/3` returning the failure: `Err(noproc)` if the server is not there,
/// `Err(other)` if it exited with another reason (rule 31).
pub async fn try_stop(
    cx: &Cx,
    server: impl Into<ServerRef>,
    reason: ExitReason,
) -> Result<(), ExitReason> {
    let server = server.into();
    let Some(pid) = whereis(cx, &server).await else {
        return Err(ExitReason::NoProc);
    };
    let mref = cx.monitor(pid).await;
    cx.send(pid, SystemStop(reason.clone())).await;
    let env = cx.recv_match(Matcher::Tag(mref)).await;
    match env.down() {
        Some((_, _, r)) if *r == reason => Ok(()),
        Some((_, _, r)) => Err(r.clone()),
        None => unreachable!("Tag(mref) with no alias matches only the DOWN"),
    }
}

/// `GenServer.stop/3`: synchronous. The caller exits with `{noproc, {GenServer, :stop}}`
/// if the server is not there, and with the server's reason if it exited with another.
pub async fn stop(cx: &Cx, server: impl Into<ServerRef>, reason: ExitReason) {
    match try_stop(cx, server, reason).await {
        Ok(()) => {}
        Err(ExitReason::NoProc) => cx.exit(ExitReason::StopFailed(Box::new(ExitReason::NoProc))),
        Err(r) => cx.exit(r),
    }
}

/// Polls a future, turning a raise inside it into `Err(reason)`, as gen_server's
/// try/catch around callbacks does: `exit/1` (and so a failed call, and an injected
/// crash) gives its reason; a panic gives `panic: message` when the process's panics are
/// crashes ([`Cx::panics_are_crashes`]), and otherwise passes through to fail the run, as
/// does the kernel's abort at a bound.
pub(crate) struct CatchPanic<'a, F> {
    inner: Pin<&'a mut F>,
    panics_crash: bool,
}

impl<'a, F> CatchPanic<'a, F> {
    pub(crate) fn new(cx: &Cx, inner: Pin<&'a mut F>) -> Self {
        CatchPanic {
            inner,
            panics_crash: cx.panic_is_crash(),
        }
    }
}

impl<F: Future> Future for CatchPanic<'_, F> {
    type Output = Result<F::Output, ExitReason>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let panics_crash = self.panics_crash;
        let inner = self.inner.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                let payload = match payload.downcast::<crate::sim::exec::Sentinel>() {
                    Ok(sentinel) => match *sentinel {
                        crate::sim::exec::Sentinel::Exit(reason) => {
                            return Poll::Ready(Err(reason));
                        }
                        // Already dead, or aborted at a bound: nothing more runs.
                        other => std::panic::resume_unwind(Box::new(other)),
                    },
                    Err(payload) => payload,
                };
                if !panics_crash {
                    std::panic::resume_unwind(payload);
                }
                let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                    (*s).to_string()
                } else if let Some(s) = payload.downcast_ref::<String>() {
                    s.clone()
                } else {
                    "non-string panic payload".into()
                };
                Poll::Ready(Err(ExitReason::Custom(format!("panic: {msg}"))))
            }
        }
    }
}
