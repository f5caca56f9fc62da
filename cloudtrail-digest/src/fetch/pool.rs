//! One bounded executor: runs a function over a list of items on a fixed number of
//! threads, each taking the next item as it frees up, and returns the results in item
//! order, so output never depends on the number of threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The processors this process may use (one when that cannot be told).
pub(crate) fn processors() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `f` over `items` on up to `jobs` threads; results in item order.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let never = AtomicBool::new(false);
    let results: Result<Vec<Option<R>>, std::convert::Infallible> =
        try_map(items, jobs, &never, |i| Ok(f(i)));
    match results {
        Ok(all) => all.into_iter().map(|r| r.expect("every item runs")).collect(),
        Err(never) => match never {},
    }
}

/// Runs `f` over `items` on up to `jobs` threads until one fails or `stop` is set (by
/// anyone, at any time): no item starts after that. Returns the first failure, or the
/// results in item order with `None` for items that did not run.
pub(crate) fn try_map<T: Sync, R: Send, E: Send>(
    items: &[T],
    jobs: usize,
    stop: &AtomicBool,
    f: impl Fn(&T) -> Result<R, E> + Sync,
) -> Result<Vec<Option<R>>, E> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let failure: Mutex<Option<E>> = Mutex::new(None);
    let work = || loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some(item) = items.get(i) else { return };
        match f(item) {
            Ok(r) => results.lock().expect("results lock")[i] = Some(r),
            Err(e) => {
                failure.lock().expect("failure lock").get_or_insert(e);
                stop.store(true, Ordering::SeqCst);
            }
        }
    };
    let threads = jobs.clamp(1, items.len().max(1));
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    if let Some(e) = failure.into_inner().expect("failure lock") {
        return Err(e);
    }
    Ok(results.into_inner().expect("results lock"))
}

/// Runs `f` over `items` on up to `jobs` threads and hands each result to `take` on the
/// calling thread, in item order, as soon as it and every earlier one are done. At most
/// `ahead` results wait to be taken (workers pause beyond that), so memory is bounded by
/// `ahead` results whatever the number of items.
///
/// A thread is woken only when it has something to do (the taker when the result it
/// waits for is in, a worker when there is room again), and the taker takes every
/// result that is ready at once. A taker with little to do per result still waits for
/// nearly every one: where nothing has to be handed over before the end, [`map`] costs
/// no wake-up at all.
pub(crate) fn for_each_in_order<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    ahead: usize,
    f: impl Fn(&T) -> R + Sync,
    mut take: impl FnMut(usize, R),
) {
    let threads = jobs.clamp(1, items.len().max(1));
    if threads == 1 {
        for (i, item) in items.iter().enumerate() {
            take(i, f(item));
        }
        return;
    }
    let ahead = ahead.max(threads);
    let state = Mutex::new(InOrder {
        done: std::collections::BTreeMap::new(),
        next: 0,
        taker_waits: false,
        workers_wait: 0,
    });
    let (ready, room) = (std::sync::Condvar::new(), std::sync::Condvar::new());
    let claimed = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = claimed.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { return };
                {
                    let mut st = state.lock().expect("pool state");
                    while i >= st.next + ahead {
                        st.workers_wait += 1;
                        st = room.wait(st).expect("pool state");
                        st.workers_wait -= 1;
                    }
                }
                let r = f(item);
                let mut st = state.lock().expect("pool state");
                st.done.insert(i, r);
                if st.taker_waits && i == st.next {
                    drop(st);
                    ready.notify_one();
                }
            });
        }
        let mut batch = Vec::new();
        let mut i = 0;
        while i < items.len() {
            {
                let mut st = state.lock().expect("pool state");
                // Everything before `i` is taken: room for any worker waiting for it.
                st.next = i;
                if st.workers_wait > 0 {
                    room.notify_all();
                }
                loop {
                    while let Some(r) = st.done.remove(&(i + batch.len())) {
                        batch.push(r);
                    }
                    if !batch.is_empty() {
                        break;
                    }
                    st.taker_waits = true;
                    st = ready.wait(st).expect("pool state");
                    st.taker_waits = false;
                }
            }
            for r in batch.drain(..) {
                take(i, r);
                i += 1;
            }
        }
    });
}

/// What [`for_each_in_order`]'s threads share: results done and not yet taken, the
/// index of the next one to take, and who is waiting.
struct InOrder<R> {
    done: std::collections::BTreeMap<usize, R>,
    next: usize,
    taker_waits: bool,
    workers_wait: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_for_any_thread_count_with_bounded_waiting() {
        let items: Vec<u32> = (0..500).collect();
        for (jobs, ahead) in [(1, 1), (3, 1), (4, 8), (8, 64)] {
            let waiting = AtomicUsize::new(0);
            let most = AtomicUsize::new(0);
            let mut got = Vec::new();
            for_each_in_order(
                &items,
                jobs,
                ahead,
                |i| {
                    let now = waiting.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    i * 2
                },
                |i, r| {
                    waiting.fetch_sub(1, Ordering::SeqCst);
                    got.push((i, r));
                },
            );
            let want: Vec<(usize, u32)> = items.iter().map(|i| (*i as usize, i * 2)).collect();
            assert_eq!(got, want);
            // Done-but-untaken results never exceed the bound (plus the ones in hand).
            assert!(
                most.load(Ordering::SeqCst) <= ahead.max(jobs) + jobs,
                "jobs {jobs}"
            );
        }
    }

    #[test]
    fn uneven_items_never_leave_the_threads_waiting_on_each_other() {
        // Items of uneven length, so workers finish out of order, block on the bound
        // and wait while the taker is busy: any lost wake-up hangs this test.
        let items: Vec<u64> = (0..20_000).collect();
        for (jobs, ahead) in [(2, 1), (2, 2), (3, 2), (4, 4), (4, 64)] {
            let mut sum = 0u64;
            let mut expected = 0usize;
            for_each_in_order(
                &items,
                jobs,
                ahead,
                |i| {
                    if i % 97 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(50));
                    }
                    (0..(i % 13) * 50).fold(*i, |a, b| a.wrapping_mul(31).wrapping_add(b))
                },
                |i, r| {
                    assert_eq!(i, expected);
                    expected += 1;
                    sum = sum.wrapping_add(r);
                    if i % 101 == 0 {
                        std::thread::yield_now();
                    }
                },
            );
            assert_eq!(expected, items.len(), "jobs {jobs} ahead {ahead}");
        }
    }

    #[test]
    fn results_come_in_item_order_for_any_thread_count() {
        let items: Vec<u32> = (0..100).collect();
        for jobs in [1, 3, 8] {
            assert_eq!(
                map(&items, jobs, |i| i * 2),
                items.iter().map(|i| i * 2).collect::<Vec<_>>()
            );
        }
        assert!(map(&[] as &[u32], 4, |i| *i).is_empty());
    }

    #[test]
    fn a_failure_stops_new_items_and_is_returned() {
        let items: Vec<u32> = (0..1000).collect();
        let ran = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let out = try_map(&items, 1, &stop, |i| {
            ran.fetch_add(1, Ordering::SeqCst);
            if *i == 10 {
                Err(*i)
            } else {
                Ok(*i)
            }
        });
        assert_eq!(out, Err(10));
        assert_eq!(ran.load(Ordering::SeqCst), 11);
        let stop = AtomicBool::new(true);
        let out = try_map(&items, 2, &stop, |i| Ok::<_, ()>(*i)).unwrap();
        assert!(out.iter().all(Option::is_none));
    }
}
