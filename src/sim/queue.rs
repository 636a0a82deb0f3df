//! The event queue: a monotone radix queue (a radix heap with 8-bit digits, in the manner
//! of a hierarchical timing wheel) that pops in exactly `(time, insertion order)`.
//!
//! Why not a binary heap: every push and pop of a heap sifts through log2(len) levels, and
//! at 10^6 pending events (a 10 000-node Raft election storm) each level is a cache miss.
//! Here a push appends to one bucket and an event moves down at most seven times before it
//! is popped (typically once or twice for millisecond delays), always by sequential scans,
//! so the cost per event does not grow with the queue.
//!
//! How: every queued time is at least `last`, the current time of the queue. Events at
//! exactly `last` wait in `ready`, a FIFO. Any later event goes to level `L` = the highest
//! byte in which its time differs from `last`, digit = that byte of its time; a lower level,
//! or a lower digit within a level, always holds earlier times. When `ready` is empty, the
//! lowest non-empty bucket is *cascaded*: `last` becomes its earliest time, the events at
//! that time move to `ready` and the others to lower levels.
//!
//! Ties: buckets and `ready` are FIFO, a cascade moves a bucket in order into empty buckets,
//! and all events of one time are always in one bucket (or all in `ready`), so simultaneous
//! events pop in the order they were pushed — the same `(time, seq)` order as a heap keyed
//! by a global sequence number, without storing the number.

use super::time::SimTime;
use std::collections::VecDeque;

/// Levels of 8-bit digits covering a `u64` time.
const LEVELS: usize = 8;
/// Buckets per level.
const DIGITS: usize = 256;
/// Largest bucket buffer (in events) kept for reuse after its bucket empties.
const KEEP_CAPACITY: usize = 256;

