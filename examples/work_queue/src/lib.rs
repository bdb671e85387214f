//! A work queue with at-least-once delivery, as an fsim example.
//!
//! A [`Queue`] GenServer hands `jobs` jobs to `workers` supervised worker processes. A
//! worker takes a job (the queue monitors the worker and records a lease that expires
//! after `lease_ms`), applies it to a [`Ledger`] GenServer (the side effect), then acks.
//! If the worker dies before its ack, or its lease expires, the queue puts the job back,
//! and another worker (or the restarted one) takes it again. The first ack of a job
//! completes it, even a late one from a worker whose lease expired (it did the work), so
//! the queue makes progress whatever the lease length.
//!
//! - [`Variant::Flawed`]: the ledger applies every write, so a job whose worker died after
//!   applying and before acking, or whose lease expired while its worker was still
//!   working, is applied twice.
//! - [`Variant::Fixed`]: the ledger is idempotent by job id: a job applied once is not
//!   applied again.
//!
//! Invariants, over the ledger's state: `applied_once` (no job applied twice, after every
//! step) and `all_done` (at the end every job applied exactly once).
//!
//! Explore it with [`faults`]: one kill of a process labelled `worker`. The default
//! schedule injects no fault and, with `work_ms < lease_ms`, lets no lease expire, so the
//! flawed variant passes it: the double apply is a race between a worker's progress and a
//! kill or its lease's expiry. (With `work_ms >= lease_ms` every lease expires and the
//! flawed variant fails on every schedule.)
//!
//! Three ways in:
//!
//! - in code, [`build`] makes the whole world (processes and invariants), for
//!   `fsim::test(move |sim| build(sim, &params)).faults(faults(&params))`;
//! - [`system`] registers it with fsim's command line as `work_queue`: a scenario file
//!   gives the [`Params`] at its top level, names the invariants
//!   (`invariants = ["applied_once", "all_done"]`) and gives the fault menu (`[faults]`);
//! - the crate's binary is that command line (`cargo run -p work-queue -- run
//!   scenarios/`).

#![deny(missing_docs)]

use fsim::check::{Invariant, When, invariant};
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Next, StartOpts};
use fsim::otp::supervisor::{self, ChildSpec, Restart, Strategy, SupSpec};
use fsim::sim::{Cx, Envelope, ExitReason, FaultMenu, Pid, Ref, Sim, SpawnOpts, Targets};
use fsim::system::{ParamError, System, SystemDef, Systems};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The name the queue registers under.
pub const QUEUE: &str = "queue";

/// The name the ledger registers under.
pub const LEDGER: &str = "ledger";

/// The label of the worker processes (the fault menu's target).
pub const WORKER: &str = "worker";

/// The invariant: no job is applied twice (checked after every step).
pub const APPLIED_ONCE: &str = "applied_once";

/// The invariant: at the end every job is applied exactly once.
pub const ALL_DONE: &str = "all_done";

/// Which ledger runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The ledger is idempotent by job id.
    #[default]
    Fixed,
    /// The ledger applies every write it gets.
    Flawed,
}

/// The system's parameters.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Which ledger runs.
    pub variant: Variant,
    /// Jobs to do.
    pub jobs: u32,
    /// Worker processes.
    pub workers: u32,
    /// How long a worker holds a job before the queue takes it back, in virtual ms.
    pub lease_ms: u64,
    /// How long a worker works on a job before applying it, in virtual ms (0: no pause);
    /// below `lease_ms` for leases to expire only when a worker is slow to be scheduled.
    pub work_ms: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            variant: Variant::Fixed,
            jobs: 6,
            workers: 2,
            lease_ms: 10,
            work_ms: 5,
        }
    }
}

/// A job's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u32);

impl JobId {
    /// The amount the job adds to the ledger's balance: its number plus one.
    pub fn amount(self) -> u64 {
        self.0 as u64 + 1
    }
}

// ---- the ledger ---------------------------------------------------------------------

/// The ledger: the side effect of the jobs. It counts how many times each job was applied.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    idempotent: bool,
    applied: BTreeMap<JobId, u32>,
    balance: u64,
    duplicates: u32,
}

/// What [`Ledger::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The write was applied.
    Applied,
    /// The job was applied before; nothing changed (the idempotent ledger only).
    Duplicate,
}

impl Ledger {
    /// A ledger; an `idempotent` one applies each job at most once.
    pub fn new(idempotent: bool) -> Self {
        Ledger {
            idempotent,
            ..Ledger::default()
        }
    }

