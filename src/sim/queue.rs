//! The event queue: a binary heap of small `Copy` keys `(time, seq, slot)` with payloads in
//! a slab. `seq` is a global counter, so simultaneous events pop in scheduling order (FIFO)
//! and every tie has one reproducible order. Keeping payloads out of the heap keeps sift
//! operations on 24-byte keys (see ECOSYSTEM.md §6 for the measurements behind this).

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A min-queue of events of type `E` ordered by `(time, insertion order)`.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
    /// The heap's top entry was handed out by `pop` but is still physically in the heap: the
    /// next `push` overwrites it (one sift-down instead of a pop plus a push), or the next
    /// `pop`/`peek` removes it. Handlers usually schedule something, so this halves the heap
    /// work of a typical event.
    top_consumed: bool,
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
            heap: BinaryHeap::new(),
            slab: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            top_consumed: false,
        }
    }

    /// Physically remove a consumed top entry.
    #[inline]
    fn settle(&mut self) {
        if self.top_consumed {
            self.top_consumed = false;
            self.heap.pop();
        }
    }

    /// Schedule `event` at `time`.
    pub fn push(&mut self, time: SimTime, event: E) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(event);
                s
            }
            None => {
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let key = Reverse((time.0, seq, slot));
        if self.top_consumed {
            self.top_consumed = false;
            // Overwrite the consumed top; PeekMut restores the heap order when dropped.
            *self
                .heap
                .peek_mut()
                .expect("a consumed top is still in the heap") = key;
        } else {
            self.heap.push(key);
        }
    }

    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.settle();
        let &Reverse((t, _seq, slot)) = self.heap.peek()?;
        self.top_consumed = true;
        let ev = self.slab[slot as usize]
            .take()
            .expect("slab slot holds the queued event");
        self.free.push(slot);
        Some((SimTime(t), ev))
    }

    /// Time of the earliest event, if any.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.settle();
        self.heap.peek().map(|Reverse((t, _, _))| SimTime(*t))
    }

    /// Number of events queued and not yet popped.
    pub fn len(&self) -> usize {
        self.heap.len() - usize::from(self.top_consumed)
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reuses_slots() {
        let mut q = EventQueue::new();
        for i in 0..100u64 {
            q.push(SimTime(i), i);
            q.pop();
        }
        assert_eq!(q.slab.len(), 1);
    }
}
