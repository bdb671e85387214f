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
use super::types::Pid;
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

/// Random choices from a ChaCha8 stream: one seed, one tape.
///
/// Half of the seeds pick uniformly among the enabled actions. The other half give every
/// process a speed of its own, drawn from the seed: a weight `2^x` with `x` uniform in
/// `0..SPEED_LEVELS` (up to 512 to 1 between two processes), and an action is picked with
/// probability proportional to its process's weight (a delivery counts for its receiver).
/// Uniform picks make one process outrun another by many steps almost never: a race
/// where a process must do 40 steps while another does a handful (an actor that works,
/// then kills a server mid-request) was missed in 10,000 uniform runs. With speeds,
/// about one seed in five runs such a pair far apart. Which half a seed is in, and the
/// speeds, come from the seed by a hash, not from the stream: a uniform seed's choices
/// are exactly what they were before speeds existed.
#[derive(Debug, Clone)]
pub struct RandomChooser {
    rng: ChaCha8Rng,
    /// The key of this seed's process speeds; `None` for a uniform seed.
    speeds: Option<u64>,
    /// Each process's weight by pid, as far as a pid has been offered (a function of the
    /// key, computed once).
    weights: Vec<u64>,
    /// Chance, in parts per million, of injecting a fault at a decision where one is offered.
    pub fault_ppm: u32,
    /// Chance, in parts per million, of letting time jump when other actions are enabled.
    pub jump_ppm: u32,
}

/// Speeds range over `2^0 ..= 2^(SPEED_LEVELS - 1)`.
const SPEED_LEVELS: u64 = 10;

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The weight of process `pid` under the speeds `key`: `2^x`, `x` below `SPEED_LEVELS`.
fn speed(key: u64, pid: Pid) -> u64 {
    1 << (mix64(key ^ u64::from(pid.0)) % SPEED_LEVELS)
}

impl RandomChooser {
    /// Default rates: a fault at 2% of decisions that offer one, a jump at 1%.
    pub fn new(seed: u64) -> Self {
        let key = mix64(seed ^ 0x5EED_5BEE_D000_0000);
        RandomChooser {
            rng: ChaCha8Rng::seed_from_u64(seed),
            speeds: (key & 1 == 1).then_some(key),
            weights: Vec::new(),
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

    /// Whether this seed gives processes speeds of their own (else it picks uniformly).
    pub fn has_speeds(&self) -> bool {
        self.speeds.is_some()
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

    /// An action drawn with probability proportional to its process's speed: one
    /// 32-bit draw, like a uniform pick.
    fn weighted(&mut self, key: u64, actions: &[Action]) -> Action {
        let top = actions
            .iter()
            .map(|a| a.pid().0 as usize)
            .max()
            .unwrap_or(0);
        while self.weights.len() <= top {
            let pid = Pid(self.weights.len() as u32);
            self.weights.push(speed(key, pid));
        }
        let weight = |a: &Action| self.weights[a.pid().0 as usize];
        let total: u64 = actions.iter().map(weight).sum();
        let mut at = (self.rng.next_u32() as u64 * total) >> 32;
        for a in actions {
            let w = weight(a);
            if at < w {
                return *a;
            }
            at -= w;
        }
        unreachable!("a draw below the total lands on an action")
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
        match (d.actions.len(), self.speeds) {
            (1, _) => Choice::Pick(d.actions[0]),
            (n, None) => Choice::Pick(d.actions[self.below(n)]),
            (_, Some(key)) => Choice::Pick(self.weighted(key, d.actions)),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(actions: &[Action]) -> Decision<'_> {
        Decision {
            step: 0,
            index: 0,
            now_ms: 0,
            actions,
            faults: &[],
            can_jump: false,
            draw: 0,
        }
    }

    /// A uniform seed draws exactly what a plain uniform pick over its ChaCha8 stream
    /// draws (its tapes did not change when speeds came in); about half the seeds are
    /// uniform.
    #[test]
    fn a_uniform_seed_picks_as_before() {
        let actions: Vec<Action> = (0..5).map(|i| Action::Run(Pid(i))).collect();
        let uniform: Vec<u64> = (0..200)
            .filter(|s| !RandomChooser::new(*s).has_speeds())
            .collect();
        assert!((70..130).contains(&uniform.len()), "{}", uniform.len());
        for seed in uniform {
            let mut c = RandomChooser::new(seed);
            let mut plain = ChaCha8Rng::seed_from_u64(seed);
            for _ in 0..50 {
                let want = ((plain.next_u32() as u64 * 5) >> 32) as usize;
                assert_eq!(c.choose(&decision(&actions)), Choice::Pick(actions[want]));
            }
        }
    }

    /// With speeds, how often each process is picked follows its weight: over 10,000
    /// picks between two processes, the faster one's share is its weight's share (within
    /// 3 points), and some seed makes one at least 64 times as fast as the other.
    #[test]
    fn speeds_weigh_the_picks() {
        let actions = [Action::Run(Pid(0)), Action::Run(Pid(1))];
        let mut far_apart = false;
        for seed in (0..40).filter(|s| RandomChooser::new(*s).has_speeds()) {
            let mut c = RandomChooser::new(seed);
            let key = c.speeds.unwrap();
            let w = |p: u32| speed(key, Pid(p)) as f64;
            let expected = w(0) / (w(0) + w(1));
            far_apart |= w(0) / w(1) >= 64.0 || w(1) / w(0) >= 64.0;
            let zeros = (0..10_000)
                .filter(|_| c.choose(&decision(&actions)) == Choice::Pick(actions[0]))
                .count();
            let share = zeros as f64 / 10_000.0;
            assert!(
                (share - expected).abs() < 0.03,
                "seed {seed}: share {share}, weight share {expected}"
            );
        }
        assert!(far_apart);
    }
}