    /// Applies `job`'s write, unless the ledger is idempotent and has applied it before.
    pub fn apply(&mut self, job: JobId) -> Applied {
        if self.idempotent && self.applied.contains_key(&job) {
            self.duplicates += 1;
            return Applied::Duplicate;
        }
        *self.applied.entry(job).or_insert(0) += 1;
        self.balance += job.amount();
        Applied::Applied
    }

    /// How many times `job` was applied.
    pub fn times_applied(&self, job: JobId) -> u32 {
        self.applied.get(&job).copied().unwrap_or(0)
    }

    /// Writes refused as duplicates (a job redelivered after it was applied).
    pub fn duplicates(&self) -> u32 {
        self.duplicates
    }

    /// The sum of the amounts applied.
    pub fn balance(&self) -> u64 {
        self.balance
    }

    /// `Err` naming the first job applied more than once.
    pub fn check_applied_once(&self) -> Result<(), String> {
        match self.applied.iter().find(|(_, n)| **n > 1) {
            None => Ok(()),
            Some((job, n)) => Err(format!("{job:?} was applied {n} times")),
        }
    }

    /// `Err` unless each of the jobs `0..jobs` was applied exactly once (and nothing else).
    pub fn check_all_done(&self, jobs: u32) -> Result<(), String> {
        for j in (0..jobs).map(JobId) {
            let n = self.times_applied(j);
            if n != 1 {
                return Err(format!("{j:?} was applied {n} times, expected once"));
            }
        }
        let expected: u64 = (0..jobs).map(|j| JobId(j).amount()).sum();
        if self.balance != expected {
            return Err(format!(
                "balance {} after {jobs} jobs, expected {expected}",
                self.balance
            ));
        }
        Ok(())
    }
}

/// Requests to the [`Ledger`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerCall {
    /// Apply a job's write.
    Apply(JobId),
}

impl GenServer for Ledger {
    type Call = LedgerCall;
    type Reply = Applied;
    type Cast = ();

    async fn handle_call(
        &mut self,
        _cx: &Cx,
        req: LedgerCall,
        _from: Caller,
    ) -> CallReply<Applied> {
        let LedgerCall::Apply(job) = req;
        CallReply::Reply(self.apply(job))
    }
}

// ---- the queue ----------------------------------------------------------------------

/// A job handed to a worker: who holds it, its monitor and its expiry timer. The monitor
/// reference is the lease's identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// The worker holding it.
    pub worker: Pid,
    /// The queue's monitor on the worker; identifies the lease.
    pub id: Ref,
    /// The expiry timer.
    pub timer: Ref,
}

/// The queue's state: jobs waiting, jobs leased, jobs done, and callers waiting.
#[derive(Clone, Debug)]
pub struct Queue {
    jobs: u32,
    lease_ms: u64,
    pending: VecDeque<JobId>,
    leases: BTreeMap<Ref, Lease>,
    done: BTreeSet<JobId>,
    /// Workers waiting for a job (a `Take` with nothing pending).
    takers: VecDeque<Caller>,
    /// Callers waiting for every job to be done.
    watchers: Vec<Caller>,
}

/// What [`Queue::ack`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acked {
    /// The first ack of the job: it is done. Its current lease, if any (it may have
    /// expired and gone to another worker), is over: cancel its monitor and timer.
    Done(Option<Lease>),
    /// The job was done already (another worker acked it first).
    AlreadyDone,
}

impl Queue {
    /// A queue of the jobs `0..jobs`, leased for `lease_ms` each.
    pub fn new(jobs: u32, lease_ms: u64) -> Self {
        Queue {
            jobs,
            lease_ms,
            pending: (0..jobs).map(JobId).collect(),
            leases: BTreeMap::new(),
            done: BTreeSet::new(),
            takers: VecDeque::new(),
            watchers: Vec::new(),
        }
    }

    /// Has every job been acked?
    pub fn all_done(&self) -> bool {
        self.done.len() == self.jobs as usize
    }

