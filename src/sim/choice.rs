//! The one narrow interface through which every producer of choices plugs in.
//!
//! At each decision point the kernel hands a [`Chooser`] the [`Decision`]: the actions
//! offered, the default first, the faults the menu offers now, and whether virtual time
//! may jump. The chooser answers with a [`Choice`]; the kernel validates it (an invalid
//! choice falls back to the default and is counted) and records what actually ran.
//! Seeded random and replay live here; PCT, exhaustive search and the shrinker's candidate
//! tapes are further implementations of the same trait.

use super::footprint::Access;
use super::tape::{Action, Choice, Fault, Tape};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// What is possible at one decision point.
#[derive(Debug)]
pub struct Decision<'a> {
    /// Index of the step about to run.
    pub step: u32,
    /// Index of the tape entry this decision will be recorded as.
    pub index: usize,
    /// Virtual time now.
    pub now_ms: u64,
    /// The actions offered, the default first: the process that may run on at an effect,
    /// or else the run queue's order (then deliveries in canonical order); see
    /// `World::offer`. Empty when only time can move (then the default is to advance
    /// time).
    pub actions: &'a [Action],
    /// Faults that may be injected now (empty when the budget is spent or the menu empty).
    pub faults: &'a [Fault],
    /// A timer is pending, so time may jump to it.
    pub can_jump: bool,
    /// Non-zero when this decision is a process's `draw(n)`: answer `Choice::Draw(v)`
    /// with `v < draw` (then `actions` and `faults` are empty).
    pub draw: u32,
}

/// One step as it ran, told to a chooser that asked for it ([`Chooser::wants_steps`]):
/// what a partial-order reduction needs to know which steps commute.
#[derive(Debug)]
pub struct Stepped<'a> {
    /// The step's index.
    pub step: u32,
    /// The tape entry of its decision; `None` when the decision was forced (one action
    /// offered, no fault, no time jump) and the chooser was not asked.
    pub index: Option<usize>,
    /// What ran: a pick, a time jump or a fault.
    pub taken: &'a Choice,
    /// The actions that were offered, the default first.
    pub actions: &'a [Action],
    /// Every action that was enabled, offered or not (one node's scheduler holds back a
    /// process woken a moment ago), in canonical order.
    pub enabled: &'a [Action],
    /// Time could have jumped instead.
    pub can_jump: bool,
    /// The faults that were offered.
    pub faults: &'a [Fault],
    /// The earlier step this one could not have run without: the send of the message a
    /// process took, the send of the signal a delivery delivered, the step that set the
    /// timer that fired.
    pub cause: Option<u32>,
    /// What the step touched, sorted, one entry per object ([`super::footprint`]).
    pub footprint: &'a [Access],
    /// Actions that were enabled before the step and are not after it: the step's own
    /// thread's, and another's that it disabled (a process it killed, the signals on
    /// their way to it).
    pub disabled: &'a [Action],
    /// A timer was pending before the step (time could jump) and none is after it: the
    /// step cancelled the last one (a process it killed had one set to it).
    pub jump_disabled: bool,
}