/// A min-queue of events of type `E` ordered by `(time, insertion order)`.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// The queue's current time: `ready` holds the events at it, the buckets later ones.
    last: u64,
    /// Events at `last`, in push order.
    ready: VecDeque<E>,
    /// `LEVELS * DIGITS` buckets, index `level * DIGITS + digit`, each in push order; a
    /// small one keeps its buffer when emptied, so a steady workload stops allocating.
    buckets: Box<[Vec<(u64, E)>]>,
    /// One bit per non-empty bucket.
    occupied: [[u64; DIGITS / 64]; LEVELS],
    /// One bit per level with a non-empty bucket.
    levels: u32,
    len: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            last: 0,
            ready: VecDeque::new(),
            buckets: (0..LEVELS * DIGITS).map(|_| Vec::new()).collect(),
            occupied: [[0; DIGITS / 64]; LEVELS],
            levels: 0,
            len: 0,
        }
    }

    /// Queue an event at `t >= last`. Always inlined (into `push` and `cascade`): as a
    /// call it moved each event through the stack once more.
    #[inline(always)]
    fn insert(&mut self, t: u64, event: E) {
        let x = t ^ self.last;
        if x == 0 {
            self.ready.push_back(event);
            return;
        }
        let level = (63 - x.leading_zeros()) as usize / 8;
        let digit = ((t >> (8 * level)) & 0xFF) as usize;
        self.buckets[level * DIGITS + digit].push((t, event));
        self.occupied[level][digit / 64] |= 1 << (digit % 64);
        self.levels |= 1 << level;
    }

    #[inline]
    fn mark_empty(&mut self, level: usize, digit: usize) {
        let words = &mut self.occupied[level];
        words[digit / 64] &= !(1 << (digit % 64));
        if words.iter().all(|&w| w == 0) {
            self.levels &= !(1 << level);
        }
    }

    /// Lowest non-empty digit of a level that has one.
    #[inline]
    fn first_digit(&self, level: usize) -> usize {
        let words = &self.occupied[level];
        let w = words
            .iter()
            .position(|&w| w != 0)
            .expect("the level has a non-empty bucket");
        w * 64 + words[w].trailing_zeros() as usize
    }

    /// Make `ready` hold the earliest events, if there are any; false when empty.
    #[inline]
    fn settle(&mut self) -> bool {
        if !self.ready.is_empty() {
            return true;
        }
        if self.levels == 0 {
            return false;
        }
        self.cascade();
        true
    }

    /// Move the lowest bucket's earliest time to `ready` and its other events to lower
    /// levels (all empty: this bucket is the lowest). Needs `ready` empty and a bucket.
    fn cascade(&mut self) {
        let level = self.levels.trailing_zeros() as usize;
        let digit = self.first_digit(level);
        let b = level * DIGITS + digit;
        self.mark_empty(level, digit);
        if self.buckets[b].len() == 1 {
            // The sparse case (a few events per millisecond): straight to `ready`.
            let (t, e) = self.buckets[b].pop().expect("one event");
            self.last = t;
            self.ready.push_back(e);
            return;
        }
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        self.last = bucket
            .iter()
            .map(|&(t, _)| t)
            .min()
            .expect("an occupied bucket is not empty");
        // Every event here differs from the new `last` only below byte `level`.
        for (t, e) in bucket.drain(..) {
            self.insert(t, e);
        }
        // Keep a small bucket's buffer for reuse; free a large one, or every bucket would
        // keep its peak and memory would be a multiple of the events queued (a 10 000-node
        // storm: 470 MB instead of 120 MB).
        if bucket.capacity() <= KEEP_CAPACITY {
            self.buckets[b] = bucket;
        }
    }

    /// A push earlier than `last` (only after a peek moved `last` ahead of the caller's
    /// clock, e.g. `run_until` followed by an injected fault): rebuild relative to `t`.
    /// Each time's events come out of one bucket (or `ready`) in order, so ties keep it.
    #[cold]
    fn rewind(&mut self, t: u64) {
        let mut all: Vec<(u64, E)> = Vec::with_capacity(self.len);
        let last = self.last;
        all.extend(self.ready.drain(..).map(|e| (last, e)));
        for b in self.buckets.iter_mut() {
            all.append(b);
        }
        self.occupied = [[0; DIGITS / 64]; LEVELS];
        self.levels = 0;
        self.last = t;
        for (t, e) in all {
            self.insert(t, e);
        }
    }

    /// Schedule `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        if time.0 < self.last {
            self.rewind(time.0);
        }
        self.insert(time.0, event);
        self.len += 1;
    }

    /// Remove and return the earliest event (the first pushed among equal times).
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if !self.settle() {
            return None;
        }
        let e = self.ready.pop_front().expect("settled");
        self.len -= 1;
        Some((SimTime(self.last), e))
    }

    /// Time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.settle().then_some(SimTime(self.last))
    }

    /// Number of events queued and not yet popped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn pops_in_time_then_fifo_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), "b");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "c");
        q.push(SimTime(3), "x");
        let order: Vec<_> = std::iter::from_fn(|| q.pop())
            .map(|(t, e)| (t.0, e))
            .collect();
        assert_eq!(order, vec![(1, "a"), (3, "x"), (5, "b"), (5, "c")]);
    }

    #[test]
    fn ties_across_a_cascade_keep_push_order() {
        let mut q = EventQueue::new();
        let t = 3 << 40;
        q.push(SimTime(t), 0);
        q.push(SimTime(1), -1);
        assert_eq!(q.pop(), Some((SimTime(1), -1)));
        q.push(SimTime(t), 1); // same bucket as 0, both far above `last`
        assert_eq!(q.peek_time(), Some(SimTime(t))); // cascades both
        q.push(SimTime(t), 2); // joins them in `ready`, behind them
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(rest, vec![0, 1, 2]);
    }

    #[test]
    fn a_push_behind_a_peek_is_still_ordered() {
        let mut q = EventQueue::new();
        q.push(SimTime(1000), "late");
        q.push(SimTime(1000), "late2");
        assert_eq!(q.peek_time(), Some(SimTime(1000)));
        q.push(SimTime(10), "early"); // below `last` after the peek
        q.push(SimTime(1000), "late3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec!["early", "late", "late2", "late3"]);
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Push at `now + delta` (now = time of the latest pop; a peek may have moved the
        /// queue past it, which exercises `rewind`).
        Push(u64),
        Pop,
        Peek,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => prop_oneof![
                Just(0u64),
                0u64..300,
                0u64..70_000,
                0u64..20_000_000,
                any::<u64>().prop_map(|x| x >> 20),
            ]
            .prop_map(Op::Push),
            2 => Just(Op::Pop),
            1 => Just(Op::Peek),
        ]
    }

    proptest! {
        /// Same pops as a binary heap keyed by (time, global sequence number).
        #[test]
        fn matches_a_heap_keyed_by_time_and_sequence(ops in prop::collection::vec(op(), 1..400)) {
            let mut q = EventQueue::new();
            let mut heap = BinaryHeap::new();
            let mut now = 0u64;
            let mut seq = 0u64;
            for op in ops {
                match op {
                    Op::Push(delta) => {
                        let t = now.saturating_add(delta);
                        q.push(SimTime(t), seq);
                        heap.push(Reverse((t, seq)));
                        seq += 1;
                    }
                    Op::Pop => {
                        let want = heap.pop().map(|Reverse((t, s))| (SimTime(t), s));
                        prop_assert_eq!(q.pop(), want);
                        if let Some((t, _)) = want {
                            now = t.0;
                        }
                    }
                    Op::Peek => {
                        let want = heap.peek().map(|Reverse((t, _))| SimTime(*t));
                        prop_assert_eq!(q.peek_time(), want);
                    }
                }
                prop_assert_eq!(q.len(), heap.len());
            }
            while let Some(Reverse((t, s))) = heap.pop() {
                prop_assert_eq!(q.pop(), Some((SimTime(t), s)));
            }
            prop_assert!(q.pop().is_none() && q.is_empty());
        }
    }
}