    /// Jobs waiting to be taken, next first.
    pub fn pending(&self) -> impl Iterator<Item = JobId> + '_ {
        self.pending.iter().copied()
    }

    /// Jobs held by workers.
    pub fn leases(&self) -> impl Iterator<Item = &Lease> {
        self.leases.values()
    }

    /// Takes the next waiting job off the queue.
    pub fn next_job(&mut self) -> Option<JobId> {
        self.pending.pop_front()
    }

    /// Records that `lease.worker` holds `lease.job`.
    pub fn lease(&mut self, lease: Lease) {
        self.leases.insert(lease.id, lease);
    }

    /// An ack of `job` (sent after it was applied). The first ack marks the job done,
    /// whoever sends it: a worker whose lease expired still did the work. Any current
    /// lease on the job ends, and a copy waiting in the queue is dropped.
    pub fn ack(&mut self, job: JobId) -> Acked {
        if !self.done.insert(job) {
            return Acked::AlreadyDone;
        }
        self.pending.retain(|j| *j != job);
        let id = self.leases.values().find(|l| l.job == job).map(|l| l.id);
        Acked::Done(id.and_then(|id| self.leases.remove(&id)))
    }

    /// Lease `id` is lost (its worker died or it expired): its job goes back to the front
    /// of the queue. Returns the lease if it was current.
    pub fn release(&mut self, id: Ref) -> Option<Lease> {
        let lease = self.leases.remove(&id)?;
        self.pending.push_front(lease.job);
        Some(lease)
    }

    /// Parks a `Take` until a job is back or all are done.
    pub fn park_taker(&mut self, from: Caller) {
        self.takers.push_back(from);
    }

    /// The next parked `Take`, if a job is waiting for it.
    pub fn next_parked_taker(&mut self) -> Option<Caller> {
        if self.pending.is_empty() {
            None
        } else {
            self.takers.pop_front()
        }
    }

    /// Parks an `AwaitAllDone`.
    pub fn park_watcher(&mut self, from: Caller) {
        self.watchers.push(from);
    }

    /// Everyone parked, once every job is done (to be told `AllDone`); nobody otherwise.
    pub fn release_parked_if_done(&mut self) -> Vec<Caller> {
        if !self.all_done() {
            return Vec::new();
        }
        let mut out: Vec<Caller> = self.takers.drain(..).collect();
        out.append(&mut self.watchers);
        out
    }
}

/// Requests to the [`Queue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueCall {
    /// A worker asks for a job; answered when one is available, or `AllDone`.
    Take,
    /// A worker reports a job applied.
    Ack(JobId),
    /// Answered `AllDone` once every job is acked.
    AwaitAllDone,
}

/// Replies of the [`Queue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueReply {
    /// A job to do (the worker holds it until its lease expires).
    Job(JobId),
    /// Every job is done: nothing more to take.
    AllDone,
    /// The ack was the job's first: the job is done.
    Accepted,
    /// The job was done already.
    AlreadyDone,
}

/// The timer message of a lease that ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseExpired {
    /// The job.
    pub job: JobId,
    /// The lease.
    pub lease: Ref,
}

impl Queue {
    /// Leases `job` to the caller `to` and replies with it: monitor, timer, record.
    async fn hand_out(&mut self, cx: &Cx, job: JobId, to: Caller) {
        let id = cx.monitor(to.pid).await;
        let timer = cx.send_after(cx.me(), LeaseExpired { job, lease: id }, self.lease_ms);
        self.lease(Lease {
            job,
            worker: to.pid,
            id,
            timer,
        });
        gen_server::reply(cx, to, QueueReply::Job(job)).await;
    }

    /// Gives waiting jobs to parked takers.
    async fn dispatch(&mut self, cx: &Cx) {
        while let Some(to) = self.next_parked_taker() {
            let job = self.next_job().expect("next_parked_taker checked");
            self.hand_out(cx, job, to).await;
        }
    }

    /// A lease ends: stop watching its worker, cancel its expiry.
    async fn end_lease(cx: &Cx, lease: &Lease) {
        cx.demonitor(lease.id, true).await;
        cx.cancel_timer(lease.timer);
    }

    /// A lease was lost: end it and put its job back.
    async fn lost(&mut self, cx: &Cx, id: Ref) {
        if let Some(lease) = self.release(id) {
            Self::end_lease(cx, &lease).await;
            self.dispatch(cx).await;
        }
    }
}

impl GenServer for Queue {
    type Call = QueueCall;
    type Reply = QueueReply;
    type Cast = ();