/// A producer of choices.
pub trait Chooser {
    /// Decide. Returning something that is not valid at this point is allowed: the kernel
    /// takes the default instead and counts a fallback.
    fn choose(&mut self, decision: &Decision<'_>) -> Choice;

    /// Whether to be told every step with its footprint ([`Chooser::stepped`]). Asked
    /// once, when the run starts; recording footprints costs a little per effect.
    fn wants_steps(&self) -> bool {
        false
    }

    /// A step ran (forced ones included), when [`Chooser::wants_steps`] said so.
    fn stepped(&mut self, _step: &Stepped<'_>) {}
}

impl<C: Chooser + ?Sized> Chooser for &mut C {
    fn choose(&mut self, decision: &Decision<'_>) -> Choice {
        (**self).choose(decision)
    }
    fn wants_steps(&self) -> bool {
        (**self).wants_steps()
    }
    fn stepped(&mut self, step: &Stepped<'_>) {
        (**self).stepped(step)
    }
}

impl<C: Chooser + ?Sized> Chooser for Box<C> {
    fn choose(&mut self, decision: &Decision<'_>) -> Choice {
        (**self).choose(decision)
    }
    fn wants_steps(&self) -> bool {
        (**self).wants_steps()
    }
    fn stepped(&mut self, step: &Stepped<'_>) {
        (**self).stepped(step)
    }
}

/// Always the default: the first action offered (a process runs on at its effects, then
/// the run queue's order), no faults, no jumps. The "happy path".
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultChooser;

impl Chooser for DefaultChooser {
    fn choose(&mut self, _: &Decision<'_>) -> Choice {
        Choice::Default
    }
}

/// The fault rate of every entry point: a fault at 2% of the decisions that offer one.
pub const DEFAULT_FAULT_PPM: u32 = 20_000;

/// The time-jump rate of every entry point: at 1% of the decisions where a timer is
/// pending, time jumps to it although other actions could run. A world with timers gets
/// time jumps unless told otherwise.
pub const DEFAULT_JUMP_PPM: u32 = 10_000;

/// Uniform random choices from a ChaCha8 stream: one seed, one tape.
#[derive(Debug, Clone)]
pub struct RandomChooser {
    rng: ChaCha8Rng,
    /// Chance, in parts per million, of injecting a fault at a decision where one is offered.
    pub fault_ppm: u32,
    /// Chance, in parts per million, of letting time jump when other actions are enabled.
    pub jump_ppm: u32,
}

impl RandomChooser {
    /// Default rates: a fault at 2% of decisions that offer one, a jump at 1%.
    pub fn new(seed: u64) -> Self {
        RandomChooser {
            rng: ChaCha8Rng::seed_from_u64(seed),
            fault_ppm: DEFAULT_FAULT_PPM,
            jump_ppm: DEFAULT_JUMP_PPM,
        }
    }

    /// Sets the fault and jump rates (parts per million).
    pub fn with_rates(mut self, fault_ppm: u32, jump_ppm: u32) -> Self {
        self.fault_ppm = fault_ppm;
        self.jump_ppm = jump_ppm;
        self
    }

    /// A uniform index below `n` (n > 0), by multiply-shift: one 32-bit draw.
    #[inline]
    pub fn below(&mut self, n: usize) -> usize {
        ((self.rng.next_u32() as u64 * n as u64) >> 32) as usize
    }

    #[inline]
    fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.rng.next_u32() % 1_000_000 < ppm
    }
}

impl Chooser for RandomChooser {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        if d.draw > 0 {
            return Choice::Draw(self.below(d.draw as usize) as u32);
        }
        if !d.faults.is_empty() && self.chance(self.fault_ppm) {
            let i = self.below(d.faults.len());
            return Choice::Fault(d.faults[i].clone());
        }
        if d.actions.is_empty() {
            return Choice::Default; // advance time, or end when only faults were offered
        }
        if d.can_jump && self.chance(self.jump_ppm) {
            return Choice::Jump;
        }
        match d.actions.len() {
            1 => Choice::Pick(d.actions[0]),
            n => Choice::Pick(d.actions[self.below(n)]),
        }
    }
}

/// Reads a stored tape; past its end every choice is the default.
#[derive(Debug, Clone)]
pub struct ReplayChooser {
    tape: Tape,
}

impl ReplayChooser {
    /// Replays `tape`.
    pub fn new(tape: Tape) -> Self {
        ReplayChooser { tape }
    }
}

impl Chooser for ReplayChooser {
    fn choose(&mut self, d: &Decision<'_>) -> Choice {
        self.tape
            .choices
            .get(d.index)
            .cloned()
            .unwrap_or(Choice::Default)
    }
}
