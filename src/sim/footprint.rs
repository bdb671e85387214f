//! What a step touched: the objects of the world it read or wrote, for dynamic
//! partial-order reduction (`explore::dpor`). Two steps of different threads are
//! *dependent* when they touch one object and at least one of them changes it in a way
//! the other can see; independent steps commute (either order reaches the same world).
//!
//! The objects are the world's, at the granularity of OTP's signals:
//! - a process's life (alive or dead, how it exits, whether it traps exits) and its ties
//!   (links, monitors, aliases), written by an exit, a link or a monitor and read by a
//!   send (a message to a dead process is dropped), by `is_alive` and by its own steps (a
//!   killed process takes no more steps);
//! - a mailbox, where an append commutes with taking a message already there (the taken
//!   one was matched before the append, and the receive is ordered after the send of what
//!   it took), but not with another append (arrival order) nor with a scan that found no
//!   match (the append might have matched);
//! - each registered name, each table and each table name;
//! - the clock and the timer queue; the counters that number pids, refs and tables (two
//!   spawns in the other order give the children each other's pids);
//! - `Global`, which every step depends on: a fault, and every step of a world whose
//!   invariants are checked after each step or read values shared outside the kernel.
//!
//! Recording is off unless a chooser asks for it ([`crate::sim::Chooser::wants_steps`]):
//! then each touch is one push.

use super::types::Pid;

/// An object of the world a step can touch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Obj {
    /// Everything (sorts first).
    Global,
    /// Whether the process is alive, its exit reason, whether it traps exits.
    Life(Pid),
    /// Its links, monitors (both directions) and aliases.
    Ties(Pid),
    /// Its mailbox.
    Mailbox(Pid),
    /// A registered name (by a hash of it: a collision only adds dependence).
    Name(u64),
    /// A table, by id: its existence and owner, and for an operation on the whole
    /// table, every key.
    Table(u64),
    /// One key of a table (by a hash of the key): written by an insert or delete of that
    /// key, read by a lookup. Every keyed operation also reads its table.
    Key(u64, u64),
    /// A table name (hashed).
    TableName(u64),
    /// Virtual time.
    Clock,
    /// The pending timers.
    Timers,
    /// The counters that hand out pids, refs and table ids.
    Counters,
    /// One node's scheduler: which processes were runnable when a turn began decides
    /// which of them may preempt it. A process woken by a timer writes it; a turn
    /// beginning reads it.
    Sched,
    /// Whether the process is runnable, under one node's delivery: the processes
    /// runnable when a turn begins are the ones that may preempt it. A step that makes a
    /// process runnable or not (a wake, a wait, a death, a timer firing) writes it; a
    /// turn beginning reads its own process's entry, as a mark, and, when it goes on
    /// past its first step, every live process's. What a step does is the same in either
    /// order, only who may preempt whom differs: `dependent` counts it (for sleep sets),
    /// `explore::dpor`'s races do not, and use it where a process they must run next is
    /// held back.
    Ready(Pid),
}

/// How a step touched an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Looked at it.
    Read,
    /// Took a message that was already in the mailbox.
    Take,
    /// Appended a message to the mailbox.
    Append,
    /// Changed it.
    Write,
}

/// One touch.
pub type Access = (Obj, Mode);

/// Do two touches of one object fail to commute?
#[inline]
pub fn conflicts(a: Mode, b: Mode) -> bool {
    !matches!(
        (a, b),
        (Mode::Read, Mode::Read) | (Mode::Append, Mode::Take) | (Mode::Take, Mode::Append)
    )
}

/// Sorts a step's touches and keeps the strongest touch per object (a write over an
/// append over a take over a read; a take and an append of one mailbox are kept as a
/// write, since together they conflict with everything either conflicts with).
pub fn normalize(fp: &mut Vec<Access>) {
    fp.sort_unstable();
    let mut out = 0;
    for i in 0..fp.len() {
        let (o, m) = fp[i];
        if out > 0 && fp[out - 1].0 == o {
            let prev = fp[out - 1].1;
            fp[out - 1].1 = match (prev, m) {
                (Mode::Take, Mode::Append) | (Mode::Append, Mode::Take) => Mode::Write,
                _ => prev.max(m),
            };
        } else {
            fp[out] = (o, m);
            out += 1;
        }
    }
    fp.truncate(out);
}

/// Are two normalized footprints dependent?
pub fn dependent(a: &[Access], b: &[Access]) -> bool {
    if a.first().is_some_and(|x| x.0 == Obj::Global)
        || b.first().is_some_and(|x| x.0 == Obj::Global)
    {
        return true;
    }
    // Both sorted by object: a merge.
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                if conflicts(a[i].1, b[j].1) {
                    return true;
                }
                i += 1;
                j += 1;
            }
        }
    }
    false
}

/// A hash of a name, stable across runs and platforms (FNV-1a).
pub fn name_key(name: &str) -> u64 {
    let mut h = Fnv::default();
    std::hash::Hasher::write(&mut h, name.as_bytes());
    std::hash::Hasher::finish(&h)
}

/// A hash of a table key, stable across runs and platforms.
pub fn value_key<K: std::hash::Hash + ?Sized>(k: &K) -> u64 {
    let mut h = Fnv::default();
    k.hash(&mut h);
    std::hash::Hasher::finish(&h)
}

/// FNV-1a: deterministic (no per-process seed, unlike the standard library's hasher).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_append_commutes_with_a_take_but_not_with_an_append_or_a_scan() {
        let m = Obj::Mailbox(Pid(1));
        assert!(!dependent(&[(m, Mode::Append)], &[(m, Mode::Take)]));
        assert!(dependent(&[(m, Mode::Append)], &[(m, Mode::Append)]));
        assert!(dependent(&[(m, Mode::Append)], &[(m, Mode::Read)]));
        assert!(!dependent(&[(m, Mode::Read)], &[(m, Mode::Read)]));
        assert!(!dependent(
            &[(m, Mode::Write)],
            &[(Obj::Mailbox(Pid(2)), Mode::Write)]
        ));
        assert!(dependent(
            &[(Obj::Global, Mode::Write)],
            &[(Obj::Clock, Mode::Read)]
        ));
    }

    #[test]
    fn normalize_keeps_the_strongest_touch_per_object() {
        let m = Obj::Mailbox(Pid(1));
        let mut fp = vec![
            (Obj::Clock, Mode::Read),
            (m, Mode::Take),
            (Obj::Clock, Mode::Write),
            (m, Mode::Append),
        ];
        normalize(&mut fp);
        assert_eq!(fp, vec![(m, Mode::Write), (Obj::Clock, Mode::Write)]);
    }
}