    async fn handle_call(
        &mut self,
        cx: &Cx,
        req: QueueCall,
        from: Caller,
    ) -> CallReply<QueueReply> {
        match req {
            QueueCall::Take => match self.next_job() {
                Some(job) => {
                    self.hand_out(cx, job, from).await;
                    CallReply::NoReply
                }
                None if self.all_done() => CallReply::Reply(QueueReply::AllDone),
                None => {
                    self.park_taker(from);
                    CallReply::NoReply
                }
            },
            QueueCall::Ack(job) => match self.ack(job) {
                Acked::Done(lease) => {
                    if let Some(lease) = lease {
                        Self::end_lease(cx, &lease).await;
                    }
                    for to in self.release_parked_if_done() {
                        gen_server::reply(cx, to, QueueReply::AllDone).await;
                    }
                    CallReply::Reply(QueueReply::Accepted)
                }
                Acked::AlreadyDone => CallReply::Reply(QueueReply::AlreadyDone),
            },
            QueueCall::AwaitAllDone if self.all_done() => CallReply::Reply(QueueReply::AllDone),
            QueueCall::AwaitAllDone => {
                self.park_watcher(from);
                CallReply::NoReply
            }
        }
    }

    async fn handle_info(&mut self, cx: &Cx, msg: Envelope) -> Next {
        if let Some((id, _, _)) = msg.down() {
            self.lost(cx, id).await;
        } else if let Some(expired) = msg.peek::<LeaseExpired>() {
            self.lost(cx, expired.lease).await;
        }
        Next::Continue
    }
}

// ---- the workers and the application ------------------------------------------------

/// A worker: takes a job, works on it, applies it to the ledger, acks; until `AllDone`.
async fn worker(cx: Cx, queue: Pid, ledger: Pid, work_ms: u64) {
    loop {
        match gen_server::call(&cx, queue, QueueCall::Take, None).await {
            QueueReply::Job(job) => {
                if work_ms > 0 {
                    cx.sleep(work_ms).await;
                }
                let _: Applied = gen_server::call(&cx, ledger, LedgerCall::Apply(job), None).await;
                let _: QueueReply = gen_server::call(&cx, queue, QueueCall::Ack(job), None).await;
            }
            QueueReply::AllDone => return,
            other => unreachable!("Take is answered with a job or AllDone, not {other:?}"),
        }
    }
}

/// The supervisor child spec of worker `i`: transient, so a killed worker is restarted and
/// one that finished is not.
fn worker_spec(i: u32, queue: Pid, ledger: Pid, work_ms: u64) -> ChildSpec {
    ChildSpec::new(&format!("worker{i}"), move |cx| async move {
        let opts = SpawnOpts::labelled(WORKER).linked();
        let pid = cx
            .spawn_opts(opts, move |w| worker(w, queue, ledger, work_ms))
            .await;
        Ok(pid)
    })
    .restart(Restart::Transient)
}

/// The application: starts the ledger, the queue and the worker supervisor, waits until
/// every job is done, and stops the workers' supervisor. The ledger and the queue stay up,
/// so the end-of-run invariant can read them.
async fn app(cx: Cx, p: Params) {
    let ledger = gen_server::start_link(
        &cx,
        Ledger::new(p.variant == Variant::Fixed),
        StartOpts::named(LEDGER),
    )
    .await
    .expect("the ledger starts");
    let queue =
        gen_server::start_link(&cx, Queue::new(p.jobs, p.lease_ms), StartOpts::named(QUEUE))
            .await
            .expect("the queue starts");
    let children = (0..p.workers)
        .map(|i| worker_spec(i, queue, ledger, p.work_ms))
        .collect();
    let sup = supervisor::start_link(&cx, SupSpec::new(Strategy::OneForOne, children), None)
        .await
        .expect("the workers' supervisor starts");
    let _: QueueReply = gen_server::call(&cx, queue, QueueCall::AwaitAllDone, None).await;
    gen_server::stop(&cx, sup, ExitReason::Normal).await;
}

/// Spawns the system's processes, without invariants (a scenario file names those), and
/// shares the [`Params`] with the invariants ([`all_done`] reads `jobs`).
pub fn spawn(sim: &mut Sim, params: &Params) {
    let p = params.clone();
    sim.share(params.clone());
    sim.spawn("app", move |cx| app(cx, p));
}

/// The invariant [`APPLIED_ONCE`]: no job was applied to the ledger twice, checked after
/// every step (while the ledger runs).
pub fn applied_once() -> impl Invariant {
    invariant(APPLIED_ONCE, When::Always, |w| {
        let Some(pid) = w.whereis(LEDGER) else {
            return Ok(());
        };
        w.with_state::<Ledger, _>(pid, Ledger::check_applied_once)
            .unwrap_or(Ok(()))
    })
}

