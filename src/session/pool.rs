//! Byte buffers kept for reuse by the session sink, by capacity class.
//!
//! Every session's pending bytes live in a buffer that grows as records arrive and goes to
//! the writer thread when flushed; the writer sends it back. Allocating each buffer from
//! glibc and growing it with `realloc` cost the split thread about 0.55 s of split a's CPU
//! (perf, 1 GiB, 100,000 sessions: `_int_malloc`, `unlink_chunk`, `_int_free`,
//! `_int_realloc`), since the sizes are too large for glibc's per-thread cache and the
//! returned blocks must be consolidated and searched for. A buffer the writer is done with
//! is as good as a new one, so it is kept here, and the next session of about its size takes
//! it: a push and a pop instead of a search of the heap.
//!
//! Classes are powers of two; a buffer is filed under the largest class its capacity holds,
//! and a request is served from the smallest class that holds it, so whatever is taken is
//! large enough. The pool keeps at most [`POOL_BYTES`]; beyond that, a returned buffer is
//! freed as before.

/// Capacity of the smallest class: a buffer smaller than this is not worth keeping.
const MIN_CLASS_SHIFT: u32 = 8;
/// Classes from 256 bytes to 8 MiB, the largest a session's buffer reaches before it is
/// written on its own (twice `sink::BIG_BUFFER`, by doubling).
const CLASSES: usize = 16;

/// Most bytes the pool holds. The writer returns about a batch (4 MiB) at a time, which the
/// split thread reuses before the next comes back; twice that covers the variation without
/// letting the pool, memory outside the write budget, grow far.
pub const POOL_BYTES: usize = 8 * 1024 * 1024;

/// Buffers by capacity class; see the module documentation.
#[derive(Debug, Default)]
pub struct BufferPool {
    classes: [Vec<Vec<u8>>; CLASSES],
    /// Capacity of all buffers held.
    bytes: usize,
}

impl BufferPool {
    /// An empty buffer with room for at least `at_least` bytes: a kept one when there is
    /// one of that class, else a new one of the class's capacity (so it can be kept later).
    pub fn take(&mut self, at_least: usize) -> Vec<u8> {
        let Some(capacity) = at_least
            .max(1 << MIN_CLASS_SHIFT)
            .checked_next_power_of_two()
        else {
            return Vec::with_capacity(at_least);
        };
        let class = (capacity.trailing_zeros() - MIN_CLASS_SHIFT) as usize;
        if let Some(buffer) = self.classes.get_mut(class).and_then(Vec::pop) {
            self.bytes -= buffer.capacity();
            return buffer;
        }
        Vec::with_capacity(capacity)
    }

    /// Keeps `buffer` for reuse (emptied), or frees it when it is too small or too large to
    /// file or the pool is full.
    pub fn give(&mut self, mut buffer: Vec<u8>) {
        let capacity = buffer.capacity();
        if capacity < 1 << MIN_CLASS_SHIFT || self.bytes + capacity > POOL_BYTES {
            return;
        }
        let class = (usize::BITS - 1 - capacity.leading_zeros() - MIN_CLASS_SHIFT) as usize;
        if let Some(list) = self.classes.get_mut(class) {
            buffer.clear();
            self.bytes += capacity;
            list.push(buffer);
        }
    }

    /// Capacity of all buffers held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_new_buffer_has_its_class_capacity() {
        let mut pool = BufferPool::default();
        assert_eq!(pool.take(0).capacity(), 256);
        assert_eq!(pool.take(257).capacity(), 512);
        assert_eq!(pool.take(4096).capacity(), 4096);
        assert_eq!(pool.bytes(), 0);
    }

    #[test]
    fn a_given_buffer_comes_back_empty_for_its_class() {
        let mut pool = BufferPool::default();
        let mut b = pool.take(1000);
        b.extend_from_slice(&[7; 1000]);
        let at = b.as_ptr();
        pool.give(b);
        assert_eq!(pool.bytes(), 1024);
        // A larger class does not get it...
        let larger = pool.take(1025);
        assert_ne!(larger.as_ptr(), at);
        assert_eq!(larger.capacity(), 2048);
        // ...its own does, emptied.
        let again = pool.take(600);
        assert_eq!(again.as_ptr(), at);
        assert!(again.is_empty());
        assert_eq!(pool.bytes(), 0);
    }

    #[test]
    fn an_odd_capacity_is_filed_under_the_class_it_holds() {
        let mut pool = BufferPool::default();
        pool.give(Vec::with_capacity(3000));
        // 3000 holds 2048 but not 4096.
        assert_eq!(pool.take(4096).capacity(), 4096);
        assert!(pool.take(2048).capacity() >= 3000);
    }

    #[test]
    fn the_pool_keeps_no_more_than_its_limit() {
        let mut pool = BufferPool::default();
        for _ in 0..3 {
            pool.give(Vec::with_capacity(POOL_BYTES / 2));
        }
        assert_eq!(pool.bytes(), POOL_BYTES);
        pool.give(Vec::with_capacity(256));
        assert_eq!(pool.bytes(), POOL_BYTES);
        // Too small to file, or larger than any class: freed.
        let mut empty = BufferPool::default();
        empty.give(Vec::with_capacity(100));
        empty.give(Vec::with_capacity(16 * 1024 * 1024));
        assert_eq!(empty.bytes(), 0);
    }

    proptest! {
        #[test]
        fn whatever_is_taken_holds_what_was_asked(
            given in proptest::collection::vec(0usize..20_000, 0..40),
            asked in proptest::collection::vec(0usize..20_000, 0..40),
        ) {
            let mut pool = BufferPool::default();
            for cap in given {
                pool.give(Vec::with_capacity(cap));
            }
            for n in asked {
                let held = pool.bytes();
                let b = pool.take(n);
                prop_assert!(b.capacity() >= n);
                prop_assert!(b.is_empty());
                prop_assert!(pool.bytes() <= held);
            }
            prop_assert!(pool.bytes() <= POOL_BYTES);
        }
    }
}