/// The invariant [`ALL_DONE`]: at the end of the run every job `0..jobs` was applied
/// exactly once (`jobs` from the [`Params`] that [`spawn`] shares).
pub fn all_done() -> impl Invariant {
    invariant(ALL_DONE, When::End, |w| {
        let jobs = w
            .get::<Params>()
            .ok_or("the system shared no Params (spawn it with work_queue::spawn)")?
            .jobs;
        let ledger = w.whereis(LEDGER).ok_or("no ledger is running")?;
        w.with_state::<Ledger, _>(ledger, |l| l.check_all_done(jobs))
            .ok_or("the ledger's state cannot be read")?
    })
}

/// Builds the world: spawns the processes and adds the invariants.
pub fn build(sim: &mut Sim, params: &Params) {
    spawn(sim, params);
    sim.invariant(applied_once());
    sim.invariant(all_done());
}

/// The fault menu the system is meant to be explored with: one kill (reason `kill`) of a
/// process labelled `worker`.
pub fn faults(_params: &Params) -> FaultMenu {
    FaultMenu {
        budget: 1,
        kill_reasons: vec![ExitReason::Kill],
        targets: Targets::Labels(vec![WORKER.into()]),
        ..FaultMenu::none()
    }
}

/// The system a scenario file configures: its processes (the file names the invariants
/// and gives the faults).
struct Configured(Params);

impl System for Configured {
    fn build(&self, sim: &mut Sim) {
        spawn(sim, &self.0)
    }

    fn describe(&self) -> String {
        let p = &self.0;
        format!(
            "{}: {} jobs, {} workers, lease {} ms, work {} ms",
            match p.variant {
                Variant::Flawed => "flawed (ledger applies every write)",
                Variant::Fixed => "fixed (idempotent ledger)",
            },
            p.jobs,
            p.workers,
            p.lease_ms,
            p.work_ms
        )
    }
}

/// Parameters the system cannot run with.
fn validate(p: &Params) -> Result<(), ParamError> {
    if p.workers == 0 {
        return Err(ParamError::new(
            "workers",
            "must be at least 1 (no worker would take a job)",
        ));
    }
    Ok(())
}

/// The work queue for fsim's command line: `system = "work_queue"`, the [`Params`] at a
/// scenario file's top level, and the invariants `applied_once` and `all_done`.
pub fn system() -> SystemDef {
    SystemDef::new(
        "work_queue",
        "a work queue with at-least-once delivery to supervised workers; the ledger applies \
         every write (flawed) or each job once (fixed)",
        |p: Params| {
            validate(&p)?;
            Ok(Configured(p))
        },
    )
    .invariant(
        "no job is applied to the ledger twice (after every step)",
        applied_once,
    )
    .invariant(
        "at the end every job is applied exactly once (at the end of a run)",
        all_done,
    )
}

/// The systems of the crate's command line: the work queue.
pub fn systems() -> Systems {
    Systems::new().with(system())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idempotent_ledger_applies_a_job_once() {
        let mut fixed = Ledger::new(true);
        assert_eq!(fixed.apply(JobId(1)), Applied::Applied);
        assert_eq!(fixed.apply(JobId(1)), Applied::Duplicate);
        assert_eq!(fixed.times_applied(JobId(1)), 1);
        assert_eq!(fixed.check_applied_once(), Ok(()));

        let mut flawed = Ledger::new(false);
        flawed.apply(JobId(1));
        flawed.apply(JobId(1));
        assert_eq!(
            flawed.check_applied_once(),
            Err("JobId(1) was applied 2 times".into())
        );
    }

    #[test]
    fn a_lost_lease_puts_the_job_back_and_the_first_ack_completes_it() {
        let mut q = Queue::new(2, 10);
        let job = q.next_job().unwrap();
        let first = Lease {
            job,
            worker: Pid(7),
            id: Ref(100),
            timer: Ref(101),
        };
        q.lease(first);
        assert_eq!(q.release(first.id), Some(first));
        assert_eq!(q.pending().collect::<Vec<_>>(), vec![JobId(0), JobId(1)]);
        // Redelivered to another worker; the first one's late ack still completes the job
        // and ends the second lease.
        let again = q.next_job().unwrap();
        let second = Lease {
            job: again,
            worker: Pid(8),
            id: Ref(102),
            timer: Ref(103),
        };
        q.lease(second);
        assert_eq!(q.ack(job), Acked::Done(Some(second)));
        assert_eq!(q.ack(job), Acked::AlreadyDone);
        assert_eq!(q.leases().count(), 0);
        assert!(!q.all_done());
        q.next_job();
        assert_eq!(q.ack(JobId(1)), Acked::Done(None));
        assert!(q.all_done());
    }
}
